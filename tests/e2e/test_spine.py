"""One case end to end through the four services as real processes (issue 2)."""
import datetime

import pytest

from tests import factories
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def test_a_2021_institution_scored_72_is_suspended_with_a_two_month_deadline(cluster, tmp_path):
    row = factories.institution(1, cohort=2021, city="140100")
    cluster.cli("clock", "set", "2023-10-31", operator="province", check=True)
    cluster.cli("roster", "import", factories.roster(tmp_path / "roster.xlsx", [row]),
                operator="province", check=True)
    wait_for(lambda: cluster.cli_json("case", "show", row.uscc)["status"] == "filed",
             what="the case to be filed")
    sheet = factories.score_sheet(tmp_path / "scores.xlsx", {row.uscc: 72})
    # Evaluation learns of the filing from the registry's event; until it has, the
    # institution is unknown to it and the sheet is refused as a whole.
    wait_for(lambda: cluster.cli("submit", "score-sheet", sheet, operator="city-140100")[0] == 0,
             what="the score sheet to be accepted")

    case = wait_for(lambda: (c := cluster.cli_json("case", "show", row.uscc))["outcome"] and c,
                    what="a verdict")
    assert case["outcome"] == "暂停评价活动"
    assert case["clauses"] == ["四(二)3"]
    assert case["deadline"] == "2023-12-31"
    assert case["status"] == "rectifying"
    assert case["cohort"] == 2021 and case["in_scope"] is True

    listed = wait_for(lambda: [c for c in cluster.cli_json("decided") if c["uscc"] == row.uscc],
                      what="notices to list the case")
    assert listed[0]["outcome"] == "暂停评价活动"
    assert listed[0]["deadline"] == "2023-12-31"

    import json
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{cluster.http_port}/api/decided") as resp:
        served = json.load(resp)["cases"]
    assert [c["outcome"] for c in served if c["uscc"] == row.uscc] == ["暂停评价活动"]


def test_the_deadline_is_two_calendar_months_after_the_business_date(cluster, tmp_path):
    row = factories.institution(2, cohort=2021, city="140200")
    cluster.cli("clock", "set", "2023-12-31", operator="province", check=True)
    cluster.cli("roster", "import", factories.roster(tmp_path / "roster.xlsx", [row]),
                operator="province", check=True)
    sheet = factories.score_sheet(tmp_path / "scores.xlsx", {row.uscc: 65})
    wait_for(lambda: cluster.cli("submit", "score-sheet", sheet, operator="city-140200")[0] == 0,
             what="the score sheet to be accepted")
    case = wait_for(lambda: (c := cluster.cli_json("case", "show", row.uscc))["outcome"] and c,
                    what="a verdict")
    assert case["deadline"] == "2024-02-29"  # month-end safe


def test_a_2020_institution_failing_is_terminated_and_passing_is_renewed(cluster, tmp_path):
    failing = factories.institution(3, cohort=2020, city="140300")
    passing = factories.institution(4, cohort=2020, city="140300")
    cluster.cli("clock", "set", "2023-10-31", operator="province", check=True)
    cluster.cli("roster", "import", factories.roster(tmp_path / "r.xlsx", [failing, passing]),
                operator="province", check=True)
    sheet = factories.score_sheet(tmp_path / "s.xlsx", {failing.uscc: 59.5, passing.uscc: 80})
    wait_for(lambda: cluster.cli("submit", "score-sheet", sheet, operator="city-140300")[0] == 0,
             what="the score sheet to be accepted")
    fail = wait_for(lambda: (c := cluster.cli_json("case", "show", failing.uscc))["outcome"] and c,
                    what="a verdict")
    ok = wait_for(lambda: (c := cluster.cli_json("case", "show", passing.uscc))["outcome"] and c,
                  what="a verdict")
    assert (fail["outcome"], fail["clauses"], fail["deadline"]) == ("终止备案", ["四(一)7"], None)
    assert (ok["outcome"], ok["clauses"], ok["deadline"]) == ("同意延续备案", [], None)


def test_scoring_another_citys_institution_is_refused_and_records_nothing(cluster, tmp_path):
    row = factories.institution(5, cohort=2021, city="140400")
    cluster.cli("roster", "import", factories.roster(tmp_path / "r.xlsx", [row]),
                operator="province", check=True)
    wait_for(lambda: cluster.cli_json("case", "show", row.uscc)["status"] == "filed",
             what="the case to be filed")
    sheet = factories.score_sheet(tmp_path / "s.xlsx", {row.uscc: 90})
    rc, out, err = cluster.cli("submit", "score-sheet", sheet, operator="city-140100")
    assert rc == 2
    assert "属地管理" in err
    assert cluster.cli_json("case", "show", row.uscc)["score"] is None


def test_a_command_without_an_operator_or_with_a_forged_identity_is_refused(cluster, tmp_path):
    rc, out, err = cluster.cli("clock", "show")
    assert rc == 2 and "operator" in err
    rc, out, err = cluster.cli("clock", "show", operator="nobody")
    assert rc == 2 and "unknown operator" in err
    env_secret = cluster.env.get("PINGGU_OPERATOR_SECRET")
    cluster.env["PINGGU_OPERATOR_SECRET"] = "not-the-cluster-secret"
    try:
        rc, out, err = cluster.cli("clock", "show", operator="province")
    finally:
        if env_secret is None:
            cluster.env.pop("PINGGU_OPERATOR_SECRET")
        else:
            cluster.env["PINGGU_OPERATOR_SECRET"] = env_secret
    assert rc == 2 and "forged" in err
