"""The registry end to end (issue 3): the sample province's roster and its counts, re-import
and changed rows, rosters refused for one bad cell, facts from other HR systems (xlsx and
CloudEvents on the bus). Institution numbers 1000-1999."""
import datetime
import json
import uuid

import openpyxl
import pytest

from shared.application import case_id
from tests import factories
from tests.e2e import flow
from kombu import Connection, Queue

from tests.support import Cluster, wait_for
from shared.language.outcomes import COHORTS

pytestmark = pytest.mark.e2e

CITY_CODES = [f"14{n:02d}00" for n in range(1, 12)]  # 140100 .. 141100


def publish(cluster, routing_key, body):
    """Publish as another provincial HR system would: as its own broker user."""
    cluster.publish("hr-legal", routing_key, body)


def queue_depth(cluster, name):
    with Connection(cluster.amqp_uri(name.split(".")[0])) as conn:
        return Queue(name, channel=conn.channel(), durable=True).queue_declare(
            passive=True).message_count


def registry_events(cluster, kind=None, uscc=None):
    # The filings' events: a command's journal entry (shared.commands) records no fact.
    sql = "SELECT count(*) FROM registry.registry_events WHERE topic NOT LIKE %s"
    params = ["%CommandJournal%"]
    if kind:
        sql += " AND topic LIKE %s"
        params.append(f"%{kind}")
    if uscc:
        sql += " AND originator_id = %s"
        params.append(str(case_id(uscc)))
    return cluster.sql(sql, tuple(params))[0][0]


# -- the sample province ---------------------------------------------------------------
@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """A cluster of the module's own (like `own_cluster`, but shared by the sample-province
    tests and on an HTTP port of its own, so that it can run beside the session cluster),
    started, the campaign opened, the sample province imported once."""
    c = Cluster().create()
    try:
        c.start().open_campaign()
        path = str(tmp_path_factory.mktemp("province") / "province.xlsx")
        out = c.cli_json("sample-province", "--out", path)
        assert (out["institutions"], out["in_scope"]) == (862, 507)
        first = c.cli_json("roster", "import", path)
        assert first == {"filed": 862, "changed": 0, "unchanged": 0}
        yield c, path
    finally:
        c.destroy()


def test_the_sample_province_has_the_notices_counts(province):
    cluster, _ = province
    everyone = cluster.cli_json("institutions")
    assert len(everyone) == 862
    assert len({i["uscc"] for i in everyone}) == 862

    in_scope = cluster.cli_json("institutions", "--in-scope")
    assert len(in_scope) == 507
    assert all(i["in_scope"] and i["cohort"] in COHORTS for i in in_scope)
    split = {}
    for i in in_scope:
        split[i["category"], i["level"]] = split.get((i["category"], i["level"]), 0) + 1
    assert split == {("enterprise", "municipal"): 74, ("enterprise", "provincial"): 30,
                     ("college", "municipal"): 66, ("college", "provincial"): 58,
                     ("social", "municipal"): 197, ("social", "provincial"): 82}

    assert len(cluster.cli_json("institutions", "--cohort", "2019")) == 40
    assert len(cluster.cli_json("institutions", "--cohort", "2022")) == 315
    assert all(not i["in_scope"] for i in cluster.cli_json("institutions", "--cohort", "2019"))

    by_city = 0
    for city in CITY_CODES:
        listed = cluster.cli_json("institutions", "--jurisdiction", city)
        assert listed, f"no institution in {city}"
        assert all(i["level"] == "municipal" and i["jurisdiction"] == city
                   and i["city"] == city for i in listed)
        by_city += len(listed)
    provincial = cluster.cli_json("institutions", "--jurisdiction", "140000")
    assert all(i["level"] == "provincial" for i in provincial)
    assert {i["uscc"] for i in provincial} == {
        i["uscc"] for i in everyone if i["level"] == "provincial"}
    assert all(i["jurisdiction"] == "140000" for i in everyone if i["level"] == "provincial")
    assert by_city + len(provincial) == 862


def test_reimporting_the_same_roster_records_nothing_and_a_changed_row_one_change(
        province, tmp_path):
    cluster, path = province
    before = registry_events(cluster)
    filed_before = registry_events(cluster, "Filed")

    rc, out, err = cluster.cli("roster", "import", path, operator="province")
    assert rc == 0, err
    assert "0 filed, 0 changed, 862 unchanged" in out
    assert registry_events(cluster) == before

    # One institution renamed and its filing extended, in a copy of the same file.
    changed_path = str(tmp_path / "province-changed.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    uscc = ws.cell(row=7, column=header.index("统一社会信用代码") + 1).value
    ws.cell(row=7, column=header.index("机构名称") + 1, value="改名后的职业技能培训中心")
    ws.cell(row=7, column=header.index("备案有效期至") + 1, value=datetime.date(2027, 12, 31))
    wb.save(changed_path)

    result = cluster.cli_json("roster", "import", changed_path)
    assert result == {"filed": 0, "changed": 1, "unchanged": 861}
    assert registry_events(cluster) == before + 1
    assert registry_events(cluster, "FilingChanged") == 1
    assert registry_events(cluster, "FilingChanged", uscc) == 1
    assert registry_events(cluster, "Filed") == filed_before
    assert len(cluster.cli_json("institutions")) == 862
    filing = cluster.cli_json("case", "show", uscc)["filing"]
    assert filing["name"] == "改名后的职业技能培训中心"
    assert filing["valid_until"] == "2027-12-31"


# -- rosters refused as a whole ----------------------------------------------------------
def _wrong_check(code):
    return code[:17] + ("0" if code[17] != "0" else "1")


def _bad_uscc(path, rows):
    return factories.set_cell(path, 3, "统一社会信用代码", _wrong_check(rows[1].uscc)), 3, \
        "统一社会信用代码", f"invalid USCC {_wrong_check(rows[1].uscc)}"


def _unknown_city(path, rows):
    return factories.set_cell(path, 3, "所属地市", "北京市"), 3, "所属地市", "北京市"


def _bad_date(path, rows):
    return factories.set_cell(path, 3, "公开发布日期", "2021-02-30"), 3, "公开发布日期", \
        "2021-02-30"


def _bad_scope(path, rows):
    return factories.set_cell(path, 3, "备案范围", "焊工:3,4,5"), 3, "备案范围", "焊工"


def _duplicate_uscc(path, rows):
    return factories.set_cell(path, 4, "统一社会信用代码", rows[0].uscc), 4, "统一社会信用代码", \
        f"duplicate USCC {rows[0].uscc}"


def _missing_column(path, rows):
    return factories.drop_column(path, "备案范围"), 1, "备案范围", "missing column"


def _municipal_without_city(path, rows):
    return factories.set_cell(path, 3, "所属地市", None), 3, "所属地市", "市级"


BAD_ROSTERS = {"invalid-uscc": _bad_uscc, "unknown-city": _unknown_city,
               "bad-date": _bad_date, "malformed-scope": _bad_scope,
               "duplicate-uscc": _duplicate_uscc, "missing-column": _missing_column,
               "municipal-without-city": _municipal_without_city}


@pytest.mark.parametrize("kind", list(BAD_ROSTERS))
def test_a_roster_with_one_bad_cell_is_refused_and_records_nothing(cluster, tmp_path, kind):
    base = 1100 + 10 * list(BAD_ROSTERS).index(kind)
    rows = [factories.institution(base + i, cohort=2021, city="140200") for i in range(3)]
    path = factories.roster(tmp_path / "bad.xlsx", rows)
    path, row, column, says = BAD_ROSTERS[kind](path, rows)
    before = registry_events(cluster)

    rc, out, err = cluster.cli("roster", "import", path, operator="province")
    assert rc == 2, (out, err)
    assert f"row {row}" in err and f"column {column}" in err, err
    assert "bad.xlsx" in err and says in err, err
    assert registry_events(cluster) == before
    for r in rows:
        rc, _, err = cluster.cli("case", "show", r.uscc, operator="province")
        assert rc == 2 and "no institution" in err


def test_the_roster_is_imported_by_the_department_only(cluster, tmp_path):
    rows = [factories.institution(1190, cohort=2021, city="140200")]
    before = registry_events(cluster)
    rc, out, err = cluster.cli("roster", "import", factories.roster(tmp_path / "r.xlsx", rows),
                               operator="city-140200")
    assert rc == 2 and "province" in err
    assert registry_events(cluster) == before


# -- facts from other HR systems ---------------------------------------------------------
def test_legal_status_and_activity_reported_as_xlsx_are_recorded(cluster, tmp_path):
    row = factories.institution(1500, cohort=2020, city="140300")
    other = factories.institution(1501, cohort=2021, city="140300")
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, [row, other])

    legal = factories.legal_status(tmp_path / "legal.xlsx", [
        (row.uscc, "已过期", datetime.date(2023, 6, 30), datetime.date(2023, 9, 1)),
        (other.uscc, "有效", None, "2023-09-01")])
    report = cluster.cli_json("report", "legal-status", legal)
    assert report == {"facts": 2, "recorded": 2}
    activity = factories.activity_report(tmp_path / "activity.xlsx", [
        (row.uscc, 2021, "6-18-02-04", 4, 36),
        (row.uscc, 2022, "6-18-02-04", 3, 12),
        (row.uscc, 2022, "6-18-02-04", 4, 20)])
    assert cluster.cli_json("report", "activity", activity) == {"facts": 2, "recorded": 1}

    filing = cluster.cli_json("case", "show", row.uscc)["filing"]
    assert filing["legal_status"] == {"status": "expired", "legal_valid_until": "2023-06-30",
                                      "reported_on": "2023-09-01", "source": "xlsx:province"}
    assert filing["activity"] == {
        "2021": [{"occupation": "6-18-02-04", "level": 4, "certified": 36}],
        "2022": [{"occupation": "6-18-02-04", "level": 3, "certified": 12},
                 {"occupation": "6-18-02-04", "level": 4, "certified": 20}]}
    assert cluster.cli_json("case", "show", other.uscc)["filing"]["legal_status"]["status"] \
        == "valid"

    # The same facts again: nothing new.
    before = registry_events(cluster)
    assert cluster.cli_json("report", "legal-status", legal) == {"facts": 2, "recorded": 0}
    assert cluster.cli_json("report", "activity", activity) == {"facts": 2, "recorded": 0}
    assert registry_events(cluster) == before


def test_a_fact_file_is_refused_as_a_whole(cluster, tmp_path):
    row = factories.institution(1510, cohort=2021, city="140300")
    flow.file(cluster, tmp_path, [row])
    unfiled = factories.institution(1511, cohort=2021, city="140300")
    before = registry_events(cluster)
    bad_status = factories.legal_status(tmp_path / "legal.xlsx", [
        (row.uscc, "有效", None, "2023-09-01"), (unfiled.uscc, "吊销", None, "2023-09-01")])
    rc, out, err = cluster.cli("report", "legal-status", bad_status, operator="province")
    assert rc == 2 and "row 3" in err and "column 登记状态" in err, err
    not_filed = factories.legal_status(tmp_path / "legal2.xlsx", [
        (row.uscc, "有效", None, "2023-09-01"), (unfiled.uscc, "有效", None, "2023-09-01")])
    rc, out, err = cluster.cli("report", "legal-status", not_filed, operator="province")
    assert rc == 2 and unfiled.uscc in err, err
    rc, out, err = cluster.cli("report", "legal-status", not_filed, operator="city-140300")
    assert rc == 2, err
    assert registry_events(cluster) == before
    assert cluster.cli_json("case", "show", row.uscc)["filing"]["legal_status"] is None


def _legal_event(uscc, sequence, status="expired", source="/hr/legal-registry"):
    return json.dumps({
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
        "type": "pinggu.external.LegalRegistration.v1", "sequence": str(sequence),
        "datacontenttype": "application/json",
        "data": {"uscc": uscc, "status": status, "legal_valid_until": "2023-06-30",
                 "reported_on": "2023-09-01"}}, ensure_ascii=False)


def test_legal_status_published_on_the_bus_is_recorded_once(cluster, tmp_path):
    row = factories.institution(1520, cohort=2021, city="140300")
    marker = factories.institution(1521, cohort=2021, city="140300")
    flow.file(cluster, tmp_path, [row, marker])
    # A source of its own, so that this test's sequence numbers are not another's.
    source = f"/hr/legal-registry/{uuid.uuid4().hex[:8]}"
    event = _legal_event(row.uscc, 1, source=source)
    publish(cluster, "external.LegalRegistration", event)
    publish(cluster, "external.LegalRegistration", event)

    def recorded():
        return cluster.cli_json("case", "show", row.uscc)["filing"]["legal_status"]
    status = wait_for(recorded, what="the legal status from the bus")
    assert status == {"status": "expired", "legal_valid_until": "2023-06-30",
                      "reported_on": "2023-09-01", "source": source}

    # The registry learns otherwise from a file; then the bus redelivers the old event
    # (same source and sequence): it must have no effect.
    legal = factories.legal_status(tmp_path / "legal.xlsx",
                                   [(row.uscc, "有效", "2028-06-30", "2023-09-05")])
    assert cluster.cli_json("report", "legal-status", legal)["recorded"] == 1
    publish(cluster, "external.LegalRegistration", event)
    # Then, from another system, its own sequence 1, and activity from a third: each
    # source's sequence is its own, so both are recorded (and tell that the redelivery
    # before them has been consumed).
    other_source = source + "-other"
    publish(cluster, "external.LegalRegistration",
            _legal_event(marker.uscc, 1, source=other_source))
    publish(cluster, "external.CertificationActivity", json.dumps({
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": source + "-activity",
        "type": "pinggu.external.CertificationActivity.v1", "sequence": "1",
        "data": {"uscc": marker.uscc, "year": 2022,
                 "rows": [{"occupation": "6-18-02-04", "level": 4, "certified": 9}]}}))
    marked = wait_for(lambda: (f := cluster.cli_json("case", "show", marker.uscc)["filing"])
                      ["legal_status"] and f["activity"] and f, what="the marker events")
    assert marked["legal_status"]["source"] == other_source
    assert marked["activity"] == {"2022": [{"occupation": "6-18-02-04", "level": 4,
                                            "certified": 9}]}
    wait_for(lambda: queue_depth(cluster, "registry.inbox") == 0, what="an empty inbox")

    assert registry_events(cluster, "LegalStatusReported", row.uscc) == 2  # bus once, file once
    assert recorded()["status"] == "valid"
    assert recorded()["source"] == "xlsx:province"
    assert queue_depth(cluster, "registry.dead-letter") == 0
