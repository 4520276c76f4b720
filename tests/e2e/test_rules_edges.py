"""Rules at the edges, end to end (issue 17): one campaign whose clock runs past a lapsed
registration, a rectification period, and a finding after a rectified case was closed.

- a case passed, then lapsed after an earlier deadline, gets a new deadline two months
  from the lapse;
- a renewed (rectified) case receiving a 四(一)5 finding becomes 终止备案;
- a registration lapsing mid-campaign changes the verdict on the first business date
  after the lapse, with no other event;
- a rectification dated before the decision is refused, naming the cell.
"""
import datetime
import time

import pytest

from tests import factories
from tests.e2e import flow

pytestmark = pytest.mark.e2e

CITY = "140600"
OPERATOR = f"city-{CITY}"
D = datetime.date


def outcome(cluster, uscc):
    case = cluster.cli_json("case", "show", uscc)
    return case["outcome"], case["clauses"], case["deadline"]


def test_rules_at_the_edges(own_cluster, tmp_path):
    cluster = own_cluster.start().open_campaign()
    passed_then_lapsed = factories.institution(5001, city=CITY, legal_valid_until=D(2023, 11, 30))
    renewed = factories.institution(5002, city=CITY)
    lapsing = factories.institution(5003, city=CITY, legal_valid_until=D(2023, 9, 25))
    early_report = factories.institution(5004, city=CITY)
    rows = [passed_then_lapsed, renewed, lapsing, early_report]
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, rows)
    flow.self_assess(cluster, tmp_path, rows, OPERATOR)
    flow.clock(cluster, "2023-09-20")
    flow.score(cluster, tmp_path, {passed_then_lapsed.uscc: 72, renewed.uscc: 72,
                                   lapsing.uscc: 85, early_report.uscc: 72}, OPERATOR)
    flow.verdict(cluster, passed_then_lapsed.uscc, "暂停评价活动")
    assert outcome(cluster, passed_then_lapsed.uscc)[2] == "2023-11-20"
    flow.verdict(cluster, lapsing.uscc, "正常评价")

    # The score was wrong: revised to 85 on 09-25, the case passes.
    flow.clock(cluster, "2023-09-25")
    flow.score(cluster, tmp_path, {passed_then_lapsed.uscc: 85}, OPERATOR, name="revised.xlsx")
    flow.verdict(cluster, passed_then_lapsed.uscc, "正常评价")
    time.sleep(3)  # a few sweeps on 09-25, the registration's last valid day
    assert outcome(cluster, lapsing.uscc) == ("正常评价", [], None)

    # 09-26: the registration has lapsed; nothing is sent, the sweep alone decides.
    flow.clock(cluster, "2023-09-26")
    assert flow.verdict(cluster, lapsing.uscc, "暂停评价活动")["deadline"] == "2023-11-26"
    explained = cluster.cli_json("case", "explain", lapsing.uscc)
    assert explained["verdicts"][-1]["decided_on"] == "2023-09-26"
    assert explained["verdicts"][-1]["clauses"] == ["四(二)2"]
    # ... and explain names the readings and the campaign settings that applied.
    assert explained["readings"]["self_assessment_due"]["applied"] == "2023-08-31"
    assert any("campaign setting beyond_scope" in line for line in explained["reading_lines"])

    # A rectification dated before the decision that opened its period is refused.
    flow.clock(cluster, "2023-10-10")
    rc, out, err = cluster.cli("submit", "rectification", factories.rectification(
        tmp_path / "early.xlsx", [(early_report.uscc, "整改报告", D(2023, 9, 1))]),
        operator=OPERATOR)
    assert rc == 2, (out, err)
    assert "early.xlsx" in err and "row 2" in err and "column 提交日期" in err, err

    # Rectified in time and re-scored: 恢复评价活动; then a 四(一)5 finding terminates it.
    flow.clock(cluster, "2023-11-10")
    flow.submit(cluster, "rectification", factories.rectification(
        tmp_path / "rect.xlsx", [(renewed.uscc, "已整改", D(2023, 11, 8))]), OPERATOR)
    flow.score(cluster, tmp_path, {renewed.uscc: 88}, OPERATOR, name="rescore.xlsx")
    flow.verdict(cluster, renewed.uscc, "恢复评价活动")
    flow.submit(cluster, "findings", factories.findings(tmp_path / "findings.xlsx", [
        (renewed.uscc, "四(一)5", "11月考场组织替考，监控录像为证")]), OPERATOR)
    assert flow.verdict(cluster, renewed.uscc, "终止备案")["clauses"] == ["四(一)5"]

    # 12-01: the first case's registration lapsed on 11-30, after its first deadline
    # (11-20) had passed: two months from the lapse, not the old deadline.
    flow.clock(cluster, "2023-12-01")
    case = flow.verdict(cluster, passed_then_lapsed.uscc, "暂停评价活动")
    assert (case["clauses"], case["deadline"]) == (["四(二)2"], "2024-02-01")
    # The lapsing case had until 11-26 and rectified nothing: terminated.
    assert flow.verdict(cluster, lapsing.uscc, "终止备案")["clauses"] == ["四(二)"]
    flow.clock(cluster, "2023-12-02")
    time.sleep(3)
    assert outcome(cluster, passed_then_lapsed.uscc) == ("暂停评价活动", ["四(二)2"],
                                                         "2024-02-01")
