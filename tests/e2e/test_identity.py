"""Operators' own credentials and idempotent commands, through the CLI on a real cluster
(issue 10 item 1, issue 11 first bullet; docs/identity.md)."""
import json
import os
import shutil
import stat

import pytest

from shared import upload
from tests import factories
from tests.e2e import flow

pytestmark = pytest.mark.e2e


def registry_events(cluster):
    return cluster.sql("SELECT count(*) FROM registry.registry_events")[0][0]


def holding(cluster, tmp_path, *operators):
    """A credentials directory holding only these of the cluster's dev credentials."""
    held = tmp_path / "held"
    held.mkdir(exist_ok=True)
    for op in operators:
        shutil.copy(os.path.join(cluster.env["PINGGU_CREDENTIALS"], f"{op}.json"), held)
    return str(held)


def cli_with(cluster, credentials, *args, operator):
    saved = cluster.env["PINGGU_CREDENTIALS"]
    cluster.env["PINGGU_CREDENTIALS"] = credentials
    try:
        return cluster.cli(*args, operator=operator)
    finally:
        cluster.env["PINGGU_CREDENTIALS"] = saved


def logged_refusals(cluster, service):
    with open(os.path.join(cluster.logdir, f"{service}.log"), encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.startswith("{")]
    return [line for line in lines if line.get("event") == "command.refused"]


def test_a_citys_credential_cannot_act_for_another_city_or_as_province(cluster, tmp_path):
    row = factories.institution(7101, cohort=2021, city="140100")
    flow.file(cluster, tmp_path, [row])
    held = holding(cluster, tmp_path, "city-140200")
    # --operator chooses among one's own credentials only.
    rc, out, err = cli_with(cluster, held, "campaign", "open", operator="province")
    assert rc == 2 and "no credential of operator 'province'" in err
    # A copy of the credential renamed and relabelled province is still city-140200's key.
    with open(os.path.join(held, "city-140200.json")) as f:
        credential = json.load(f)
    credential.update(operator="province", role="province", jurisdiction="140000")
    with open(os.path.join(held, "province.json"), "w") as f:
        json.dump(credential, f)
    rc, out, err = cli_with(cluster, held, "campaign", "open", operator="province")
    assert rc == 2 and "credential of city-140200 used as province" in err
    assert any(r.get("credential") == "city-140200" and r.get("method") == "open_campaign"
               for r in logged_refusals(cluster, "evaluation"))
    # Its own identity, for another city's institution: 属地管理.
    sheet = factories.score_sheet(tmp_path / "s.xlsx", {row.uscc: 90})
    rc, out, err = cli_with(cluster, held, "submit", "score-sheet", sheet,
                            operator="city-140200")
    assert rc == 2 and "属地管理" in err
    assert any(r.get("operator") == "city-140200" and r.get("rule") == "属地管理"
               for r in logged_refusals(cluster, "evaluation"))
    assert cluster.cli_json("case", "show", row.uscc)["score"] is None


@pytest.fixture
def province(cluster):
    """The CLI's RPC client in this process, with the cluster's province credential."""
    from services.cli import Cluster
    with Cluster(cluster.config(), "province") as client:
        yield client


def test_a_replayed_token_has_no_second_effect_and_binds_its_call(cluster, tmp_path,
                                                                   province):
    from nameko.exceptions import RemoteError
    file = upload.encode(factories.roster(tmp_path / "r.xlsx",
                                          [factories.institution(7111)]))
    token = province.token("registry", "import_roster", (file,))
    first = province.rpc.registry.import_roster(token, file)
    assert first == {"filed": 1, "changed": 0, "unchanged": 0}
    written = registry_events(cluster)
    assert province.rpc.registry.import_roster(token, file) == first  # replayed
    assert registry_events(cluster) == written
    other = upload.encode(factories.roster(tmp_path / "o.xlsx",
                                           [factories.institution(7112)]))
    for call in (lambda: province.rpc.registry.import_roster(token, other),
                 lambda: province.rpc.registry.report_activity(token, file),
                 lambda: province.rpc.evaluation.open_campaign(token, None)):
        with pytest.raises(RemoteError) as refused:
            call()
        assert refused.value.exc_type == "Refused"
    assert registry_events(cluster) == written


def test_a_command_repeated_with_its_id_has_one_effect(cluster, tmp_path):
    rows = [factories.institution(7121), factories.institution(7122)]
    roster = factories.roster(tmp_path / "r.xlsx", rows)
    first = cluster.cli_json("roster", "import", roster, "--command-id", "import-7121")
    written = registry_events(cluster)
    again = cluster.cli_json("roster", "import", roster, "--command-id", "import-7121")
    assert again == first == {"filed": 2, "changed": 0, "unchanged": 0}
    assert registry_events(cluster) == written
    other = factories.roster(tmp_path / "o.xlsx", rows[:1])
    rc, out, err = cluster.cli("roster", "import", other, "--command-id", "import-7121",
                               operator="province")
    assert rc == 2 and "idempotency" in err
    assert registry_events(cluster) == written
    history = cluster.cli_json("case", "history", rows[0].uscc)
    filed = [e for e in history if e["type"] == "Institution.Filed"]
    assert [e["command_id"] for e in filed] == ["import-7121"]
    rc, out, err = cluster.cli("case", "history", rows[0].uscc, operator="auditor")
    assert "[command import-7121]" in out


def test_operators_are_added_rotated_and_revoked_from_the_next_call(cluster, tmp_path):
    mine = tmp_path / "mine"
    path = str(mine / "city-140300-li.json")
    entry = cluster.cli_json("operator", "add", "city-140300-li", "--role", "city",
                             "--jurisdiction", "140300", "--name", "李四", "--out", path)
    assert entry["authorised"]["by"] == "province"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    rc, out, err = cluster.cli("operator", "add", "city-140300-li", "--role", "city",
                               "--jurisdiction", "140300", "--out", path, operator="province")
    assert rc == 2  # the file is never overwritten, and the operator exists
    assert cli_with(cluster, str(mine), "institutions", "--jurisdiction", "140300",
                    operator="city-140300-li")[0] == 0
    # Only the province manages the directory.
    rc, out, err = cluster.cli("operator", "revoke", "city-140300-li", "--reason", "x",
                               operator="city-140300")
    assert rc == 2 and "role" in err
    # Rotation: the old key stops working at once, the new one works.
    old = str(tmp_path / "old")
    os.makedirs(old)
    shutil.copy(path, old)
    cluster.cli_json("operator", "rotate", "city-140300-li", "--out", path)
    rc, out, err = cli_with(cluster, old, "institutions", operator="city-140300-li")
    assert rc == 2 and "key replaced" in err
    assert cli_with(cluster, str(mine), "institutions", operator="city-140300-li")[0] == 0
    # Revocation: refused on the very next call, by every service.
    cluster.cli_json("operator", "revoke", "city-140300-li", "--reason", "调离岗位")
    for args in (("institutions",), ("clock", "show"), ("campaign", "status"),
                 ("decided",)):
        rc, out, err = cli_with(cluster, str(mine), *args, operator="city-140300-li")
        assert rc == 2 and "revoked" in err, (args, err)
    listed = {e["id"]: e for e in cluster.cli_json("operator", "list")}
    assert listed["city-140300-li"]["revoked"]["reason"] == "调离岗位"
    assert listed["city-140300-li"]["revoked"]["by"] == "province"
    assert len(listed["city-140300-li"]["keys"]) == 2
    assert {"province", "city-140100", "auditor"} <= set(listed)
    assert cluster.cli_json("operator", "list", "--as-of", "2000-01-01") == []


def test_concurrent_duplicates_of_a_command_have_one_effect(cluster, tmp_path, province):
    """As when the broker redelivers an RPC while its first delivery still runs."""
    import threading
    from services.cli import Cluster
    rows = [factories.institution(n) for n in range(7131, 7141)]
    file = upload.encode(factories.roster(tmp_path / "r.xlsx", rows))
    token = province.token("registry", "import_roster", (file,))
    before = registry_events(cluster)
    results, barrier = [], threading.Barrier(3)

    def send():
        with Cluster(cluster.config(), "province") as own:  # a proxy per thread
            own.rpc.registry.health()
            barrier.wait()
            results.append(own.rpc.registry.import_roster(token, file))
    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results == [{"filed": 10, "changed": 0, "unchanged": 0}] * 3
    assert registry_events(cluster) == before + 11  # ten filings and one journal entry
