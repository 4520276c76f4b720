"""The reference HR system (examples/hr-system, issue 12) against a whole campaign: started
after the notice is published, it reads the replayable log from its first event and
reaches the notices' decided list; the legal-registration fact it then publishes changes
a verdict (四(二)2), which the correction notice and its table follow; a fact about an
institution that is not filed is refused, and the refusal is told to it on the log."""
import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tests import factories
from tests.e2e import flow
from tests.support import ROOT, Cluster, wait_for
from shared.language.outcomes import COHORTS

pytestmark = pytest.mark.e2e

CITY, OPERATOR = "140400", "city-140400"
PROGRAM = os.path.join(ROOT, "examples", "hr-system", "hr_system.py")
SOURCE = "/hr/legal-registry/reference"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """A campaign run to its results notice before the HR system first starts."""
    tmp = tmp_path_factory.mktemp("hr")
    cluster = Cluster().create()
    try:
        cluster.start().open_campaign()
        rows = [factories.institution(7000 + n, cohort=cohort, city=CITY)
                for n, cohort in enumerate(COHORTS * 2)]
        scores = dict(zip((r.uscc for r in rows), (90, 85, 72, 50)))
        flow.clock(cluster, "2023-08-28")
        flow.file(cluster, tmp, rows)
        flow.self_assess(cluster, tmp, rows, OPERATOR)
        flow.clock(cluster, "2023-09-20")
        flow.score(cluster, tmp, scores, OPERATOR)
        for row in rows:
            flow.verdict(cluster, row.uscc)
        flow.clock(cluster, "2023-10-31")
        cluster.cli_json("publish", "notice", "--out", str(tmp / "portal"))
        yield {"cluster": cluster, "rows": rows, "tmp": tmp}
    finally:
        cluster.destroy()


def hr(campaign, *args):
    cluster = campaign["cluster"]
    env = dict(os.environ, HR_AMQP_URI=cluster.amqp_uri("hr-legal"),
               HR_DB=str(campaign["tmp"] / "hr.sqlite3"), HR_SOURCE=SOURCE)
    result = subprocess.run([sys.executable, PROGRAM, *args], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def table(campaign):
    rows = [json.loads(line) for line in hr(campaign, "status").splitlines()]
    return {r["uscc"]: (r["outcome"], r["class"], json.loads(r["clauses"]), r["notice"])
            for r in rows if r["outcome"]}


def decided(campaign):
    """The notices' decided list as the portal serves it (published rows only)."""
    url = f"http://127.0.0.1:{campaign['cluster'].http_port}/api/decided"
    with urllib.request.urlopen(url, timeout=10) as response:
        cases = json.loads(response.read())["cases"]
    return {c["uscc"]: (c["outcome"], c["class"], c["clauses"], c["notice"]) for c in cases}


def test_the_hr_system_reads_the_whole_history_and_its_fact_changes_a_verdict(campaign):
    cluster, rows = campaign["cluster"], campaign["rows"]
    out = hr(campaign, "sync")
    assert out.startswith("read ") and int(out.split()[1]) > 20, out
    expected = decided(campaign)
    assert len(expected) == len(rows)
    assert table(campaign) == expected
    filed = [json.loads(line) for line in hr(campaign, "status").splitlines()]
    assert {r["uscc"] for r in filed} == {r.uscc for r in rows}

    # 四(二)2: the registration has expired; 正常评价 becomes 暂停评价活动 (2021 cohort).
    passed = rows[1].uscc
    assert expected[passed][0] == "正常评价"
    hr(campaign, "publish-legal", passed, "expired", "--reported-on", "2023-10-31",
       "--valid-until", "2023-06-30")
    flow.verdict(cluster, passed, "暂停评价活动")
    cluster.cli_json("publish", "notice", "--out", str(campaign["tmp"] / "portal2"))

    # Read on from where it stopped: the correction is in the table as in the list.
    out = hr(campaign, "sync")
    assert int(out.split()[1]) > 0, out
    now = decided(campaign)
    assert now[passed][:2] == ("暂停评价活动", "rectify") and now[passed][3] != expected[passed][3]
    assert table(campaign) == now


def test_a_refused_fact_is_answered_on_the_log(campaign):
    unfiled = factories.institution(7090, cohort=2021, city=CITY).uscc
    refused_id = hr(campaign, "publish-legal", unfiled, "valid", "--reported-on",
                    "2023-10-31").strip()

    def answered():
        hr(campaign, "sync")
        return [json.loads(line) for line in hr(campaign, "refusals").splitlines()
                if json.loads(line)["refused_id"] == refused_id]
    (refusal,) = wait_for(answered, timeout=30, what="the refusal on the log")
    assert f"institution {unfiled} is not filed" in refusal["reason"]
    assert refusal["type"] == "pinggu.external.LegalRegistration.v1"
