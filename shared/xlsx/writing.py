"""Writing the forms we hand out: a styled table, safe against formula injection,
printed landscape to the page width with the header repeated, saved atomically."""

import datetime as dt
import os
import tempfile
from collections.abc import Mapping

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
# Excel shows at most 255 characters of an input prompt and 32 of its title.
PROMPT_MAX, PROMPT_TITLE_MAX = 255, 32


def write_sheet(workbook_or_path, title, columns, rows, *, widths=None, comments=None,
                validations=None, prompts=None, text_columns=(), formulas=None):
    """Write a styled table: bold filled header row, frozen below it, with filters,
    printed landscape fitted to the page width with the header row on every page.

    `rows` are sequences in `columns` order or mappings by column name. `widths` maps
    column -> width (default: fitted to the content). `comments` maps column -> header
    comment, which is where forms document what a column expects. `validations` maps
    column -> openpyxl DataValidation, applied to that column from row 2 down, so it
    also covers rows the operator adds. `prompts` maps column -> the input prompt Excel
    shows when a cell of it is selected. `text_columns` are formatted as text ('@'), so
    that a typed 18-digit code stays a string and never becomes 1.21401E+17.
    `formulas` maps column -> f(row number) -> formula, written in each written row
    (formulas are ours, so they bypass write_cell's literal-text rule).

    Given a Workbook, adds the sheet and returns it (a fresh workbook's empty default
    sheet is reused); given a path, writes a one-sheet workbook there atomically and
    returns the path.
    """
    if isinstance(workbook_or_path, openpyxl.Workbook):
        wb, path = workbook_or_path, None
    else:
        wb, path = openpyxl.Workbook(), workbook_or_path
    ws = _new_sheet(wb, title)
    columns = list(columns)

    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=index, value=column)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN
        if comments and comments.get(column):
            cell.comment = Comment(comments[column], "pinggu", width=300, height=150)

    longest = [_display_width(c) for c in columns]
    for row_index, row in enumerate(rows, start=2):
        values = ([row.get(c) for c in columns] if isinstance(row, Mapping)
                  else list(row))
        if len(values) != len(columns):
            raise ValueError(f"row {row_index} has {len(values)} values for "
                             f"{len(columns)} columns")
        for col_index, value in enumerate(values, start=1):
            write_cell(ws.cell(row=row_index, column=col_index), value)
            longest[col_index - 1] = max(longest[col_index - 1], _display_width(value))

    for index, column in enumerate(columns, start=1):
        width = (widths or {}).get(column) or min(max(longest[index - 1] + 2, 8), 60)
        ws.column_dimensions[get_column_letter(index)].width = width

    last_row = max(ws.max_row, 1)
    for column in text_columns:
        index = columns.index(column) + 1
        # The column's style applies to cells the operator types into later; the
        # written cells get it too.
        ws.column_dimensions[get_column_letter(index)].number_format = TEXT_FORMAT
        for row_index in range(2, last_row + 1):
            ws.cell(row=row_index, column=index).number_format = TEXT_FORMAT
    for column, formula in (formulas or {}).items():
        index = columns.index(column) + 1
        for row_index in range(2, last_row + 1):
            ws.cell(row=row_index, column=index, value=formula(row_index))

    validations = dict(validations or {})
    for column, prompt in (prompts or {}).items():
        # A column without a rule still gets a validation of any value, which is what
        # carries Excel's input prompt.
        dv = validations.setdefault(column, DataValidation(allow_blank=True))
        dv.showInputMessage = True
        dv.promptTitle = str(column)[:PROMPT_TITLE_MAX]
        dv.prompt = prompt if len(prompt) <= PROMPT_MAX else prompt[:PROMPT_MAX - 1] + "…"
    for column, validation in validations.items():
        letter = get_column_letter(columns.index(column) + 1)
        ws.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}1048576")

    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
    _print_setup(ws)

    if path is not None:
        save_workbook(wb, path)
        return path
    return ws


def _print_setup(ws):
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _new_sheet(wb, title):
    only = wb.worksheets[0] if len(wb.worksheets) == 1 else None
    if (only is not None and only.title == "Sheet" and only.max_row == 1
            and only.max_column == 1 and only["A1"].value is None):
        only.title = title
        return only
    return wb.create_sheet(title)


def write_cell(cell, value):
    """Set a cell so that no text ever becomes a formula (see the module docstring)."""
    if isinstance(value, str):
        # Control characters are not allowed in XML; openpyxl would raise mid-file.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        if value.startswith(_FORMULA_START):
            # openpyxl turns any string starting with "=" into a formula, and Excel
            # evaluates the others on edit: force a literal string, and set Excel's
            # quotePrefix so it stays text if the operator edits the cell.
            cell.data_type = "s"
            cell.quotePrefix = True
        return
    cell.value = value
    if isinstance(value, (dt.date, dt.datetime)):
        cell.number_format = _DATE_FORMAT


def _display_width(value):
    if value is None:
        return 0
    if isinstance(value, (dt.date, dt.datetime)):
        return 10
    text = str(value)
    # CJK characters take two columns in Excel's default fonts.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def save_workbook(wb, path):
    """Save so that `path` is either the old file or the complete new one, never half
    written: write a temp file in the same directory, fsync, then rename over."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".xlsx.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            wb.save(fh)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file 0600; keep an existing file's mode, else 0644.
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path
