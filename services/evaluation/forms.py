"""The campaign's four operator forms (DESIGN.md §3): blank templates and their readers.

- self-assessment: 附件1, sheets 机构情况 (one row per institution) and 认定开展情况 (one
  row per institution, year, occupation and level);
- score-sheet: 附件2, one row per institution, one column per rubric area;
- findings: one row per institution and clause (四(一)2–6, 四(二)1), with evidence;
- rectification: one row per institution.

Readers are all or nothing: they return every row, validated, or raise BadInput for the
first bad cell, naming the file, the Excel row and the Chinese column, so the caller
records nothing from a file with any bad row. Templates are pre-filled with one row per
institution of a jurisdiction; a pre-filled row the operator left untouched (nothing but
the USCC and ignored columns such as 机构名称) is skipped, because one template lists
every institution while a submission covers only those it has something to say about
(findings above all). A file with no filled-in row at all is refused: it is almost
always the blank template sent by mistake.

Every row class has `to_dict()` (plain JSON, for RPC) and `from_dict()`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

import openpyxl
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.datavalidation import DataValidation

from shared import xlsx
from shared.errors import BadInput
from shared.language.clauses import CLAUSES, FINDING_CLAUSES, parse_clause
from services.evaluation.rubric import (DEFAULT_RUBRIC, Rubric, ScoreError, json_number,
                                       to_decimal)
from shared.language import uscc as uscc_codes

SELF_ASSESSMENT = "self-assessment"
SCORE_SHEET = "score-sheet"
FINDINGS = "findings"
RECTIFICATION = "rectification"
KINDS = (SELF_ASSESSMENT, SCORE_SHEET, FINDINGS, RECTIFICATION)

COL_USCC = "统一社会信用代码"
COL_NAME = "机构名称"  # template convenience; ignored on import
# 机构情况
COL_ASSESSORS = "考评人员数"
COL_SUPERVISORS = "内部质量督导人员数"
COL_EXPERTS = "专家数"
COL_SELF_SCORE = "自评得分"
# 认定开展情况
COL_YEAR = "年度"
COL_OCCUPATION = "职业编码"
COL_LEVEL = "等级"
COL_ASSESSED = "参评人数"
COL_PASSED = "合格人数"
COL_CERTIFIED = "发证数"
# 评估表
COL_EVALUATOR = "评估人"
COL_EVALUATED_ON = "评估日期"
# 问题认定
COL_CLAUSE = "条款"
COL_EVIDENCE = "事实与证据"
# 整改情况
COL_REPORT = "整改情况"
COL_SUBMITTED_ON = "提交日期"

SHEET_INSTITUTIONS = "机构情况"
SHEET_ACTIVITY = "认定开展情况"
SHEET_SCORES = "评估表"
SHEET_FINDINGS = "问题认定"
SHEET_RECTIFICATION = "整改报告"

YEAR_MIN, YEAR_MAX = 2015, 2100
LEVEL_MIN, LEVEL_MAX = 1, 5
SELF_SCORE_MAX = 100
EVIDENCE_MAX = 2000
EVALUATOR_MAX = 100
# A rectification report is a summary; the documents themselves are filed on paper.
# Bounded so that no event comes near the broker's message limit.
REPORT_MAX = 5000
# Date validation bounds in the templates: wide, they only catch typing slips.
_DATE_MIN = f"{to_excel(dt.date(YEAR_MIN, 1, 1)):.0f}"
_DATE_MAX = f"{to_excel(dt.date(YEAR_MAX, 12, 31)):.0f}"

# ASCII digits only: `\d` would also match full-width ６, and a code stored as typed
# never matches the filing scope (the normalisation is xlsx.as_code's NFKC).
OCCUPATION_CODE = re.compile(r"[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}")
# Chinese input methods produce full-width or dash-like hyphens and parentheses.
_HYPHENS = str.maketrans({"－": "-", "—": "-", "–": "-", "‐": "-", "‑": "-"})
_PARENS = str.maketrans({"（": "(", "）": ")"})


# ------------------------------------------------------------------------ row classes

@dataclass(frozen=True)
class ScoreRow:
    row_number: int
    uscc: str
    areas: dict      # short name -> the number as typed (int or float), rubric order
    score: dict      # Score.to_dict(): total, grade, rubric_version, areas (to 0.1)
    evaluator: str
    evaluated_on: str  # ISO date

    def to_dict(self) -> dict:
        return {"row_number": self.row_number, "uscc": self.uscc, "areas": dict(self.areas),
                "score": dict(self.score, areas=dict(self.score["areas"])),
                "evaluator": self.evaluator, "evaluated_on": self.evaluated_on}

    @classmethod
    def from_dict(cls, d) -> "ScoreRow":
        return cls(d["row_number"], d["uscc"], dict(d["areas"]), dict(d["score"]),
                   d["evaluator"], d["evaluated_on"])


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


@dataclass(frozen=True)
class FindingRow:
    row_number: int
    uscc: str
    clause: str  # one of rulebook.FINDING_CLAUSES, canonical spelling
    evidence: str

    def to_dict(self) -> dict:
        return {"row_number": self.row_number, "uscc": self.uscc, "clause": self.clause,
                "evidence": self.evidence}

    @classmethod
    def from_dict(cls, d) -> "FindingRow":
        return cls(d["row_number"], d["uscc"], d["clause"], d["evidence"])


@dataclass(frozen=True)
class RectificationRow:
    row_number: int
    uscc: str
    report: str
    submitted_on: str  # ISO date

    def to_dict(self) -> dict:
        return {"row_number": self.row_number, "uscc": self.uscc, "report": self.report,
                "submitted_on": self.submitted_on}

    @classmethod
    def from_dict(cls, d) -> "RectificationRow":
        return cls(d["row_number"], d["uscc"], d["report"], d["submitted_on"])


# ---------------------------------------------------------------------------- readers

def read_score_sheet(path, rubric: Rubric, *, name=None, period=None) -> list[ScoreRow]:
    """附件2: one row per institution, scored on every area of `rubric`. `period`
    (first, last) bounds 评估日期: the campaign's year up to the business date."""
    fname = _file_name(path, name)
    areas = rubric.short_names
    rows = xlsx.read_sheet(path, required=[COL_USCC, *areas, COL_EVALUATOR,
                                           COL_EVALUATED_ON], name=fname)
    rows = _filled(rows, fname)
    seen = {}
    return [_score_row(row, rubric, seen, period) for row in rows]


def _score_row(row, rubric, seen, period):
    code = _uscc(row, seen)
    # Each area through the one number policy first (NFKC, 15 digits): the rubric then
    # sees only plain numbers, never 1e999999 or a 5000-digit integer.
    typed = {a: _area(row, a) for a in rubric.short_names}
    try:
        score = rubric.score(typed)
    except ScoreError as exc:
        raise row.error(exc.area or rubric.short_names[0], str(exc)) from None
    areas = {a: json_number(to_decimal(v, a)) for a, v in typed.items()}
    return ScoreRow(row.row_number, code, areas, score.to_dict(),
                    row.text(COL_EVALUATOR, max_length=EVALUATOR_MAX),
                    _dated(row, COL_EVALUATED_ON, period).isoformat())


def _area(row, area):
    return row.decimal(area, required=False)


def _dated(row, column, period):
    first, last = period or (None, None)
    return row.date(column, earliest=first, latest=last)


def read_self_assessment(path, *, name=None) -> list[SelfAssessmentRow]:
    """附件1: sheet 机构情况 (one row per institution) and sheet 认定开展情况 (one row per
    institution, year, occupation and level; a year without rows means no activity).

    Errors name the sheet in their message, since both sheets have row numbers and a
    统一社会信用代码 column."""
    fname = _file_name(path, name)
    with _on_sheet(SHEET_INSTITUTIONS):
        rows = xlsx.read_sheet(path, sheet=SHEET_INSTITUTIONS, name=fname, required=[
            COL_USCC, COL_ASSESSORS, COL_SUPERVISORS, COL_EXPERTS, COL_SELF_SCORE])
        rows = _filled(rows, fname, f"sheet {SHEET_INSTITUTIONS}: ")
        seen = {}
        institutions = {}
        for row in rows:
            record = _institution_row(row, seen)
            institutions[record.uscc] = record
    with _on_sheet(SHEET_ACTIVITY):
        rows = xlsx.read_sheet(path, sheet=SHEET_ACTIVITY, name=fname, required=[
            COL_USCC, COL_YEAR, COL_OCCUPATION, COL_LEVEL, COL_ASSESSED, COL_PASSED,
            COL_CERTIFIED])
        seen = {}
        for row in rows:
            code, activity = _activity_row(row, institutions, seen)
            institutions[code].activity.append(activity)
    return list(institutions.values())


def _institution_row(row, seen):
    code = _uscc(row, seen)
    return SelfAssessmentRow(
        row.row_number, code,
        assessors=row.int(COL_ASSESSORS, minimum=0),
        supervisors=row.int(COL_SUPERVISORS, minimum=0),
        experts=row.int(COL_EXPERTS, minimum=0),
        self_score=json_number(row.decimal(COL_SELF_SCORE, minimum=0,
                                            maximum=SELF_SCORE_MAX)),
        activity=[])


def _activity_row(row, institutions, seen):
    code = _uscc(row)
    if code not in institutions:
        raise row.error(COL_USCC, f"{code} has no row in sheet {SHEET_INSTITUTIONS}: "
                                  "every institution reporting activity must have one")
    year = row.int(COL_YEAR, minimum=YEAR_MIN, maximum=YEAR_MAX)
    occupation = _occupation(row)
    level = row.int(COL_LEVEL, minimum=LEVEL_MIN, maximum=LEVEL_MAX)
    key = (code, year, occupation, level)
    if key in seen:
        # Two rows for the same cell of the statistics would be summed by one reader
        # and overwritten by another; make the operator say which is meant.
        raise row.error(COL_USCC, f"{code} {year} {occupation} level {level} is already "
                                  f"reported in row {seen[key]}")
    seen[key] = row.row_number
    assessed = row.int(COL_ASSESSED, minimum=0)
    passed = row.int(COL_PASSED, minimum=0)
    if passed > assessed:
        raise row.error(COL_PASSED, f"{passed} passed but only {assessed} assessed")
    certified = row.int(COL_CERTIFIED, minimum=0)
    if certified > passed:
        raise row.error(COL_CERTIFIED, f"{certified} certificates but only {passed} passed")
    return code, {"year": year, "occupation": occupation, "level": level,
                  "assessed": assessed, "passed": passed, "certified": certified,
                  "row_number": row.row_number}


def _occupation(row):
    text = row.code(COL_OCCUPATION, max_length=40).translate(_HYPHENS)
    if not OCCUPATION_CODE.fullmatch(text):
        raise row.error(COL_OCCUPATION, f"{text!r} is not a 职业分类大典 code of the form "
                                        "D-DD-DD-DD (e.g. 6-18-02-04)")
    return text


def read_findings(path, *, name=None) -> list[FindingRow]:
    """Evaluators' findings: one row per institution and clause, with the evidence."""
    fname = _file_name(path, name)
    rows = xlsx.read_sheet(path, required=[COL_USCC, COL_CLAUSE, COL_EVIDENCE], name=fname)
    rows = _filled(rows, fname)
    seen = {}
    out = []
    for row in rows:
        code = _uscc(row)
        clause = _clause(row)
        if (code, clause) in seen:
            raise row.error(COL_CLAUSE, f"{code} already has a finding under {clause} in "
                                        f"row {seen[code, clause]}: put all the evidence "
                                        "for one clause in one row")
        seen[code, clause] = row.row_number
        out.append(FindingRow(row.row_number, code, clause,
                              row.text(COL_EVIDENCE, max_length=EVIDENCE_MAX,
                                       multiline=True)))
    return out


def _clause(row):
    text = row.code(COL_CLAUSE, max_length=40)
    # parse_clause strips blanks; full-width parentheses are normalised here as well so
    # that 四（一）5 typed with a Chinese input method is accepted.
    try:
        code = parse_clause(text.translate(_PARENS))
    except ValueError:
        code = None
    if code in FINDING_CLAUSES:
        return code
    allowed = "; ".join(f"{c} {CLAUSES[c].zh}" for c in FINDING_CLAUSES)
    if code is not None:
        raise row.error(COL_CLAUSE, f"{code} is not recorded as a finding (the system "
                                    f"derives it from its data); findings are: {allowed}")
    raise row.error(COL_CLAUSE, f"unknown clause {text!r}; findings are: {allowed}")


def read_rectification(path, *, name=None, period=None) -> list[RectificationRow]:
    """Rectification reports (四(二)): one row per institution. `period` (first, last)
    bounds 提交日期: the campaign's year up to the business date."""
    fname = _file_name(path, name)
    rows = xlsx.read_sheet(path, required=[COL_USCC, COL_REPORT, COL_SUBMITTED_ON],
                           name=fname)
    rows = _filled(rows, fname)
    seen = {}
    return [RectificationRow(row.row_number, _uscc(row, seen),
                             row.text(COL_REPORT, max_length=REPORT_MAX, multiline=True),
                             _dated(row, COL_SUBMITTED_ON, period).isoformat())
            for row in rows]


# ----------------------------------------------------------------- reader helpers

def _file_name(path, name):
    return name or os.path.basename(str(path))


def _filled(rows, fname, where=""):
    """The rows with something besides the USCC; refuses a form with none."""
    out = [row for row in rows
           if any(v is not None for column, v in row.values.items() if column != COL_USCC)]
    if not out:
        raise BadInput(f"{where}no row is filled in (only blank or pre-filled template "
                       "rows)", file=fname)
    return out


def _uscc(row, seen=None):
    """The row's USCC, canonical; with `seen`, a second row for one code is refused."""
    code = uscc_codes.normalise(row.code(COL_USCC, max_length=40))
    reason = uscc_codes.problem(code)
    if reason:
        raise row.error(COL_USCC, f"invalid USCC {code}: {reason}")
    if seen is not None:
        if code in seen:
            raise row.error(COL_USCC, f"duplicate USCC {code}: already in row {seen[code]}")
        seen[code] = row.row_number
    return code


@contextmanager
def _on_sheet(sheet):
    # Row numbers alone are ambiguous in a two-sheet workbook.
    try:
        yield
    except BadInput as exc:
        if exc.row is None or exc.sheet is not None:
            raise
        raise BadInput(exc.message, file=exc.file, row=exc.row, column=exc.column,
                       sheet=sheet) from None


# ------------------------------------------------------------------------ templates

@dataclass(frozen=True)
class _Column:
    name: str
    zh: str   # the header comment operators read
    en: str   # for the project's docs
    width: int = 14
    validation: Callable[[], DataValidation] | None = None  # a fresh one per sheet


@dataclass(frozen=True)
class _Sheet:
    title: str
    columns: tuple
    prefilled: bool  # one row per institution, or header only


def _checked(dv, title, message):
    dv.showErrorMessage = True
    dv.errorTitle = title
    dv.error = message
    return dv


def _decimal(low, high, what):
    return lambda: _checked(DataValidation(type="decimal", operator="between",
                                           formula1=str(low), formula2=str(high),
                                           allow_blank=True),
                            "数值超出范围", f"{what}:请填写 {low} 至 {high} 之间的数")


def _whole(low, high=None, what=""):
    if high is None:
        return lambda: _checked(DataValidation(type="whole", operator="greaterThanOrEqual",
                                               formula1=str(low), allow_blank=True),
                                "须为整数", f"{what}:请填写不小于 {low} 的整数")
    return lambda: _checked(DataValidation(type="whole", operator="between",
                                           formula1=str(low), formula2=str(high),
                                           allow_blank=True),
                            "须为整数", f"{what}:请填写 {low} 至 {high} 之间的整数")


def _date(what):
    return lambda: _checked(DataValidation(type="date", operator="between",
                                           formula1=_DATE_MIN, formula2=_DATE_MAX,
                                           allow_blank=True),
                            "须为日期", f"{what}:请填写日期,如 2023-09-15")


def _text_length(operator, length, message):
    return lambda: _checked(DataValidation(type="textLength", operator=operator,
                                           formula1=str(length), allow_blank=True),
                            "长度不符", message)


def _clause_list():
    # A list validation gives the operator a drop-down of exactly the codes we accept.
    return _checked(DataValidation(type="list", formula1=f'"{",".join(FINDING_CLAUSES)}"',
                                   allow_blank=True),
                    "条款无效", "请从下拉列表选择条款:" + "、".join(FINDING_CLAUSES))


def _points(d: Decimal) -> str:
    return str(json_number(d))


_USCC = _Column(COL_USCC, "18 位统一社会信用代码(GB 32100-2015),校验位须正确;模板已预填",
                "the institution's 18-character unified social credit code, check "
                "character verified; pre-filled", 22,
                _text_length("equal", 18, "统一社会信用代码为 18 位"))
_NAME = _Column(COL_NAME, "机构名称,仅供核对,导入时忽略",
                "institution name, for the operator's reference; ignored on import", 36)


def _score_columns(rubric):
    areas = tuple(
        _Column(a.short_name,
                f"{a.title}\n满分 {_points(a.points)} 分;填 0 至 {_points(a.points)} "
                "之间的数,最多一位小数",
                f"score for area '{a.title}', 0 to {_points(a.points)} points "
                f"(rubric {rubric.version}); one decimal", 14,
                _decimal(0, _points(a.points), a.short_name))
        for a in rubric.areas)
    return (_USCC, _NAME, *areas,
            _Column(COL_EVALUATOR, "评估人姓名或工号(必填)",
                    "who scored the institution (name or staff id); required", 14,
                    _text_length("lessThanOrEqual", EVALUATOR_MAX,
                                 f"评估人不超过 {EVALUATOR_MAX} 个字符")),
            _Column(COL_EVALUATED_ON, "评估日期,YYYY-MM-DD", "date of the evaluation", 14,
                    _date(COL_EVALUATED_ON)))


_INSTITUTION_COLUMNS = (
    _USCC, _NAME,
    _Column(COL_ASSESSORS, "考评人员数,不小于 0 的整数", "number of assessors (考评人员)",
            12, _whole(0, what=COL_ASSESSORS)),
    _Column(COL_SUPERVISORS, "内部质量督导人员数,不小于 0 的整数",
            "number of internal quality supervisors (内部质量督导人员)", 14,
            _whole(0, what=COL_SUPERVISORS)),
    _Column(COL_EXPERTS, "专家数,不小于 0 的整数", "number of experts (专家)", 10,
            _whole(0, what=COL_EXPERTS)),
    _Column(COL_SELF_SCORE, f"机构自评得分,0 至 {SELF_SCORE_MAX}",
            f"the institution's own score, 0 to {SELF_SCORE_MAX}", 10,
            _decimal(0, SELF_SCORE_MAX, COL_SELF_SCORE)),
)

_ACTIVITY_COLUMNS = (
    _Column(COL_USCC, "18 位统一社会信用代码;须在「机构情况」表中有对应行。每个机构、年度、"
            "职业、等级一行;某年度无任何行即视为该年度未开展认定",
            "USCC of an institution listed in sheet 机构情况; one row per institution, "
            "year, occupation and level; a year without rows means no activity", 22,
            _text_length("equal", 18, "统一社会信用代码为 18 位")),
    _Column(COL_YEAR, f"年度,{YEAR_MIN} 至 {YEAR_MAX} 的整数,如 2022",
            f"year of the activity ({YEAR_MIN}-{YEAR_MAX})", 8,
            _whole(YEAR_MIN, YEAR_MAX, COL_YEAR)),
    _Column(COL_OCCUPATION, "职业分类大典编码,格式 D-DD-DD-DD,如 6-18-02-04(焊工)",
            "occupation code of the 职业分类大典, D-DD-DD-DD (e.g. 6-18-02-04)", 14,
            _text_length("equal", 10, "职业编码格式为 D-DD-DD-DD")),
    _Column(COL_LEVEL, "等级 1 至 5(1 = 一级/高级技师 … 5 = 五级/初级工)",
            "skill level 1-5 (1 = senior technician ... 5 = entry level)", 8,
            _whole(LEVEL_MIN, LEVEL_MAX, COL_LEVEL)),
    _Column(COL_ASSESSED, "参评人数,不小于 0 的整数", "people assessed", 10,
            _whole(0, what=COL_ASSESSED)),
    _Column(COL_PASSED, "合格人数,不大于参评人数", "people who passed (at most the number "
            "assessed)", 10, _whole(0, what=COL_PASSED)),
    _Column(COL_CERTIFIED, "发证数,不大于合格人数", "certificates issued (at most the "
            "number who passed)", 10, _whole(0, what=COL_CERTIFIED)),
)

_FINDING_COLUMNS = (
    _Column(COL_USCC, "18 位统一社会信用代码;一个机构有多项问题时每项一行(可复制本行)",
            "USCC; one row per institution and clause (copy the row for more clauses)",
            22, _text_length("equal", 18, "统一社会信用代码为 18 位")),
    _NAME,
    _Column(COL_CLAUSE, "条款(下拉选择):\n" + "\n".join(
                f"{c} {CLAUSES[c].zh}" for c in FINDING_CLAUSES),
            "clause of the notice the finding is under, one of "
            + ", ".join(FINDING_CLAUSES), 12, _clause_list),
    _Column(COL_EVIDENCE, f"事实与证据(必填,不超过 {EVIDENCE_MAX} 字)",
            f"facts and evidence for the finding; required, at most {EVIDENCE_MAX} "
            "characters", 60,
            _text_length("lessThanOrEqual", EVIDENCE_MAX,
                         f"事实与证据不超过 {EVIDENCE_MAX} 字")),
)

_RECTIFICATION_COLUMNS = (
    _USCC, _NAME,
    _Column(COL_REPORT, f"整改情况说明(必填,不超过 {REPORT_MAX} 字)",
            f"what the institution rectified (the report); required, at most "
            f"{REPORT_MAX} characters", 60,
            _text_length("lessThanOrEqual", REPORT_MAX,
                         f"整改情况不超过 {REPORT_MAX} 字")),
    _Column(COL_SUBMITTED_ON, "提交日期,YYYY-MM-DD",
            "date the rectification was submitted", 14, _date(COL_SUBMITTED_ON)),
)


def _sheets(kind, rubric):
    if kind == SELF_ASSESSMENT:
        return (_Sheet(SHEET_INSTITUTIONS, _INSTITUTION_COLUMNS, True),
                _Sheet(SHEET_ACTIVITY, _ACTIVITY_COLUMNS, False))
    if kind == SCORE_SHEET:
        return (_Sheet(SHEET_SCORES, _score_columns(rubric), True),)
    if kind == FINDINGS:
        return (_Sheet(SHEET_FINDINGS, _FINDING_COLUMNS, True),)
    if kind == RECTIFICATION:
        return (_Sheet(SHEET_RECTIFICATION, _RECTIFICATION_COLUMNS, True),)
    raise ValueError(f"unknown form kind {kind!r} (kinds: {', '.join(KINDS)})")


def write_template(kind, path, institutions, *, rubric=DEFAULT_RUBRIC):
    """A blank form of `kind` at `path`, one pre-filled row per institution (dicts with
    `uscc` and `name`). Returns `path`."""
    sheets = _sheets(kind, rubric)
    prefill = [{COL_USCC: i["uscc"], COL_NAME: i.get("name")} for i in institutions]
    wb = openpyxl.Workbook()
    for sheet in sheets:
        columns = sheet.columns
        xlsx.write_sheet(
            wb, sheet.title, [c.name for c in columns],
            prefill if sheet.prefilled else [],
            widths={c.name: c.width for c in columns},
            comments={c.name: c.zh for c in columns},
            validations={c.name: c.validation() for c in columns if c.validation})
    _describe(wb, kind, institutions, rubric)
    xlsx.save_workbook(wb, path)
    return path


def _describe(wb, kind, institutions, rubric):
    # Lets an operator (or support) tell which campaign form a returned file started as.
    jurisdictions = sorted({str(i["jurisdiction"]) for i in institutions
                            if i.get("jurisdiction")})
    wb.properties.creator = "pinggu"
    wb.properties.title = f"pinggu {kind} template"
    wb.properties.subject = ("jurisdiction " + ", ".join(jurisdictions)) if jurisdictions \
        else None
    if kind == SCORE_SHEET:
        wb.properties.keywords = f"rubric {rubric.version}"


def _documentation():
    docs = {}
    for kind in KINDS:
        sheets = _sheets(kind, DEFAULT_RUBRIC)
        docs[kind] = [
            (c.name, (f"[{s.title}] " if len(sheets) > 1 else "")
             + f"{c.en} / {c.zh.replace(chr(10), ' ')}")
            for s in sheets for c in s.columns]
    return docs


# kind -> [(column, meaning in English / Chinese)], for the project's docs. The score
# sheet is documented with the default rubric; a campaign's rubric may differ.
COLUMNS = _documentation()
