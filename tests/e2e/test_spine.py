"""One case end to end through the four services as real processes (issue 2)."""
import json
import urllib.request

import pytest

from tests import factories
from tests.e2e import flow

pytestmark = pytest.mark.e2e


def test_a_2021_institution_scored_72_is_suspended_with_a_two_month_deadline(cluster, tmp_path):
    row = factories.institution(1, cohort=2021, city="140100")
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, [row])
    flow.self_assess(cluster, tmp_path, [row], "city-140100")
    flow.clock(cluster, "2023-10-31")
    flow.score(cluster, tmp_path, {row.uscc: 72}, "city-140100")

    case = flow.verdict(cluster, row.uscc)
    assert case["outcome"] == "暂停评价活动"
    assert case["clauses"] == ["四(二)3"]
    assert case["deadline"] == "2023-12-31"
    assert case["status"] == "rectifying"
    assert case["cohort"] == 2021 and case["in_scope"] is True

    listed = flow.wait_for(lambda: [c for c in cluster.cli_json("decided")
                                    if c["uscc"] == row.uscc], what="notices to list the case")
    assert listed[0]["outcome"] == "暂停评价活动"
    assert listed[0]["deadline"] == "2023-12-31"
    # The public API serves only what a notice has published: not this case, yet.
    with urllib.request.urlopen(f"http://127.0.0.1:{cluster.http_port}/api/decided") as resp:
        served = json.load(resp)["cases"]
    assert [c for c in served if c["uscc"] == row.uscc] == []


def test_the_deadline_is_two_calendar_months_after_the_business_date(cluster, tmp_path):
    row = factories.institution(2, cohort=2021, city="140200")
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, [row])
    flow.self_assess(cluster, tmp_path, [row], "city-140200")
    flow.clock(cluster, "2023-12-31")
    flow.score(cluster, tmp_path, {row.uscc: 65}, "city-140200")
    assert flow.verdict(cluster, row.uscc)["deadline"] == "2024-02-29"  # month-end safe


def test_a_2020_institution_failing_is_terminated_and_passing_is_renewed(cluster, tmp_path):
    failing = factories.institution(3, cohort=2020, city="140300")
    passing = factories.institution(4, cohort=2020, city="140300")
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, [failing, passing])
    flow.self_assess(cluster, tmp_path, [failing, passing], "city-140300")
    flow.clock(cluster, "2023-09-20")
    flow.score(cluster, tmp_path, {failing.uscc: 59.5, passing.uscc: 80}, "city-140300")
    fail, ok = flow.verdict(cluster, failing.uscc), flow.verdict(cluster, passing.uscc)
    assert (fail["outcome"], fail["clauses"], fail["deadline"]) == ("终止备案", ["四(一)7"], None)
    assert (ok["outcome"], ok["clauses"], ok["deadline"]) == ("同意延续备案", [], None)


def test_scoring_another_citys_institution_is_refused_and_records_nothing(cluster, tmp_path):
    row = factories.institution(5, cohort=2021, city="140400")
    flow.file(cluster, tmp_path, [row])
    sheet = factories.score_sheet(tmp_path / "s.xlsx", {row.uscc: 90})
    rc, out, err = cluster.cli("submit", "score-sheet", sheet, operator="city-140100")
    assert rc == 2
    assert "属地管理" in err
    assert cluster.cli_json("case", "show", row.uscc)["score"] is None


def test_a_command_without_an_operator_or_with_a_forged_identity_is_refused(cluster,
                                                                            tmp_path):
    rc, out, err = cluster.cli("clock", "show")
    assert rc == 2 and "operator" in err
    rc, out, err = cluster.cli("clock", "show", operator="nobody")
    assert rc == 2 and "no credential of operator 'nobody'" in err
    # A key pair of one's own making, named province: not in the directory.
    from shared import operators, tokens
    operators.write_credential(str(tmp_path / "province.json"), "province", "province",
                               "140000", tokens.new_private_key())
    saved = cluster.env["PINGGU_CREDENTIALS"]
    cluster.env["PINGGU_CREDENTIALS"] = str(tmp_path)
    try:
        rc, out, err = cluster.cli("clock", "show", operator="province")
    finally:
        cluster.env["PINGGU_CREDENTIALS"] = saved
    assert rc == 2 and "unknown key" in err
