"""Every row of the notice's rules table, for each cohort, through the CLI on the running
services (issue 5): one campaign in which each institution meets one rule."""
import datetime

import pytest

from tests import factories
from tests.e2e import flow
from tests.support import wait_for
from shared.language.outcomes import COHORTS

pytestmark = pytest.mark.e2e

TERMINATED = "终止备案"
RECTIFY = {2020: "暂时不予延续备案", 2021: "暂停评价活动"}
PASS = {2020: "同意延续备案", 2021: "正常评价"}
AFTER_RECTIFICATION = {2020: "延续备案", 2021: "恢复评价活动"}
CITY = "140800"
OPERATOR = f"city-{CITY}"

LAPSING = ("lapsed",)

# name: (score or None, finding clause or None, how it self-assesses)
SCENARIOS = {
    "no_activity": (85, None, "inactive"),             # 四(一)1
    "false_materials": (85, "四(一)2", "active"),
    "beyond_scope_finding": (85, "四(一)3", "active"),
    "beyond_scope_derived": (85, None, "out_of_scope"),  # 四(一)3 from the activity itself
    "forged": (85, "四(一)4", "active"),
    "cheating": (85, "四(一)5", "active"),
    "certificates": (85, "四(一)6", "active"),
    "failed": (55, None, "active"),                    # 四(一)7
    "refused": (None, None, "none"),                   # 六(二)
    "excused": (85, None, "none"),
    "audit": (85, "四(二)1", "active"),
    "registration": (85, None, "active"),              # 四(二)2, reported expired
    "below_standard": (72, None, "active"),            # 四(二)3
    "passed": (85, None, "active"),
    "rectified": (72, None, "active"),                 # re-scored in time
    "lapsed": (72, None, "active"),                    # lets the deadline pass
    "late_finding": (85, None, "active"),              # a finding after the verdict
    "extended": (85, None, "active"),                  # filing expires in the campaign
}


def expected(name, cohort):
    return {
        "no_activity": (TERMINATED, ["四(一)1"]),
        "false_materials": (TERMINATED, ["四(一)2"]),
        "beyond_scope_finding": (TERMINATED, ["四(一)3"]),
        "beyond_scope_derived": (TERMINATED, ["四(一)3"]),
        "forged": (TERMINATED, ["四(一)4"]),
        "cheating": (TERMINATED, ["四(一)5"]),
        "certificates": (TERMINATED, ["四(一)6"]),
        "failed": (TERMINATED, ["四(一)7"]),
        "refused": (TERMINATED, ["六(二)"]),
        "excused": (PASS[cohort], []),
        "audit": (RECTIFY[cohort], ["四(二)1"]),
        "registration": (RECTIFY[cohort], ["四(二)2"]),
        "below_standard": (RECTIFY[cohort], ["四(二)3"]),
        "passed": (PASS[cohort], []),
        "rectified": (AFTER_RECTIFICATION[cohort], ["四(二)"]),
        "lapsed": (TERMINATED, ["四(二)"]),
        "late_finding": (TERMINATED, ["四(一)5"]),
        "extended": (PASS[cohort], []),
    }[name]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """Run the whole campaign once; the tests below read its outcome case by case."""
    from tests.support import Cluster
    tmp = tmp_path_factory.mktemp("rules")
    cluster = Cluster().create()
    try:
        cluster.start().open_campaign()
        rows = {}
        for cohort in COHORTS:
            for n, name in enumerate(SCENARIOS):
                valid_until = datetime.date(2023, 9, 15) if name == "extended" \
                    else datetime.date(2026, 5, 31)
                rows[(name, cohort)] = factories.institution(
                    3000 + 100 * (cohort - 2020) + n, cohort=cohort, city=CITY,
                    valid_until=valid_until)
        by = {key: row.uscc for key, row in rows.items()}
        flow.clock(cluster, "2023-08-28")
        flow.file(cluster, tmp, list(rows.values()))

        # 附件1, on time: the active ones in scope; one without activity; one with
        # certificates issued for an occupation it has not filed.
        active = [r for (name, _), r in rows.items() if SCENARIOS[name][2] != "none"]
        inactive = {r.uscc for (name, _), r in rows.items() if SCENARIOS[name][2] == "inactive"}
        path = factories.self_assessment(
            tmp / "sa.xlsx", [r for r in active if r.uscc not in inactive],
            extra_activity=[(by[("beyond_scope_derived", c)], 2022, "4-14-01-01", 3, 25)
                            for c in COHORTS])
        flow.submit(cluster, "self-assessment", path, OPERATOR)
        path = factories.self_assessment(tmp / "sa-inactive.xlsx", sorted(inactive), years=())
        flow.submit(cluster, "self-assessment", path, OPERATOR)
        for cohort in COHORTS:
            cluster.cli("excuse", by[("excused", cohort)], "--reason", "停业装修，已书面说明",
                        operator=OPERATOR, check=True)

        # 四(二)2 from another HR system: the legal registration has expired.
        import openpyxl
        wb = openpyxl.Workbook()
        wb.active.append(["统一社会信用代码", "登记状态", "法人登记有效期至", "报告日期"])
        for cohort in COHORTS:
            wb.active.append([by[("registration", cohort)], "已过期", datetime.date(2023, 6, 30),
                              datetime.date(2023, 9, 1)])
        wb.save(tmp / "legal.xlsx")
        cluster.cli("report", "legal-status", str(tmp / "legal.xlsx"), operator="province",
                    check=True)

        flow.clock(cluster, "2023-09-20")  # the self-assessment milestone has passed
        flow.score(cluster, tmp, {by[key]: SCENARIOS[key[0]][0] for key in by
                                  if SCENARIOS[key[0]][0] is not None}, OPERATOR)
        flow.submit(cluster, "findings", factories.findings(tmp / "findings.xlsx", [
            (by[key], SCENARIOS[key[0]][1], "现场核查记录及询问笔录") for key in by
            if SCENARIOS[key[0]][1]]), OPERATOR)
        for cohort in COHORTS:
            flow.verdict(cluster, by[("late_finding", cohort)], PASS[cohort])
        # A finding after the verdict, before publication: the verdict is revised.
        flow.submit(cluster, "findings", factories.findings(tmp / "late.xlsx", [
            (by[("late_finding", c)], "四(一)5", "9月25日举报查实") for c in COHORTS]),
            OPERATOR)

        # Rectification, submitted and re-scored in time for one; not for the other.
        flow.clock(cluster, "2023-11-10")
        flow.submit(cluster, "rectification", factories.rectification(tmp / "rect.xlsx", [
            (by[("rectified", c)], "已整改", datetime.date(2023, 11, 8)) for c in COHORTS]),
            OPERATOR)
        flow.score(cluster, tmp, {by[("rectified", c)]: 88 for c in COHORTS}, OPERATOR,
                   name="rescore.xlsx")
        # Before the deadline every case has its verdict (the rectify ones still rectifying).
        before_deadline = {key: flow.verdict(cluster, uscc, RECTIFY[key[1]] if key[0] in LAPSING
                                             else expected(key[0], key[1])[0])
                           for key, uscc in by.items()}
        # The two months pass: 2023-09-20 + 2 months = 2023-11-20.
        flow.clock(cluster, "2023-11-21")
        for cohort in COHORTS:
            flow.verdict(cluster, by[("lapsed", cohort)], TERMINATED)
        yield {"cluster": cluster, "by": by, "before_deadline": before_deadline}
    finally:
        cluster.destroy()


@pytest.mark.parametrize("cohort", COHORTS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_rule_gives_its_outcome(campaign, name, cohort):
    """As it stood before the rectification deadline (the lapsed case: after it)."""
    if name in LAPSING:
        case = flow.verdict(campaign["cluster"], campaign["by"][(name, cohort)])
    else:
        case = campaign["before_deadline"][(name, cohort)]
    assert (case["outcome"], case["clauses"]) == expected(name, cohort)


@pytest.mark.parametrize("cohort", COHORTS)
@pytest.mark.parametrize("name", ["audit", "registration", "below_standard"])
def test_rectify_cases_not_rectified_by_the_deadline_are_terminated(campaign, name, cohort):
    case = flow.verdict(campaign["cluster"], campaign["by"][(name, cohort)], TERMINATED)
    assert case["clauses"] == ["四(二)"]


@pytest.mark.parametrize("cohort", COHORTS)
def test_rectify_verdicts_carry_a_two_month_deadline(campaign, cohort):
    case = campaign["before_deadline"][("lapsed", cohort)]
    assert case["outcome"] == RECTIFY[cohort]
    assert case["deadline"] == "2023-11-20"


@pytest.mark.parametrize("cohort", COHORTS)
def test_a_late_finding_revises_the_verdict_and_says_so(campaign, cohort):
    cluster = campaign["cluster"]
    explained = cluster.cli_json("case", "explain", campaign["by"][("late_finding", cohort)])
    outcomes = [(v["outcome"], v["revises"]) for v in explained["verdicts"]]
    assert outcomes == [(PASS[cohort], None), (TERMINATED, PASS[cohort])]
    assert explained["verdicts"][-1]["inputs"]["findings"]


@pytest.mark.parametrize("cohort", COHORTS)
def test_an_expiring_filing_is_extended_two_months_and_the_extension_ends(campaign, cohort):
    cluster = campaign["cluster"]
    uscc = campaign["by"][("extended", cohort)]
    case = wait_for(lambda: (c := cluster.cli_json("case", "show", uscc))["extension"] and
                    c["extension"]["ended"] and c, what="the extension to end")
    assert case["extension"] == {"valid_until": "2023-09-15", "until": "2023-11-15",
                                 "ended": "ended"}


def test_explain_prints_the_chain_of_facts_in_chinese_and_english(campaign):
    cluster = campaign["cluster"]
    rc, out, err = cluster.cli("case", "explain", campaign["by"][("lapsed", 2021)],
                               operator="auditor", check=True)
    assert "四(二)3" in out and "四(二)" in out
    assert "Outcome" in out and "结论" in out
    assert "rulebook 2023.2" in out  # issue 17: a new rulebook version
    assert "2023-11-20" in out
