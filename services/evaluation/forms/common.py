"""What the four forms share: their names, the column and sheet titles, and the reading
helpers that collect every problem of a file before it is refused as a whole.

Readers are all or nothing (DESIGN.md §3): they return every row, validated, or raise
one BadInput listing every bad cell (up to shared.errors.MAX_ERRORS), so the caller
records nothing from a file with any bad row and the clerk fixes all of them at once.
"""

from __future__ import annotations

import os
import re

from shared import xlsx
from shared.errors import MAX_ERRORS, BadInput
from shared.language import uscc as uscc_codes

SELF_ASSESSMENT = "self-assessment"
SCORE_SHEET = "score-sheet"
FINDINGS = "findings"
RECTIFICATION = "rectification"
KINDS = (SELF_ASSESSMENT, SCORE_SHEET, FINDINGS, RECTIFICATION)

COL_USCC = "统一社会信用代码"
COL_NAME = "机构名称"  # template convenience; ignored on import
COL_TOTAL = "合计"     # the score sheet's formula column; ignored on import
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

# Columns a template writes for the clerk's convenience and a reader never looks at.
IGNORED = frozenset({COL_NAME, COL_TOTAL})

YEAR_MIN, YEAR_MAX = 2015, 2100

# Chinese input methods produce full-width or dash-like hyphens and parentheses.
HYPHENS = str.maketrans({"－": "-", "—": "-", "–": "-", "‐": "-", "‑": "-"})
PARENS = str.maketrans({"（": "(", "）": ")"})


class Problems:
    """Every problem found in one file, up to `cap`: readers note a bad cell and go on,
    and refuse the file at the end with the whole list."""

    def __init__(self, cap=MAX_ERRORS):
        self.errors = []
        self.cap = cap

    def __len__(self):
        return len(self.errors)

    def add(self, exc: BadInput):
        for error in exc.errors:
            if len(self.errors) >= self.cap:
                raise BadInput.of(self.errors, truncated=True)
            self.errors.append(error)

    def cell(self, read, *args, **kwargs):
        """What `read` returns, or None with its problem noted."""
        try:
            return read(*args, **kwargs)
        except BadInput as exc:
            self.add(exc)
            return None

    def fatal(self, exc: BadInput):
        """A problem that stops reading (a missing sheet or column): refuse now, with
        what was found before it."""
        self.add(exc)
        raise BadInput.of(self.errors)

    def check(self):
        if self.errors:
            raise BadInput.of(self.errors)


def file_name(path, name):
    return name or os.path.basename(str(path))


def read_rows(path, fname, problems, required, *, sheet=None, only_filled=True):
    """The sheet's data rows (only those filled in, unless `only_filled` is false); a
    problem that stops reading ends the file's list of problems."""
    try:
        rows = xlsx.read_sheet(path, sheet=sheet, required=required, name=fname)
        return filled(rows, fname, sheet) if only_filled else rows
    except BadInput as exc:
        problems.fatal(exc)


def filled(rows, fname, sheet):
    """The rows with something besides the USCC and ignored columns; refuses a form
    with none (almost always the blank template sent by mistake)."""
    out = [row for row in rows
           if any(v is not None for column, v in row.values.items()
                  if column != COL_USCC and column not in IGNORED)]
    if not out:
        raise BadInput("no row is filled in (only blank or pre-filled template rows)",
                       message_zh="没有填写任何一行(只有空白行或模板预填的行)",
                       rule="filled rows", file=fname, sheet=sheet)
    return out


def read_uscc(row, seen=None):
    """The row's USCC, canonical; with `seen`, a second row for one code is refused."""
    code = uscc_codes.normalise(row.code(COL_USCC, max_length=40))
    reason = uscc_codes.problem(code)
    if reason:
        raise row.error(COL_USCC, f"invalid USCC {code}: {reason}",
                        f"统一社会信用代码 {code} 无效:{_uscc_zh(reason)}", "USCC")
    if seen is not None:
        if code in seen:
            raise row.error(COL_USCC, f"duplicate USCC {code}: already in row {seen[code]}",
                            f"统一社会信用代码 {code} 重复:第 {seen[code]} 行已有",
                            "one row per institution")
        seen[code] = row.row_number
    return code


def _uscc_zh(reason):
    if reason.startswith("wrong length"):
        return f"应为 18 位,实为 {re.search(r'[0-9]+', reason).group()} 位"
    if reason.startswith("wrong check character"):
        return f"校验位错误(按前 17 位应为 {reason.split()[4]})"
    if reason.startswith("division code"):
        return "第 3-8 位不是有效的行政区划代码"
    if "upper-case" in reason:
        return "含有小写字母或不允许的字符(代码为大写)"
    return "含有不允许的字符(GB 32100-2015)"


def row_failed(problems, before):
    """Whether the row read since `len(problems)` was `before` had a bad cell: its
    cross-cell checks (passed ≤ assessed, …) would only repeat the problem."""
    return len(problems) > before
