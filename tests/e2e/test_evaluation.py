"""The evaluation end to end (issue 4): who may score whom (属地管理), score sheets refused
as a whole, self-assessments flagged for activity outside the filing scope, the campaign
status, the templates, findings. Institution numbers 2000-2999; 2900-2999 and the city
141100 (吕梁) only in the campaign-status test."""
import datetime
import json

import openpyxl
import pytest

from services.evaluation.rubric import DEFAULT_RUBRIC
from tests import factories
from tests.e2e import flow
from tests.support import wait_for

pytestmark = pytest.mark.e2e

AREAS = [a.short_name for a in DEFAULT_RUBRIC.areas]


def score_of(cluster, uscc):
    return cluster.cli_json("case", "show", uscc)["score"]


def status_of(cluster, jurisdiction):
    """The campaign status row of one jurisdiction (zeros if it has no case yet)."""
    status = cluster.cli_json("campaign", "status")
    for row in status["jurisdictions"]:
        if row["jurisdiction"] == jurisdiction:
            return row
    return {"jurisdiction": jurisdiction, "in_scope": 0, "self_assessed": 0, "scored": 0,
            "missing_self_assessment": 0, "missing_score": 0, "flagged": 0, "excused": 0}


def file_and_self_assess(cluster, tmp_path, rows, operator):
    """File the institutions and have them self-assess on time; once the self-assessment
    is accepted, evaluation knows every case."""
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, rows)
    flow.self_assess(cluster, tmp_path, rows, operator)


# -- 属地管理 -----------------------------------------------------------------------------
def test_a_city_bureau_scores_its_own_institution(cluster, tmp_path):
    row = factories.institution(2001, cohort=2021, city="140800")
    file_and_self_assess(cluster, tmp_path, [row], "city-140800")
    flow.clock(cluster, "2023-09-20")
    areas = {"认定开展情况": 18, "场地设施设备": 13.5, "机构与人员队伍": 14, "规章制度": 9,
             "题库建设": 8, "档案管理": 9, "证书管理": 10, "履行承诺": 6}
    sheet = factories.score_sheet(tmp_path / "s.xlsx", {row.uscc: areas}, evaluator="王评估")
    rc, out, err = cluster.cli("submit", "score-sheet", sheet, operator="city-140800")
    assert rc == 0, err
    score = score_of(cluster, row.uscc)
    assert score["total"] == 87.5 and score["grade"] == "合格"
    assert score["areas"] == areas
    assert score["evaluator"] == "王评估" and score["evaluated_on"] == "2023-09-15"
    assert score["rubric_version"] == DEFAULT_RUBRIC.version


def test_scoring_another_jurisdictions_institution_is_refused_and_changes_nothing(
        cluster, tmp_path):
    own = factories.institution(2011, cohort=2021, city="140700")
    foreign = factories.institution(2012, cohort=2020, city="140800")
    provincial = factories.institution(2013, cohort=2021, level="provincial",
                                       category="college")
    file_and_self_assess(cluster, tmp_path, [own, foreign, provincial], "province")
    flow.clock(cluster, "2023-09-20")
    # One row of its own and one of another city: the whole sheet is refused.
    sheet = factories.score_sheet(tmp_path / "mixed.xlsx", {own.uscc: 85, foreign.uscc: 85})
    rc, out, err = cluster.cli("submit", "score-sheet", sheet, operator="city-140700")
    assert rc == 2
    assert "属地管理" in err and foreign.uscc in err, err
    assert score_of(cluster, own.uscc) is None
    assert score_of(cluster, foreign.uscc) is None
    # A city bureau may not score a provincial-level institution, nor the center a city's.
    sheet = factories.score_sheet(tmp_path / "prov.xlsx", {provincial.uscc: 85})
    rc, out, err = cluster.cli("submit", "score-sheet", sheet, operator="city-140700")
    assert rc == 2 and "属地管理" in err, err
    sheet = factories.score_sheet(tmp_path / "city.xlsx", {own.uscc: 85})
    rc, out, err = cluster.cli("submit", "score-sheet", sheet, operator="center")
    assert rc == 2 and "属地管理" in err, err
    assert score_of(cluster, own.uscc) is None
    assert score_of(cluster, provincial.uscc) is None


def test_the_department_may_score_any_institution_and_the_auditor_none(cluster, tmp_path):
    municipal = factories.institution(2021, cohort=2021, city="140800")
    provincial = factories.institution(2022, cohort=2020, level="provincial",
                                       category="enterprise")
    file_and_self_assess(cluster, tmp_path, [municipal, provincial], "province")
    flow.clock(cluster, "2023-09-20")
    sheet = factories.score_sheet(tmp_path / "s.xlsx", {municipal.uscc: 70,
                                                        provincial.uscc: 91})
    rc, out, err = cluster.cli("submit", "score-sheet", sheet, operator="auditor")
    assert rc == 2, (out, err)
    assert "auditor" in err, err
    assert score_of(cluster, municipal.uscc) is None
    assert score_of(cluster, provincial.uscc) is None

    rc, out, err = cluster.cli("submit", "score-sheet", sheet, operator="province")
    assert rc == 0, err
    assert (score_of(cluster, municipal.uscc)["total"],
            score_of(cluster, municipal.uscc)["grade"]) == (70, "不达标")
    assert (score_of(cluster, provincial.uscc)["total"],
            score_of(cluster, provincial.uscc)["grade"]) == (91, "合格")


def test_a_score_below_the_pass_mark_is_not_rounded_up_to_a_pass(cluster, tmp_path):
    row = factories.institution(2031, cohort=2021, city="140800")
    file_and_self_assess(cluster, tmp_path, [row], "city-140800")
    flow.clock(cluster, "2023-09-20")
    areas = {"认定开展情况": 19.95, "场地设施设备": 15, "机构与人员队伍": 15, "规章制度": 10,
             "题库建设": 10, "档案管理": 10, "证书管理": 0, "履行承诺": 0}
    sheet = factories.score_sheet(tmp_path / "s.xlsx", {row.uscc: areas})
    rc, out, err = cluster.cli("submit", "score-sheet", sheet, operator="city-140800")
    # Refused for the second decimal, naming the cell (the template allows one decimal).
    assert rc == 2 and "row 2" in err and "column 认定开展情况" in err, err
    assert "more than one decimal" in err
    assert score_of(cluster, row.uscc) is None


# -- score sheets refused as a whole ---------------------------------------------------
BAD_SHEETS = {
    "above-maximum": lambda p: (factories.set_cell(p, 3, "认定开展情况", 20.5), 3, "认定开展情况"),
    "negative": lambda p: (factories.set_cell(p, 3, "场地设施设备", -1), 3, "场地设施设备"),
    "text": lambda p: (factories.set_cell(p, 3, "规章制度", "良好"), 3, "规章制度"),
    "missing-area-column": lambda p: (factories.drop_column(p, "题库建设"), 1, "题库建设"),
}


@pytest.fixture(scope="module")
def sheet_institutions(cluster, tmp_path_factory):
    """Three institutions of 忻州 per kind of bad sheet, filed and self-assessed."""
    rows = {kind: [factories.institution(2100 + 10 * k + i, cohort=2020 + i % 2,
                                         city="140900") for i in range(3)]
            for k, kind in enumerate(BAD_SHEETS)}
    everyone = [r for group in rows.values() for r in group]
    file_and_self_assess(cluster, tmp_path_factory.mktemp("sheets"), everyone, "city-140900")
    return rows


@pytest.mark.parametrize("kind", list(BAD_SHEETS))
def test_a_score_sheet_with_one_bad_cell_is_refused_as_a_whole(cluster, tmp_path,
                                                               sheet_institutions, kind):
    rows = sheet_institutions[kind]
    flow.clock(cluster, "2023-09-20")
    sheet = factories.score_sheet(tmp_path / "bad-scores.xlsx", {r.uscc: 85 for r in rows})
    path, row, column = BAD_SHEETS[kind](sheet)
    rc, out, err = cluster.cli("submit", "score-sheet", path, operator="city-140900")
    assert rc == 2, (out, err)
    assert "bad-scores.xlsx" in err and f"row {row}" in err and f"column {column}" in err, err
    for r in rows:
        assert score_of(cluster, r.uscc) is None, r.uscc


def test_the_same_sheet_without_the_bad_cell_is_accepted(cluster, tmp_path,
                                                          sheet_institutions):
    rows = sheet_institutions["text"]
    flow.clock(cluster, "2023-09-20")
    sheet = factories.score_sheet(tmp_path / "good.xlsx", {r.uscc: 85 for r in rows})
    assert cluster.cli_json("submit", "score-sheet", sheet,
                            operator="city-140900") == {"scored": 3, "unchanged": 0}
    assert all(score_of(cluster, r.uscc)["total"] == 85 for r in rows)


# -- self-assessment ---------------------------------------------------------------------
def test_activity_outside_the_filing_scope_is_recorded_and_flagged(cluster, tmp_path):
    inside = factories.institution(2201, cohort=2021, city="141000")
    outside = factories.institution(2202, cohort=2020, city="141000")
    flow.clock(cluster, "2023-08-28")
    before = status_of(cluster, "141000")
    flow.file(cluster, tmp_path, [inside, outside])
    wait_for(lambda: status_of(cluster, "141000")["in_scope"] >= before["in_scope"] + 2,
             what="evaluation to open the cases")
    sa = factories.self_assessment(tmp_path / "sa.xlsx", [inside, outside], extra_activity=[
        (outside.uscc, 2022, "4-14-01-01", 4, 15)])
    result = cluster.cli_json("submit", "self-assessment", sa, operator="city-141000")
    assert result["self_assessed"] == 2
    assert [f["uscc"] for f in result["flagged"]] == [outside.uscc]
    assert result["flagged"][0]["out_of_scope"] == [
        {"year": 2022, "occupation": "4-14-01-01", "level": 4, "assessed": 15,
         "certified": 15}]
    # The operator reads it without --json too; handing the form in again changes no count.
    rc, out, err = cluster.cli("submit", "self-assessment", sa, operator="city-141000")
    assert rc == 0, err
    assert f"flagged {outside.uscc}: activity outside the filing scope: 2022 4-14-01-01 " \
        "level 4" in out, out

    after = status_of(cluster, "141000")
    assert after["flagged"] == before["flagged"] + 1
    assert after["self_assessed"] == before["self_assessed"] + 2
    case = cluster.cli_json("case", "show", outside.uscc)
    assert case["self_assessed"] is True
    assert cluster.cli_json("case", "show", inside.uscc)["self_assessed"] is True


# -- campaign status ---------------------------------------------------------------------
def test_campaign_status_counts_what_was_submitted_in_a_jurisdiction(cluster, tmp_path):
    flow.clock(cluster, "2023-08-28")
    before = status_of(cluster, "141100")
    in_scope = [factories.institution(2900 + i, cohort=2020 + i % 2, city="141100")
                for i in range(5)]
    out_of_scope = [factories.institution(2950, cohort=2019, city="141100"),
                    factories.institution(2951, cohort=2022, city="141100")]
    flow.file(cluster, tmp_path, in_scope + out_of_scope)
    wait_for(lambda: status_of(cluster, "141100")["in_scope"] == before["in_scope"] + 5,
             what="evaluation to open the five cases")

    self_assessed = in_scope[:4]
    path = factories.self_assessment(tmp_path / "sa.xlsx", self_assessed, extra_activity=[
        (self_assessed[0].uscc, 2022, "4-14-01-01", 3, 5)])
    flow.submit(cluster, "self-assessment", path, "city-141100")
    flow.clock(cluster, "2023-09-20")
    flow.score(cluster, tmp_path, {r.uscc: 80 + i for i, r in enumerate(in_scope[1:4])},
               "city-141100")

    after = status_of(cluster, "141100")
    delta = {k: after[k] - before[k] for k in after if k != "jurisdiction"}
    assert delta == {"in_scope": 5, "self_assessed": 4, "scored": 3,
                     "missing_self_assessment": 1, "missing_score": 2, "flagged": 1,
                     "excused": 0}


# -- templates ---------------------------------------------------------------------------
def test_the_score_sheet_template_lists_the_jurisdictions_in_scope_institutions(
        cluster, tmp_path):
    mine = [factories.institution(2301 + i, cohort=2020 + i % 2, city="140700")
            for i in range(3)]
    outside = [factories.institution(2311, cohort=2019, city="140700"),
               factories.institution(2312, cohort=2022, city="140700")]
    file_and_self_assess(cluster, tmp_path, mine, "city-140700")
    flow.file(cluster, tmp_path, outside, name="outside.xlsx")

    template = str(tmp_path / "template.xlsx")
    rc, out, err = cluster.cli("template", "score-sheet", "--jurisdiction", "140700",
                               "--out", template, operator="city-140700")
    assert rc == 0, err
    listed = cluster.cli_json("institutions", "--jurisdiction", "140700", "--in-scope")

    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[0] == "统一社会信用代码"
    assert all(area in header for area in AREAS)
    assert "评估人" in header and "评估日期" in header
    codes = [r[0] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
    assert codes == [i["uscc"] for i in listed]
    assert {r.uscc for r in mine} <= set(codes)
    assert not {r.uscc for r in outside} & set(codes)
    assert ws.freeze_panes == "A2"
    validations = ws.data_validations.dataValidation
    assert validations
    first_area = f"{openpyxl.utils.get_column_letter(header.index(AREAS[0]) + 1)}2"
    covering = [dv for dv in validations if first_area in dv.sqref]
    assert covering and covering[0].type == "decimal" and covering[0].formula2 == "20"

    # Fill in the rows of this test's institutions only; untouched rows are skipped.
    flow.clock(cluster, "2023-09-20")
    totals = {}
    for number, cells in enumerate(ws.iter_rows(min_row=2), start=2):
        code = cells[0].value
        if code not in {r.uscc for r in mine}:
            continue
        areas = factories.split_total(75 + len(totals) * 5)
        for area, value in areas.items():
            ws.cell(row=number, column=header.index(area) + 1, value=value)
        ws.cell(row=number, column=header.index("评估人") + 1, value="赵评估")
        ws.cell(row=number, column=header.index("评估日期") + 1,
                value=datetime.date(2023, 9, 18))
        totals[code] = 75 + len(totals) * 5
    wb.save(template)
    rc, out, err = cluster.cli("submit", "score-sheet", template, operator="city-140700")
    assert rc == 0, err
    for code, total in totals.items():
        score = score_of(cluster, code)
        assert score["total"] == total and score["evaluator"] == "赵评估"
        assert score["grade"] == ("合格" if total >= 80 else "不达标")


def test_every_form_template_is_pre_filled_for_the_jurisdiction(cluster, tmp_path):
    row = factories.institution(2321, cohort=2021, city="140700")
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, [row])
    listed = [i["uscc"] for i in cluster.cli_json("institutions", "--jurisdiction", "140700",
                                                   "--in-scope")]
    # (rectification and re-score list the cases under rectification only: below)
    for kind in ("self-assessment", "score-sheet", "findings"):
        path = str(tmp_path / f"{kind}.xlsx")
        result = cluster.cli_json("template", kind, "--jurisdiction", "140700", "--out", path,
                                  operator="city-140700")
        assert result["institutions"] == len(listed)
        ws = openpyxl.load_workbook(path).worksheets[0]
        assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]] == listed
        assert ws.freeze_panes == "A2"
        assert ws.data_validations.dataValidation, kind


# -- findings ----------------------------------------------------------------------------
def test_a_findings_file_with_a_clause_that_is_not_a_finding_is_refused(cluster, tmp_path):
    rows = [factories.institution(2401 + i, cohort=2021, city="141000") for i in range(2)]
    file_and_self_assess(cluster, tmp_path, rows, "city-141000")
    path = factories.findings(tmp_path / "findings.xlsx", [
        (rows[0].uscc, "四(一)5", "2023年6月焊工考试现场组织替考，见监控录像。"),
        (rows[1].uscc, "四(一)7", "评估结果不合格。")])
    rc, out, err = cluster.cli("submit", "findings", path, operator="city-141000")
    assert rc == 2, (out, err)
    assert "findings.xlsx" in err and "row 3" in err and "column 条款" in err, err
    assert "四(一)7" in err
    assert cluster.cli_json("case", "show", rows[0].uscc)["findings"] == []
    assert cluster.cli_json("case", "show", rows[1].uscc)["findings"] == []


# -- what the CLI says of a refused file, and templates of the cases under rectification
# (issue 15). Institutions 2501-2519 of 临汾 (141000).
def test_a_refused_file_is_reported_in_chinese_and_as_json(cluster, tmp_path):
    rows = [factories.institution(2511 + i, cohort=2021, city="141000") for i in range(2)]
    file_and_self_assess(cluster, tmp_path, rows, "city-141000")
    flow.clock(cluster, "2023-09-20")
    sheet = factories.score_sheet(tmp_path / "bad.xlsx", {r.uscc: 85 for r in rows})
    factories.set_cell(sheet, 3, "规章制度", "良好")
    factories.set_cell(sheet, 2, "场地设施设备", -1)
    rc, out, err = cluster.cli("submit", "score-sheet", sheet, "--lang", "zh",
                               operator="city-141000")
    assert rc == 2 and "Traceback" not in err, err
    assert "bad.xlsx" in err and "第 2 行" in err and "列「场地设施设备」" in err, err
    rc, out, err = cluster.cli("--json", "submit", "score-sheet", sheet,
                               operator="city-141000")
    error = json.loads(err)
    assert rc == 2 and out == "" and error["error"] == "bad_input" and error["exit"] == 2
    assert {(e["row"], e["column"]) for e in error["errors"]} <= {(2, "场地设施设备"),
                                                                   (3, "规章制度")}
    assert all(e["file"] == "bad.xlsx" and e["message"] for e in error["errors"])
    assert all(score_of(cluster, r.uscc) is None for r in rows)


def test_the_rectification_and_re_score_templates_list_only_cases_under_rectification(
        cluster, tmp_path):
    rectifying = factories.institution(2501, cohort=2021, city="141000")
    passing = factories.institution(2502, cohort=2021, city="141000")
    file_and_self_assess(cluster, tmp_path, [rectifying, passing], "city-141000")
    flow.clock(cluster, "2023-09-20")
    flow.score(cluster, tmp_path, {rectifying.uscc: 72, passing.uscc: 90}, "city-141000")
    flow.verdict(cluster, rectifying.uscc, "暂停评价活动")
    assert flow.verdict(cluster, passing.uscc)["status"] == "passed"
    for kind in ("rectification", "re-score"):
        path = str(tmp_path / f"{kind}.xlsx")
        result = cluster.cli_json("template", kind, "--jurisdiction", "141000", "--out", path,
                                  operator="city-141000")
        ws = openpyxl.load_workbook(path).worksheets[0]
        listed = [r[0] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
        assert rectifying.uscc in listed and passing.uscc not in listed, (kind, listed)
        assert result["institutions"] == len(listed)
        assert all(cluster.cli_json("case", "show", uscc)["status"] == "rectifying"
                   for uscc in listed), listed
