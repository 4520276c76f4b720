"""How a template column is described to the clerk: its header comment, the input
prompt shown when a cell is selected, its width, the cell validation (a drop-down where
a list applies) and whether it is text (codes), so that a clerk can fill the form
without instructions (issue #15).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.datavalidation import DataValidation

from services.evaluation.rubric import json_number
from services.evaluation.forms.common import COL_NAME, COL_USCC, YEAR_MAX, YEAR_MIN

# Date validation bounds in the templates: wide, they only catch typing slips.
_DATE_MIN = f"{to_excel(dt.date(YEAR_MIN, 1, 1)):.0f}"
_DATE_MAX = f"{to_excel(dt.date(YEAR_MAX, 12, 31)):.0f}"


@dataclass(frozen=True)
class Column:
    name: str
    zh: str   # the header comment and input prompt operators read
    en: str   # for the project's docs
    width: int = 14
    validation: Callable[[], DataValidation] | None = None  # a fresh one per sheet
    text: bool = False  # cells formatted as text ('@'): codes keep every digit
    formula: Callable[[int], str] | None = None  # row number -> formula (合计)


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: tuple
    prefilled: bool  # one row per institution, or header only


def checked(dv, title, message):
    dv.showErrorMessage = True
    dv.errorTitle = title
    dv.error = message
    return dv


def decimal(low, high, what):
    return lambda: checked(DataValidation(type="decimal", operator="between",
                                          formula1=str(low), formula2=str(high),
                                          allow_blank=True),
                           "数值超出范围", f"{what}:请填写 {low} 至 {high} 之间的数")


def whole(low, high=None, what=""):
    if high is None:
        return lambda: checked(DataValidation(type="whole", operator="greaterThanOrEqual",
                                              formula1=str(low), allow_blank=True),
                               "须为整数", f"{what}:请填写不小于 {low} 的整数")
    return lambda: checked(DataValidation(type="whole", operator="between",
                                          formula1=str(low), formula2=str(high),
                                          allow_blank=True),
                           "须为整数", f"{what}:请填写 {low} 至 {high} 之间的整数")


def date(what):
    return lambda: checked(DataValidation(type="date", operator="between",
                                          formula1=_DATE_MIN, formula2=_DATE_MAX,
                                          allow_blank=True),
                           "须为日期", f"{what}:请填写日期,如 2023-09-15")


def text_length(operator, length, message):
    return lambda: checked(DataValidation(type="textLength", operator=operator,
                                          formula1=str(length), allow_blank=True),
                           "长度不符", message)


def choice(values, what):
    """A drop-down of exactly the values a reader accepts."""
    listed = ",".join(str(v) for v in values)
    return lambda: checked(DataValidation(type="list", formula1=f'"{listed}"',
                                          allow_blank=True),
                           f"{what}无效", f"请从下拉列表选择{what}:" + "、".join(
                               str(v) for v in values))


def points(d: Decimal) -> str:
    return str(json_number(d))


USCC = Column(COL_USCC, "18 位统一社会信用代码(GB 32100-2015),校验位须正确;模板已预填",
              "the institution's 18-character unified social credit code, check "
              "character verified; pre-filled", 22,
              text_length("equal", 18, "统一社会信用代码为 18 位"), text=True)
NAME = Column(COL_NAME, "机构名称,仅供核对,导入时忽略",
              "institution name, for the operator's reference; ignored on import", 36)
