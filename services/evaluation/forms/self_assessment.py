"""附件1, the institution's self-assessment (notice 三(一)): sheet 机构情况, one row per
institution, and sheet 认定开展情况, one row per institution, year, occupation and level
(a year without rows means no activity, which 四(一)1 reads)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.evaluation.rubric import json_number
from services.evaluation.forms import columns as c
from services.evaluation.forms.common import (
    COL_ASSESSED, COL_ASSESSORS, COL_CERTIFIED, COL_EXPERTS, COL_LEVEL, COL_OCCUPATION,
    COL_PASSED, COL_SELF_SCORE, COL_SUPERVISORS, COL_USCC, COL_YEAR, HYPHENS,
    SHEET_ACTIVITY, SHEET_INSTITUTIONS, YEAR_MAX, YEAR_MIN, Problems, file_name, read_rows,
    read_uscc, row_failed)

LEVEL_MIN, LEVEL_MAX = 1, 5
SELF_SCORE_MAX = 100
# ASCII digits only: `\d` would also match full-width ６, and a code stored as typed
# never matches the filing scope (the normalisation is xlsx.as_code's NFKC).
OCCUPATION_CODE = re.compile(r"[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class SelfAssessmentRow:
    row_number: int  # in sheet 机构情况
    uscc: str
    assessors: int
    supervisors: int
    experts: int
    self_score: int | float
    # {year, occupation, level, assessed, passed, certified, row_number (in sheet
    # 认定开展情况)}; empty means no activity in any year.
    activity: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"row_number": self.row_number, "uscc": self.uscc,
                "assessors": self.assessors, "supervisors": self.supervisors,
                "experts": self.experts, "self_score": self.self_score,
                "activity": [dict(a) for a in self.activity]}

    @classmethod
    def from_dict(cls, d) -> "SelfAssessmentRow":
        return cls(d["row_number"], d["uscc"], d["assessors"], d["supervisors"],
                   d["experts"], d["self_score"], [dict(a) for a in d["activity"]])


def read_self_assessment(path, *, name=None) -> list[SelfAssessmentRow]:
    """Every institution of both sheets, or BadInput listing every problem of the file;
    each names its sheet, since both sheets have row numbers and a USCC column."""
    fname = file_name(path, name)
    problems = Problems()
    rows = read_rows(path, fname, problems, [COL_USCC, COL_ASSESSORS, COL_SUPERVISORS,
                                             COL_EXPERTS, COL_SELF_SCORE],
                     sheet=SHEET_INSTITUTIONS)
    # `listed`: every good USCC of sheet 机构情况, even of a row with a bad cell, so
    # that its activity rows are not refused for want of an institution as well.
    seen, institutions, listed = {}, {}, set()
    for row in rows:
        code, record = _institution_row(row, seen, problems)
        listed.add(code)
        if record is not None:
            institutions[code] = record
    rows = read_rows(path, fname, problems, [COL_USCC, COL_YEAR, COL_OCCUPATION, COL_LEVEL,
                                             COL_ASSESSED, COL_PASSED, COL_CERTIFIED],
                     sheet=SHEET_ACTIVITY, only_filled=False)
    seen = {}
    for row in rows:
        found = _activity_row(row, seen, problems)
        if found is not None:
            code, activity = found
            if code in institutions:
                institutions[code].activity.append(activity)
            elif code not in listed:
                problems.add(row.error(
                    COL_USCC, f"{code} has no row in sheet {SHEET_INSTITUTIONS}: every "
                    "institution reporting activity must have one",
                    f"{code} 在「{SHEET_INSTITUTIONS}」表中没有对应行:报告认定情况的机构"
                    "须在该表中有一行", "activity needs its institution"))
    problems.check()
    return list(institutions.values())


def _institution_row(row, seen, problems):
    before = len(problems)
    code = problems.cell(read_uscc, row, seen)
    values = {
        "assessors": problems.cell(row.int, COL_ASSESSORS, minimum=0),
        "supervisors": problems.cell(row.int, COL_SUPERVISORS, minimum=0),
        "experts": problems.cell(row.int, COL_EXPERTS, minimum=0),
        "self_score": problems.cell(row.decimal, COL_SELF_SCORE, minimum=0,
                                    maximum=SELF_SCORE_MAX)}
    if row_failed(problems, before):
        return code, None
    values["self_score"] = json_number(values["self_score"])
    return code, SelfAssessmentRow(row.row_number, code, activity=[], **values)


def _activity_row(row, seen, problems):
    before = len(problems)
    code = problems.cell(read_uscc, row)
    year = problems.cell(row.int, COL_YEAR, minimum=YEAR_MIN, maximum=YEAR_MAX)
    occupation = problems.cell(_occupation, row)
    level = problems.cell(row.int, COL_LEVEL, minimum=LEVEL_MIN, maximum=LEVEL_MAX)
    assessed = problems.cell(row.int, COL_ASSESSED, minimum=0)
    passed = problems.cell(row.int, COL_PASSED, minimum=0)
    certified = problems.cell(row.int, COL_CERTIFIED, minimum=0)
    if row_failed(problems, before):
        return None
    key = (code, year, occupation, level)
    if key in seen:
        # Two rows for the same cell of the statistics would be summed by one reader
        # and overwritten by another; make the operator say which is meant.
        problems.add(row.error(
            COL_USCC, f"{code} {year} {occupation} level {level} is already reported in "
            f"row {seen[key]}", f"{code} {year} 年 {occupation} {level} 级已在第 "
            f"{seen[key]} 行填报", "one row per institution, year, occupation and level"))
        return None
    seen[key] = row.row_number
    if passed > assessed:
        problems.add(row.error(COL_PASSED, f"{passed} passed but only {assessed} assessed",
                               f"合格人数 {passed} 大于参评人数 {assessed}",
                               "passed ≤ assessed"))
        return None
    if certified > passed:
        problems.add(row.error(COL_CERTIFIED,
                               f"{certified} certificates but only {passed} passed",
                               f"发证数 {certified} 大于合格人数 {passed}",
                               "certified ≤ passed"))
        return None
    return code, {"year": year, "occupation": occupation, "level": level,
                  "assessed": assessed, "passed": passed, "certified": certified,
                  "row_number": row.row_number}


def _occupation(row):
    text = row.code(COL_OCCUPATION, max_length=40).translate(HYPHENS)
    if not OCCUPATION_CODE.fullmatch(text):
        raise row.error(COL_OCCUPATION, f"{text!r} is not a 职业分类大典 code of the form "
                                        "D-DD-DD-DD (e.g. 6-18-02-04)",
                        f"{text!r} 不是职业分类大典编码,格式应为 D-DD-DD-DD(如 6-18-02-04)",
                        "occupation code")
    return text


def sheets(rubric):
    return (c.Sheet(SHEET_INSTITUTIONS, INSTITUTION_COLUMNS, True),
            c.Sheet(SHEET_ACTIVITY, ACTIVITY_COLUMNS, False))


_LEVELS = "1 = 一级/高级技师,2 = 二级/技师,3 = 三级/高级工,4 = 四级/中级工,5 = 五级/初级工"

INSTITUTION_COLUMNS = (
    c.USCC, c.NAME,
    c.Column(COL_ASSESSORS, "考评人员数,不小于 0 的整数,只填数字(不带「人」)",
             "number of assessors (考评人员)", 12, c.whole(0, what=COL_ASSESSORS)),
    c.Column(COL_SUPERVISORS, "内部质量督导人员数,不小于 0 的整数",
             "number of internal quality supervisors (内部质量督导人员)", 14,
             c.whole(0, what=COL_SUPERVISORS)),
    c.Column(COL_EXPERTS, "专家数,不小于 0 的整数", "number of experts (专家)", 10,
             c.whole(0, what=COL_EXPERTS)),
    c.Column(COL_SELF_SCORE, f"机构自评得分,0 至 {SELF_SCORE_MAX}",
             f"the institution's own score, 0 to {SELF_SCORE_MAX}", 10,
             c.decimal(0, SELF_SCORE_MAX, COL_SELF_SCORE)),
)

ACTIVITY_COLUMNS = (
    c.Column(COL_USCC, "18 位统一社会信用代码;须在「机构情况」表中有对应行。每个机构、年度、"
             "职业、等级一行;某年度无任何行即视为该年度未开展认定",
             "USCC of an institution listed in sheet 机构情况; one row per institution, "
             "year, occupation and level; a year without rows means no activity", 22,
             c.text_length("equal", 18, "统一社会信用代码为 18 位"), text=True),
    c.Column(COL_YEAR, f"年度,{YEAR_MIN} 至 {YEAR_MAX} 的整数,如 2022",
             f"year of the activity ({YEAR_MIN}-{YEAR_MAX})", 8,
             c.whole(YEAR_MIN, YEAR_MAX, COL_YEAR)),
    c.Column(COL_OCCUPATION, "职业分类大典编码,格式 D-DD-DD-DD,如 6-18-02-04(焊工)",
             "occupation code of the 职业分类大典, D-DD-DD-DD (e.g. 6-18-02-04)", 14,
             c.text_length("equal", 10, "职业编码格式为 D-DD-DD-DD"), text=True),
    c.Column(COL_LEVEL, f"等级(下拉选择)1 至 5:{_LEVELS}",
             "skill level 1-5 (1 = senior technician ... 5 = entry level)", 8,
             c.choice(range(LEVEL_MIN, LEVEL_MAX + 1), COL_LEVEL)),
    c.Column(COL_ASSESSED, "参评人数,不小于 0 的整数", "people assessed", 10,
             c.whole(0, what=COL_ASSESSED)),
    c.Column(COL_PASSED, "合格人数,不大于参评人数", "people who passed (at most the "
             "number assessed)", 10, c.whole(0, what=COL_PASSED)),
    c.Column(COL_CERTIFIED, "发证数,不大于合格人数", "certificates issued (at most the "
             "number who passed)", 10, c.whole(0, what=COL_CERTIFIED)),
)
