import datetime as dt
import json

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.language.clauses import FINDING_CLAUSES
from services.evaluation import forms
from services.evaluation.rubric import DEFAULT_RUBRIC, Area, Rubric
from shared.errors import BadInput

A, B, C = "914403001922038216", "91110000710925462X", "12100000425006133D"
INSTITUTIONS = [
    {"uscc": A, "name": "太原焊接培训学校", "jurisdiction": "140100"},
    {"uscc": B, "name": "山西机电职业技术学院", "jurisdiction": "140100"},
    {"uscc": C, "name": "晋中技能评价中心", "jurisdiction": "140100"},
]
AREAS = DEFAULT_RUBRIC.short_names
FULL_MARKS = [20, 15, 15, 10, 10, 10, 10, 10]


# ------------------------------------------------------------------------ helpers

def fill(path, sheet, rows):
    """Fill a template like an operator: `rows` maps the Excel row to {column: value}."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    columns = {cell.value: cell.column for cell in ws[1]}
    for row_number, values in rows.items():
        for column, value in values.items():
            ws.cell(row=row_number, column=columns[column], value=value)
    wb.save(path)
    return path


def make_xlsx(path, sheets):
    """An xlsx from {sheet title: [header, *rows]}, as an operator might build it."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, table in sheets.items():
        ws = wb.create_sheet(title)
        for row in table:
            ws.append(list(row))
    wb.save(path)
    return path


def score_file(tmp_path, *rows, header=None):
    header = header or ["统一社会信用代码", "机构名称", *AREAS, "评估人", "评估日期"]
    return make_xlsx(tmp_path / "scores.xlsx", {"评估表": [header, *rows]})


def score_row(code=A, marks=FULL_MARKS, evaluator="张三", on=dt.date(2023, 9, 15)):
    return [code, "某机构", *marks, evaluator, on]


def self_assessment_file(tmp_path, institutions=None, activity=(), sheets=None):
    institutions = institutions if institutions is not None else [[A, 5, 2, 3, 88]]
    tables = {
        "机构情况": [["统一社会信用代码", "考评人员数", "内部质量督导人员数", "专家数", "自评得分"],
                 *institutions],
        "认定开展情况": [["统一社会信用代码", "年度", "职业编码", "等级", "参评人数", "合格人数",
                    "发证数"], *activity],
    }
    if sheets is not None:
        tables = {k: v for k, v in tables.items() if k in sheets}
    return make_xlsx(tmp_path / "self.xlsx", tables)


def bad(call, *args, **kwargs):
    with pytest.raises(BadInput) as info:
        call(*args, **kwargs)
    return info.value


# --------------------------------------------------------------- kinds and docs

def test_kinds_and_documentation_cover_every_column():
    assert forms.KINDS == ("self-assessment", "score-sheet", "findings", "rectification")
    assert set(forms.COLUMNS) == set(forms.KINDS)
    documented = {k: [c for c, _ in v] for k, v in forms.COLUMNS.items()}
    assert documented["score-sheet"] == ["统一社会信用代码", "机构名称", *AREAS, "合计", "评估人",
                                         "评估日期"]
    assert {"考评人员数", "自评得分", "年度", "职业编码", "等级", "发证数"} <= set(
        documented["self-assessment"])
    assert documented["findings"] == ["统一社会信用代码", "机构名称", "条款", "事实与证据"]
    assert documented["rectification"] == ["统一社会信用代码", "机构名称", "整改情况", "提交日期"]
    assert all(meaning.strip() for v in forms.COLUMNS.values() for _, meaning in v)


def test_unknown_kind_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="unknown form kind"):
        forms.write_template("roster", tmp_path / "x.xlsx", INSTITUTIONS)


# ------------------------------------------------------------------- templates

def test_score_sheet_template_is_styled_documented_and_validated(tmp_path):
    path = forms.write_template("score-sheet", tmp_path / "t.xlsx", INSTITUTIONS)
    ws = openpyxl.load_workbook(path).worksheets[0]
    header = [c.value for c in ws[1]]
    assert header == ["统一社会信用代码", "机构名称", *AREAS, "合计", "评估人", "评估日期"]
    assert ws.freeze_panes == "A2"
    assert [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in (2, 3, 4)] == [
        (i["uscc"], i["name"]) for i in INSTITUTIONS]
    assert all(ws.cell(r, c).value is None for r in (2, 3, 4) for c in (*range(3, 11), 12, 13))
    assert ws.cell(1, 3).comment.text.endswith("满分 20 分;填 0 至 20 之间的数,最多一位小数")
    assert "满分 15 分" in ws.cell(1, 4).comment.text
    assert ws.column_dimensions["A"].width == 22
    by_column = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert (by_column["C2"].type, by_column["C2"].formula1, by_column["C2"].formula2) == (
        "decimal", "0", "20")
    assert by_column["D2"].formula2 == "15"
    assert by_column["M2"].type == "date"


def test_template_follows_the_campaign_rubric(tmp_path):
    rubric = Rubric("test.1", (Area("a", "甲", "甲项", 60), Area("b", "乙", "乙项", "40.5")),
                    pass_at=80, below_standard_at=60)
    path = forms.write_template("score-sheet", tmp_path / "t.xlsx", INSTITUTIONS[:1],
                                rubric=rubric)
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in ws[1]] == ["统一社会信用代码", "机构名称", "甲", "乙", "合计", "评估人",
                                        "评估日期"]
    assert ws["E2"].value == '=IF(COUNT(C2:D2),SUM(C2:D2),"")'

    assert "满分 40.5 分" in ws.cell(1, 4).comment.text


def test_self_assessment_template_has_both_sheets(tmp_path):
    path = forms.write_template("self-assessment", tmp_path / "t.xlsx", INSTITUTIONS)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["机构情况", "认定开展情况"]
    assert wb["机构情况"].max_row == 4
    assert wb["认定开展情况"].max_row == 1
    assert [c.value for c in wb["认定开展情况"][1]] == [
        "统一社会信用代码", "年度", "职业编码", "等级", "参评人数", "合格人数", "发证数"]
    kinds = {str(dv.sqref).split(":")[0]: (dv.type, dv.formula1, dv.formula2)
             for dv in wb["认定开展情况"].data_validations.dataValidation}
    assert kinds["B2"] == ("whole", "2015", "2100")
    assert kinds["D2"] == ("list", '"1,2,3,4,5"', None)  # a drop-down of the levels
    assert kinds["E2"][:2] == ("whole", "0")


def test_findings_template_offers_the_finding_clauses(tmp_path):
    path = forms.write_template("findings", tmp_path / "t.xlsx", INSTITUTIONS)
    ws = openpyxl.load_workbook(path).worksheets[0]
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1
    assert lists[0].formula1 == '"' + ",".join(FINDING_CLAUSES) + '"'
    assert str(lists[0].sqref).startswith("C2")


@pytest.mark.parametrize("kind", forms.KINDS)
def test_formula_injection_names_stay_text(tmp_path, kind):
    nasty = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1:A2)"]
    institutions = [{"uscc": code, "name": name, "jurisdiction": "140100"}
                    for code, name in zip([A, B, C, A], nasty)]
    path = forms.write_template(kind, tmp_path / "t.xlsx", institutions)
    ws = openpyxl.load_workbook(path).worksheets[0]
    for row, name in enumerate(nasty, start=2):
        cell = ws.cell(row, 2)
        assert (cell.value, cell.data_type) == (name, "s")


# ------------------------------------------------------------------ round trips

def test_score_sheet_round_trip(tmp_path):
    path = forms.write_template("score-sheet", tmp_path / "t.xlsx", INSTITUTIONS)
    first = dict(zip(AREAS, [18.5, 12, 15, 9.5, 8, 10, 7.5, 9]))
    second = dict(zip(AREAS, [15, 10, 10, 5, 5, 5, 5, 5]))  # 60: 不达标
    fill(path, None, {
        2: {**first, "评估人": "张三", "评估日期": dt.date(2023, 9, 15)},
        3: {**second, "评估人": "李四", "评估日期": "2023-09-20"},
        # row 4 is left as pre-filled: not scored yet, skipped
    })
    rows = forms.read_score_sheet(path, DEFAULT_RUBRIC)
    assert [r.row_number for r in rows] == [2, 3]
    r = rows[0]
    assert (r.uscc, r.areas, r.evaluator, r.evaluated_on) == (A, first, "张三", "2023-09-15")
    assert r.score["total"] == 89.5 and r.score["grade"] == "合格"
    assert r.score["rubric_version"] == "2023.1"
    assert (rows[1].uscc, rows[1].areas, rows[1].score["grade"]) == (B, second, "不达标")
    assert json.loads(json.dumps(r.to_dict())) == r.to_dict()
    assert forms.ScoreRow.from_dict(r.to_dict()) == r


def test_self_assessment_round_trip(tmp_path):
    path = forms.write_template("self-assessment", tmp_path / "t.xlsx", INSTITUTIONS)
    fill(path, "机构情况", {
        2: {"考评人员数": 12, "内部质量督导人员数": 3, "专家数": 5, "自评得分": 86.5},
        3: {"考评人员数": 0, "内部质量督导人员数": 0, "专家数": 0, "自评得分": 40},
    })
    activity = [
        [A, 2021, "6-18-02-04", 4, 30, 25, 25],
        [A, 2022, "6-18-02-04", 3, 10, 8, 7],
        [A, 2022, "4-07-05-03", 5, 0, 0, 0],
    ]
    columns = ["统一社会信用代码", "年度", "职业编码", "等级", "参评人数", "合格人数", "发证数"]
    fill(path, "认定开展情况", {n: dict(zip(columns, row))
                               for n, row in enumerate(activity, start=2)})
    rows = forms.read_self_assessment(path)
    assert [(r.uscc, r.row_number) for r in rows] == [(A, 2), (B, 3)]
    a, b = rows
    assert (a.assessors, a.supervisors, a.experts, a.self_score) == (12, 3, 5, 86.5)
    assert a.activity == [
        {"year": y, "occupation": o, "level": lv, "assessed": n, "passed": p,
         "certified": c, "row_number": rn}
        for rn, (_, y, o, lv, n, p, c) in enumerate(activity, start=2)]
    assert (b.self_score, b.activity) == (40, [])
    assert json.loads(json.dumps(a.to_dict())) == a.to_dict()
    assert forms.SelfAssessmentRow.from_dict(a.to_dict()) == a


def test_findings_round_trip(tmp_path):
    path = forms.write_template("findings", tmp_path / "t.xlsx", INSTITUTIONS)
    evidence = "2023年6月考场监控显示多名考生传递答案(见附件3页)"
    fill(path, None, {
        2: {"条款": "四(一)5", "事实与证据": evidence},
        3: {"条款": "四（二）1", "事实与证据": "审计问题未整改"},  # full-width, as typed
        5: {"统一社会信用代码": A, "条款": "四(一)2", "事实与证据": "承诺书不实"},
    })
    rows = forms.read_findings(path)
    assert [(r.row_number, r.uscc, r.clause, r.evidence) for r in rows] == [
        (2, A, "四(一)5", evidence), (3, B, "四(二)1", "审计问题未整改"),
        (5, A, "四(一)2", "承诺书不实")]
    assert forms.FindingRow.from_dict(rows[0].to_dict()) == rows[0]


def test_rectification_round_trip(tmp_path):
    path = forms.write_template("rectification", tmp_path / "t.xlsx", INSTITUTIONS)
    fill(path, None, {4: {"整改情况": "已补充考评人员并完善档案", "提交日期": dt.date(2023, 12, 1)}})
    rows = forms.read_rectification(path, name="整改.xlsx")
    assert [r.to_dict() for r in rows] == [
        {"row_number": 4, "uscc": C, "report": "已补充考评人员并完善档案",
         "submitted_on": "2023-12-01"}]


def test_untouched_template_is_refused(tmp_path):
    path = forms.write_template("findings", tmp_path / "t.xlsx", INSTITUTIONS)
    e = bad(forms.read_findings, path, name="upload.xlsx")
    assert (e.file, e.row) == ("upload.xlsx", None)
    assert "no row is filled in" in e.message


# ------------------------------------------------------------ score sheet errors

@pytest.mark.parametrize("marks, column, needle", [
    ([21, 15, 15, 10, 10, 10, 10, 10], "认定开展情况", "above its maximum"),
    ([20, 15, 15, 10, 10, 10, 10, 10.5], "履行承诺", "above its maximum"),
    ([20, -1, 15, 10, 10, 10, 10, 10], "场地设施设备", "negative"),
    ([20, 15, "十五", 10, 10, 10, 10, 10], "机构与人员队伍", "expected a number"),
    ([20, 15, 15, None, 10, 10, 10, 10], "规章制度", "missing score"),
    ([20, 15, 15, 10, dt.date(2023, 1, 1), 10, 10, 10], "题库建设", "expected a number"),
])
def test_bad_area_score(tmp_path, marks, column, needle):
    path = score_file(tmp_path, score_row(A), score_row(B, marks))
    e = bad(forms.read_score_sheet, path, DEFAULT_RUBRIC)
    assert (e.file, e.row, e.column) == ("scores.xlsx", 3, column)
    assert needle in e.message


def test_missing_area_column(tmp_path):
    header = ["统一社会信用代码", *AREAS[:-1], "评估人", "评估日期"]
    path = score_file(tmp_path, [A, *FULL_MARKS[:-1], "张三", "2023-09-15"], header=header)
    e = bad(forms.read_score_sheet, path, DEFAULT_RUBRIC)
    assert (e.row, e.column, e.message) == (1, "履行承诺", "missing column")


def test_bad_uscc(tmp_path):
    path = score_file(tmp_path, score_row(A), score_row("914403001922038217"))
    e = bad(forms.read_score_sheet, path, DEFAULT_RUBRIC, name="九月.xlsx")
    assert (e.file, e.row, e.column) == ("九月.xlsx", 3, "统一社会信用代码")
    assert "check character" in e.message


def test_uscc_typed_in_lower_case_is_accepted(tmp_path):
    path = score_file(tmp_path, score_row(" 91110000710925462x "))
    assert forms.read_score_sheet(path, DEFAULT_RUBRIC)[0].uscc == B


def test_duplicate_uscc(tmp_path):
    path = score_file(tmp_path, score_row(A), score_row(B), score_row(A))
    e = bad(forms.read_score_sheet, path, DEFAULT_RUBRIC)
    assert (e.row, e.column) == (4, "统一社会信用代码")
    assert "row 2" in e.message


@pytest.mark.parametrize("value", ["2023-02-30", "明天", 45184])
def test_bad_date(tmp_path, value):
    path = score_file(tmp_path, score_row(A, on=value))
    e = bad(forms.read_score_sheet, path, DEFAULT_RUBRIC)
    assert (e.row, e.column) == (2, "评估日期")


def test_missing_evaluator(tmp_path):
    path = score_file(tmp_path, score_row(A, evaluator=None))
    e = bad(forms.read_score_sheet, path, DEFAULT_RUBRIC)
    assert (e.row, e.column) == (2, "评估人")


def test_extra_columns_are_ignored(tmp_path):
    header = ["机构名称", "统一社会信用代码", *AREAS, "总分", "评估人", "评估日期"]
    path = score_file(tmp_path, ["某机构", A, *FULL_MARKS, 1, "张三", "2023-09-15"],
                      header=header)
    (row,) = forms.read_score_sheet(path, DEFAULT_RUBRIC)
    assert row.score["total"] == 100


# --------------------------------------------------------- self-assessment errors

@pytest.mark.parametrize("activity, column, needle", [
    ([A, 2022, "6-18-02-04", 4, 10, 11, 5], "合格人数", "passed"),
    ([A, 2022, "6-18-02-04", 4, 10, 8, 9], "发证数", "certificates"),
    ([A, 2022, "6-18-2-04", 4, 10, 8, 8], "职业编码", "D-DD-DD-DD"),
    ([A, 2022, "焊工", 4, 10, 8, 8], "职业编码", "D-DD-DD-DD"),
    ([A, 2022, "6-18-02-04", 6, 10, 8, 8], "等级", "maximum 5"),
    ([A, 2022, "6-18-02-04", 0, 10, 8, 8], "等级", "minimum 1"),
    ([A, 2014, "6-18-02-04", 4, 10, 8, 8], "年度", "minimum 2015"),
    ([A, 2022, "6-18-02-04", 4, -1, 0, 0], "参评人数", "minimum 0"),
    ([A, 2022, "6-18-02-04", 4, 2.5, 0, 0], "参评人数", "whole number"),
    ([B, 2022, "6-18-02-04", 4, 10, 8, 8], "统一社会信用代码", "no row in sheet 机构情况"),
])
def test_bad_activity_row(tmp_path, activity, column, needle):
    path = self_assessment_file(
        tmp_path, activity=[[A, 2021, "6-18-02-04", 4, 1, 1, 1], activity])
    e = bad(forms.read_self_assessment, path)
    assert (e.file, e.row, e.column) == ("self.xlsx", 3, column)
    assert needle in e.message and e.sheet == "认定开展情况"


def test_full_width_hyphens_in_occupation_code(tmp_path):
    path = self_assessment_file(tmp_path, activity=[[A, 2022, "6－18－02－04", 4, 1, 1, 1]])
    assert forms.read_self_assessment(path)[0].activity[0]["occupation"] == "6-18-02-04"


def test_duplicate_activity_row(tmp_path):
    row = [A, 2022, "6-18-02-04", 4, 1, 1, 1]
    path = self_assessment_file(tmp_path, activity=[row, row])
    e = bad(forms.read_self_assessment, path)
    assert (e.row, e.column) == (3, "统一社会信用代码")


@pytest.mark.parametrize("institution, column", [
    ([A, -1, 2, 3, 88], "考评人员数"),
    ([A, 5, "两", 3, 88], "内部质量督导人员数"),
    ([A, 5, 2, 3, 100.5], "自评得分"),
    (["91110000710925462Y", 5, 2, 3, 88], "统一社会信用代码"),
])
def test_bad_institution_row(tmp_path, institution, column):
    path = self_assessment_file(tmp_path, institutions=[[B, 1, 1, 1, 60], institution])
    e = bad(forms.read_self_assessment, path)
    assert (e.row, e.column) == (3, column)
    assert e.sheet == "机构情况"


def test_duplicate_institution_row(tmp_path):
    path = self_assessment_file(tmp_path, institutions=[[A, 1, 1, 1, 60], [A, 2, 2, 2, 70]])
    e = bad(forms.read_self_assessment, path)
    assert (e.row, e.column) == (3, "统一社会信用代码")


@pytest.mark.parametrize("present, missing", [
    (["机构情况"], "认定开展情况"), (["认定开展情况"], "机构情况")])
def test_missing_sheet(tmp_path, present, missing):
    path = self_assessment_file(tmp_path, sheets=present)
    e = bad(forms.read_self_assessment, path)
    assert e.file == "self.xlsx" and f"no sheet named '{missing}'" in e.message


# ------------------------------------------------------------ findings errors

def findings_file(tmp_path, *rows):
    return make_xlsx(tmp_path / "findings.xlsx",
                     {"问题认定": [["统一社会信用代码", "条款", "事实与证据"], *rows]})


@pytest.mark.parametrize("clause, needle", [
    ("四(一)9", "unknown clause"),
    ("考场舞弊", "unknown clause"),
    ("四(一)7", "not recorded as a finding"),
])
def test_clause_not_a_finding(tmp_path, clause, needle):
    path = findings_file(tmp_path, [A, "四(一)5", "证据"], [B, clause, "证据"])
    e = bad(forms.read_findings, path)
    assert (e.row, e.column) == (3, "条款")
    assert needle in e.message
    assert all(c in e.message for c in FINDING_CLAUSES)


@pytest.mark.parametrize("evidence, needle", [
    (None, "required"), ("   ", "required"), ("证" * 2001, "longer than 2000")])
def test_bad_evidence(tmp_path, evidence, needle):
    path = findings_file(tmp_path, [A, "四(一)5", evidence])
    e = bad(forms.read_findings, path)
    assert (e.row, e.column) == (2, "事实与证据")
    assert needle in e.message


def test_same_clause_twice_for_one_institution(tmp_path):
    path = findings_file(tmp_path, [A, "四(一)5", "甲"], [A, "四(一)5", "乙"])
    e = bad(forms.read_findings, path)
    assert (e.row, e.column) == (3, "条款")


# ------------------------------------------------------- rectification errors

def rectification_file(tmp_path, *rows):
    return make_xlsx(tmp_path / "r.xlsx",
                     {"整改报告": [["统一社会信用代码", "整改情况", "提交日期"], *rows]})


@pytest.mark.parametrize("row, column", [
    ([A, None, "2023-12-01"], "整改情况"),
    ([A, "已整改", "2023/13/01"], "提交日期"),
    ([A, "已整改", None], "提交日期"),
    (["91440300192203821", "已整改", "2023-12-01"], "统一社会信用代码"),
])
def test_bad_rectification_row(tmp_path, row, column):
    path = rectification_file(tmp_path, [B, "已整改", "2023年12月1日"], row)
    e = bad(forms.read_rectification, path)
    assert (e.row, e.column) == (3, column)


def test_duplicate_rectification(tmp_path):
    path = rectification_file(tmp_path, [A, "甲", "2023-12-01"], [A, "乙", "2023-12-02"])
    e = bad(forms.read_rectification, path)
    assert (e.row, e.column) == (3, "统一社会信用代码")


# ------------------------------------------------- templates a clerk can fill (#15)

@pytest.mark.parametrize("kind", forms.KINDS)
def test_every_column_prompts_and_prints_landscape_to_width(tmp_path, kind):
    path = forms.write_template(kind, tmp_path / "t.xlsx", INSTITUTIONS)
    for ws in openpyxl.load_workbook(path).worksheets:
        prompted = {str(dv.sqref).split(":")[0][:-1]: dv
                    for dv in ws.data_validations.dataValidation if dv.showInputMessage}
        for cell in ws[1]:
            dv = prompted.get(cell.column_letter)
            assert dv is not None and dv.prompt, (ws.title, cell.value)
            assert dv.promptTitle == cell.value[:32] and len(dv.prompt) <= 255
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"


@pytest.mark.parametrize("kind", forms.KINDS)
def test_codes_are_text_so_18_digits_survive(tmp_path, kind):
    path = forms.write_template(kind, tmp_path / "t.xlsx", INSTITUTIONS)
    for ws in openpyxl.load_workbook(path).worksheets:
        header = [c.value for c in ws[1]]
        for column in ("统一社会信用代码", "职业编码", "条款"):
            if column in header:
                letter = ws.cell(1, header.index(column) + 1).column_letter
                # The column's own format is what a clerk's newly typed cell takes.
                assert ws.column_dimensions[letter].number_format == "@", (ws.title, column)
        if ws.max_row > 1:
            assert ws["A2"].number_format == "@"
        numbers = [c for c in ("考评人员数", "年度") if c in header]
        for column in numbers:  # and number columns stay numbers
            letter = ws.cell(1, header.index(column) + 1).column_letter
            assert ws.column_dimensions[letter].number_format != "@"


def test_score_sheet_total_is_a_formula_ignored_on_import(tmp_path):
    path = forms.write_template("score-sheet", tmp_path / "t.xlsx", INSTITUTIONS)
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws["K1"].value == "合计" and ws["K2"].value == '=IF(COUNT(C2:J2),SUM(C2:J2),"")'
    # Filled without computing the formula (as openpyxl saves it): still read.
    fill(path, None, {2: {**dict(zip(AREAS, FULL_MARKS)), "评估人": "张三",
                          "评估日期": dt.date(2023, 9, 15)}})
    rows = forms.read_score_sheet(path, DEFAULT_RUBRIC)
    assert [r.uscc for r in rows] == [A] and rows[0].score["total"] == 100


# ---------------------------------------------------- every problem at once (#15)

def test_self_assessment_with_four_planted_errors_gives_all_four(tmp_path):
    path = forms.write_template("self-assessment", tmp_path / "t.xlsx", INSTITUTIONS)
    fill(path, "机构情况", {2: {"考评人员数": "12人", "内部质量督导人员数": 2, "专家数": 3,
                               "自评得分": 88},
                           3: {"统一社会信用代码": B[:-1] + "Y", "考评人员数": 5,
                               "内部质量督导人员数": 2, "专家数": 3, "自评得分": 80}})
    wb = openpyxl.load_workbook(path)
    ws = wb["认定开展情况"]
    ws.append([A, 2022, "6-18-02-04", 3, 10, 12, 8])   # passed > assessed
    ws.append([A, 2022, "6-18-2-4", 4, 10, 8, 8])       # not an occupation code
    wb.save(path)
    e = bad(forms.read_self_assessment, path, name="自评.xlsx")
    got = [(x["sheet"], x["row"], x["column"], x["rule"]) for x in e.errors]
    assert got == [("机构情况", 2, "考评人员数", "whole number"),
                   ("机构情况", 3, "统一社会信用代码", "USCC"),
                   ("认定开展情况", 2, "合格人数", "passed ≤ assessed"),
                   ("认定开展情况", 3, "职业编码", "occupation code")]
    assert all(x["file"] == "自评.xlsx" for x in e.errors) and not e.truncated
    zh = [x["message_zh"] for x in e.errors]
    assert "应为整数" in zh[0] and "12人" in zh[0]
    assert "校验位错误" in zh[1]
    assert zh[2] == "合格人数 12 大于参评人数 10"
    assert "D-DD-DD-DD" in zh[3]


def test_errors_are_capped_and_say_so(tmp_path):
    # 8 bad areas a row, and from row 3 on a repeated USCC: 8 + 21 * 9 + 3 = 200.
    rows = [score_row(marks=["x"] * 8) for _ in range(30)]
    e = bad(forms.read_score_sheet, score_file(tmp_path, *rows), DEFAULT_RUBRIC)
    assert len(e.errors) == 200 and e.truncated
    assert e.errors[0]["row"] == 2 and e.errors[-1]["row"] == 24
    assert "(and 199+ more)" in str(e)


def test_a_missing_column_is_reported_with_the_problems_before_it(tmp_path):
    path = self_assessment_file(tmp_path, institutions=[[A, "五", 2, 3, 88]],
                                sheets=["机构情况"])
    e = bad(forms.read_self_assessment, path)
    assert [x["rule"] for x in e.errors] == ["whole number", "sheets"]


@pytest.mark.parametrize("kind,reader,values", [
    ("findings", forms.read_findings, [{"条款": "四(九)9", "事实与证据": "x"},
                                       {"条款": "四(一)2", "事实与证据": None}]),
    ("rectification", forms.read_rectification, [{"整改情况": "已整改", "提交日期": "昨天"},
                                                 {"整改情况": None, "提交日期": "2023-10-01"}]),
])
def test_each_form_reports_every_bad_row(tmp_path, kind, reader, values):
    path = forms.write_template(kind, tmp_path / "t.xlsx", INSTITUTIONS)
    fill(path, None, {2: values[0], 3: values[1]})
    e = bad(reader, path)
    assert [x["row"] for x in e.errors] == [2, 3]
    assert all(x["message_zh"] != x["message"] for x in e.errors)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spoiled=st.sets(st.tuples(st.integers(2, 6), st.sampled_from([*AREAS, "评估日期"])),
                       max_size=12))
def test_exactly_the_planted_cells_are_reported(tmp_path, spoiled):
    """Whatever cells are spoiled, in whichever rows: each is reported once, and
    nothing else is."""
    from tests.factories import make_uscc
    rows = []
    for number in range(2, 7):
        row = score_row(code=make_uscc(number))
        for column in {c for r, c in spoiled if r == number}:
            row[(["统一社会信用代码", "机构名称", *AREAS, "评估人", "评估日期"]).index(column)] = "x"
        rows.append(row)
    path = score_file(tmp_path, *rows)
    if not spoiled:
        assert len(forms.read_score_sheet(path, DEFAULT_RUBRIC)) == 5
        return
    e = bad(forms.read_score_sheet, path, DEFAULT_RUBRIC)
    assert sorted((x["row"], x["column"]) for x in e.errors) == sorted(spoiled)
