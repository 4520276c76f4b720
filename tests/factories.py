"""Test data: institutions and filled-in forms, written as the operators would hand them in."""
import datetime

import openpyxl

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
    """`scores`: {uscc: total or {area: score}}."""
    wb = openpyxl.Workbook()
    ws = wb.active
    names = [a.short_name for a in DEFAULT_RUBRIC.areas]
    ws.append(["统一社会信用代码", *names, "评估人", "评估日期"])
    for code, score in scores.items():
        areas = score if isinstance(score, dict) else split_total(score)
        ws.append([code, *[areas[n] for n in names], evaluator, on])
    wb.save(path)
    return str(path)


def self_assessment(path, institutions, years=(2021, 2022), occupation="6-18-02-04", level=4,
                    extra_activity=()):
    """附件1 for `institutions` (RosterRows or USCCs): each active in `years` in its scope;
    `extra_activity` adds (uscc, year, occupation, level, certified) rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "机构情况"
    ws.append(["统一社会信用代码", "考评人员数", "内部质量督导人员数", "专家数", "自评得分"])
    activity = wb.create_sheet("认定开展情况")
    activity.append(["统一社会信用代码", "年度", "职业编码", "等级", "参评人数", "合格人数", "发证数"])
    for inst in institutions:
        code = getattr(inst, "uscc", inst)
        ws.append([code, 12, 3, 5, 85])
        for year in years:
            activity.append([code, year, occupation, level, 40, 36, 36])
    for code, year, occ, lvl, certified in extra_activity:
        activity.append([code, year, occ, lvl, certified, certified, certified])
    wb.save(path)
    return str(path)


def _sheet(path, header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return str(path)


def findings(path, rows):
    """`rows`: (uscc, clause, evidence)."""
    return _sheet(path, ["统一社会信用代码", "条款", "事实与证据"], rows)


def rectification(path, rows):
    """`rows`: (uscc, report, submitted_on)."""
    return _sheet(path, ["统一社会信用代码", "整改情况", "提交日期"], rows)


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
