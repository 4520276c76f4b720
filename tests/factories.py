"""Test data: institutions and filled-in forms, written as the operators would hand them in
(the campaign's forms start from their templates, filled by services.evaluation.forms.filler)."""
import datetime

import openpyxl

from services.evaluation.forms.filler import Rows, new_form
from services.evaluation.rubric import DEFAULT_RUBRIC
from shared.language import uscc as uscc_module
from services.registry.roster import RosterRow, write_roster

ALPHABET_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"
COHORT_DATES = {2019: datetime.date(2019, 11, 20), 2020: datetime.date(2020, 7, 1),
                2021: datetime.date(2021, 6, 1), 2022: datetime.date(2022, 9, 15)}


def make_uscc(n, division="140100", prefix="52"):
    body = ""
    for _ in range(6):
        n, r = divmod(n, len(ALPHABET_BODY))
        body = ALPHABET_BODY[r] + body
    return uscc_module.make(prefix, division, "MJ0" + body)


def institution(n, *, cohort=2021, city="140100", level="municipal", category="social",
                name=None, valid_until=datetime.date(2026, 5, 31), legal_valid_until=None,
                scope=(("6-18-02-04", (3, 4, 5)),)):
    division = "140000" if level == "provincial" else city
    return RosterRow(
        uscc=make_uscc(n, division), name=name or f"测试职业技能培训学校{n:04d}",
        category=category, level=level, city=None if level == "provincial" else city,
        published_on=COHORT_DATES[cohort], valid_until=valid_until, scope=tuple(scope),
        legal_valid_until=legal_valid_until)


def roster(path, rows):
    write_roster(rows, path)
    return str(path)


def split_total(total):
    """Area scores that add up to `total` (each within its maximum)."""
    remaining = float(total)
    areas = {}
    for area in DEFAULT_RUBRIC.areas:
        give = min(float(area.points), remaining)
        areas[area.short_name] = give
        remaining -= give
    assert remaining == 0, total
    return areas


def score_sheet(path, scores, evaluator="评估员甲", on=datetime.date(2023, 9, 15)):
    """`scores`: {uscc: total or {area: score}}; the score-sheet template, filled."""
    def typed(code):
        score = scores[code]
        return {**(score if isinstance(score, dict) else split_total(score)),
                "评估人": evaluator, "评估日期": on}
    return new_form("score-sheet", path, {None: Rows(values=typed)}, institutions=scores)


def self_assessment(path, institutions, years=(2021, 2022), occupation="6-18-02-04", level=4,
                    extra_activity=()):
    """附件1 for `institutions` (RosterRows or USCCs): each active in `years` in its scope;
    `extra_activity` adds (uscc, year, occupation, level, certified) rows."""
    codes = [getattr(inst, "uscc", inst) for inst in institutions]
    activity = [{"统一社会信用代码": code, "年度": year, "职业编码": occupation, "等级": level,
                 "参评人数": 40, "合格人数": 36, "发证数": 36} for code in codes for year in years]
    activity += [{"统一社会信用代码": code, "年度": year, "职业编码": occ, "等级": lvl,
                  "参评人数": certified, "合格人数": certified, "发证数": certified}
                 for code, year, occ, lvl, certified in extra_activity]
    staff = {"考评人员数": 12, "内部质量督导人员数": 3, "专家数": 5, "自评得分": 85}
    return new_form("self-assessment", path, {"机构情况": Rows(values=lambda code: staff),
                                              "认定开展情况": Rows(append=activity)},
                    institutions=codes)


def findings(path, rows):
    """`rows`: (uscc, clause, evidence)."""
    return new_form("findings", path, {None: Rows(append=[
        {"统一社会信用代码": code, "条款": clause, "事实与证据": evidence}
        for code, clause, evidence in rows])})


def rectification(path, rows):
    """`rows`: (uscc, report, submitted_on)."""
    return new_form("rectification", path, {None: Rows(append=[
        {"统一社会信用代码": code, "整改情况": report, "提交日期": on}
        for code, report, on in rows])})


def set_cell(path, row, column, value, sheet=None):
    """Alter one cell of an xlsx form: `row` is the Excel row (1 is the header), `column`
    the header's name."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    header = [c.value for c in ws[1]]
    ws.cell(row=row, column=header.index(column) + 1).value = value  # None blanks it
    wb.save(path)
    return str(path)


def drop_column(path, column, sheet=None):
    """Remove the column headed `column` from an xlsx form."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    header = [c.value for c in ws[1]]
    ws.delete_cols(header.index(column) + 1)
    wb.save(path)
    return str(path)


def legal_status(path, rows):
    """Legal-registration facts from other HR systems; `rows`: (uscc, 登记状态,
    法人登记有效期至, 报告日期)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "登记状态", "法人登记有效期至", "报告日期"])
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return str(path)


def activity_report(path, rows):
    """Certification activity from other HR systems; `rows`: (uscc, 年度, 职业编码, 等级,
    发证数)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "年度", "职业编码", "等级", "发证数"])
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return str(path)
