"""Filling a form the way a clerk does, for the demo (services/demo.py), the benchmarks
(bench/) and the tests (tests/factories.py): start from the template, type values into
the pre-filled rows, delete the rows of institutions the file is not about, add rows.

Values are typed as they are (a string starting with "=" becomes a formula, as it would
in Excel), so that tests can plant what a clerk might type. Columns are found by their
header, never by position, so a template's added columns (合计, 机构名称) change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import openpyxl
from openpyxl.formula.translate import Translator

from shared import xlsx
from services.evaluation.forms.common import COL_USCC
from services.evaluation.forms.templates import write_template
from services.evaluation.rubric import DEFAULT_RUBRIC

Values = Mapping[str, Any]


@dataclass
class Rows:
    """What to do to one sheet.

    `values`: the values to type into each pre-filled row, by its USCC: a mapping
    {uscc: {column: value}} or a function uscc -> {column: value} (None: leave the row).
    `keep`: the USCCs whose pre-filled rows stay (None: all); the others are deleted.
    `append`: rows to add below, each {column: value}.
    """
    values: Mapping[str, Values] | Callable[[str], Values | None] = field(default_factory=dict)
    keep: Iterable[str] | None = None
    append: Iterable[Values] = ()


def fill(template, sheets: Mapping[str | None, Rows], *, out=None):
    """Fill the form at `template` ({sheet title, or None for the first: Rows}) and save
    it at `out` (default: over the template). Returns the path written."""
    wb = openpyxl.load_workbook(template)
    for title, rows in sheets.items():
        _fill_sheet(wb[title] if title else wb.worksheets[0], rows)
    path = str(out or template)
    xlsx.save_workbook(wb, path)
    return path


def new_form(kind, path, sheets: Mapping[str | None, Rows], *, institutions=(),
             rubric=DEFAULT_RUBRIC):
    """A template of `kind` for `institutions` (dicts with uscc and name, or USCCs),
    filled with `sheets`: the one way tests and the benchmarks make a form."""
    listed = [i if isinstance(i, Mapping) else {"uscc": i} for i in institutions]
    write_template(kind, path, listed, rubric=rubric)
    return fill(path, sheets)


def _fill_sheet(ws, rows):
    header = {cell.value: cell.column for cell in ws[1] if cell.value is not None}
    keep = None if rows.keep is None else set(rows.keep)
    values = rows.values if callable(rows.values) else rows.values.get
    uscc_column = header.get(COL_USCC)
    dropped = []
    for number in range(2, ws.max_row + 1):
        code = ws.cell(number, uscc_column).value if uscc_column else None
        if code is None:
            continue
        if keep is not None and code not in keep:
            dropped.append(number)
            continue
        _type(ws, header, number, values(code) or {})
        _move_formulas(ws, number, number - sum(1 for d in dropped if d < number))
    # Bottom-up, so that deleting a row does not shift the rows still to delete.
    for number in reversed(dropped):
        ws.delete_rows(number)
    number = _last_filled(ws)
    for row in rows.append:
        number += 1
        _type(ws, header, number, row)


def _move_formulas(ws, old, new):
    # openpyxl moves a deleted row's neighbours without rewriting their formulas: a
    # row's 合计 is rewritten for the place it is moving to.
    if old == new:
        return
    for cell in ws[old]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            origin = f"{cell.column_letter}{old}"
            cell.value = Translator(cell.value, origin).translate_formula(
                f"{cell.column_letter}{new}")


def _type(ws, header, number, values):
    for column, value in values.items():
        if column not in header:
            raise KeyError(f"sheet {ws.title!r} has no column {column!r} "
                           f"(columns: {', '.join(map(str, header))})")
        ws.cell(number, header[column]).value = value


def _last_filled(ws):
    # max_row counts rows that only carry a style (a text-formatted code column):
    # new rows go below the last row with a value.
    for number in range(ws.max_row, 1, -1):
        if any(cell.value is not None for cell in ws[number]):
            return number
    return 1
