"""Reading and writing the project's xlsx forms safely.

Every form an operator hands in is untrusted: it is size-checked, its zip is checked for
decompression bombs, and it is parsed by openpyxl with defusedxml (refused at import if
that protection is not active). A bad file or cell raises `BadInput` naming the file, the
1-based Excel row and the column, so the CLI can point the operator at the cell.

Every form we hand out is written so that no cell turns into a formula when opened
(CSV/formula injection): strings starting with = + - @ TAB CR stay literal text.
"""

import datetime as dt
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from shared.errors import BadInput

# openpyxl parses with defusedxml only when that package is importable and
# OPENPYXL_DEFUSEDXML is not "False". Reading untrusted files without it would expose us
# to entity-expansion attacks, so we refuse to run rather than degrade silently.
if not openpyxl.DEFUSEDXML:
    raise ImportError("openpyxl is not using defusedxml; install defusedxml and do not "
                      "set OPENPYXL_DEFUSEDXML=False")

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20000
# Real xlsx files inflate roughly 5-15x; far beyond that is a zip bomb.
MAX_EXPANSION = 40

# A float holds integers exactly only up to 2**53; an 18-digit code typed into a number
# cell has already lost digits by the time we see it.
_EXACT_FLOAT = 2 ** 53

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------------------- reading

def read_sheet(path, *, sheet=None, required, optional=(), max_bytes=MAX_BYTES,
               max_rows=MAX_ROWS, name=None):
    """The non-blank data rows of one sheet, as `Row` objects (each unpacks as
    `(row_number, values)`).

    `values` holds exactly the `required` and `optional` columns (an optional column
    absent from the file reads as None); other columns are ignored. Header names and
    string cells are stripped; an empty string reads as None. `name` is the file name
    to report in errors (default: the basename of `path`), for files received under a
    temporary name.
    """
    fname = name or os.path.basename(str(path))
    _check_file(path, fname, max_bytes)
    try:
        with open(path, "rb") as fh:
            # A file object skips openpyxl's check of the name's extension, so an
            # upload saved under a temporary name still reads.
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
            try:
                return _read(wb, fname, sheet, list(required), list(optional), max_rows)
            finally:
                wb.close()
    except BadInput:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise BadInput(f"not a readable xlsx file ({type(exc).__name__}: {exc})",
                       file=fname) from exc


def _check_file(path, fname, max_bytes):
    try:
        size = os.path.getsize(path)
    except OSError:
        raise BadInput("file not found or not readable", file=fname) from None
    if not os.path.isfile(path):
        raise BadInput("not a regular file", file=fname)
    if size > max_bytes:
        raise BadInput(f"file is {size} bytes, more than the limit of {max_bytes}",
                       file=fname)
    try:
        with zipfile.ZipFile(path) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError):
        raise BadInput("not an xlsx file (xlsx is a zip archive; is this .xls or csv?)",
                       file=fname) from None
    if inflated > max(max_bytes, size) * MAX_EXPANSION:
        raise BadInput(f"file inflates to {inflated} bytes; refused as a zip bomb",
                       file=fname)


def _read(wb, fname, sheet, required, optional, max_rows):
    if sheet is None:
        ws = wb.worksheets[0]
    elif sheet in wb.sheetnames:
        ws = wb[sheet]
    else:
        raise BadInput(f"no sheet named {sheet!r} (sheets: {', '.join(wb.sheetnames)})",
                       file=fname)
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None or all(_clean(v) is None for v in header):
        raise BadInput("the header row is empty", file=fname, row=1)

    positions = {}
    for index, raw in enumerate(header):
        title = _clean(raw)
        if title is None:
            continue
        title = str(title)
        if title in positions:
            raise BadInput(f"duplicate column {title!r} (columns "
                           f"{get_column_letter(positions[title] + 1)} and "
                           f"{get_column_letter(index + 1)})",
                           file=fname, row=1, column=title)
        positions[title] = index
    for title in required:
        if title not in positions:
            raise BadInput("missing column", file=fname, row=1, column=title)
    wanted = {t: positions.get(t) for t in (*required, *optional)}

    out = []
    for number, cells in enumerate(rows, start=2):
        cells = [_clean(v) for v in cells]
        if all(v is None for v in cells):
            continue
        if len(out) >= max_rows:
            raise BadInput(f"more than {max_rows} data rows", file=fname, row=number)
        values = {t: (cells[i] if i is not None and i < len(cells) else None)
                  for t, i in wanted.items()}
        out.append(Row(fname, number, values))
    return out


def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


@dataclass(frozen=True)
class Row:
    """One data row: the cell values by column, plus where it came from for errors."""
    file: str
    row_number: int
    values: dict

    def __iter__(self):  # lets callers write `for number, values in read_sheet(...)`
        return iter((self.row_number, self.values))

    def get(self, column):
        return self.values[column]

    def _where(self, column):
        return {"file": self.file, "row": self.row_number, "column": column}

    def error(self, column, message):
        """A BadInput pointing at this row's cell in `column`."""
        return BadInput(message, **self._where(column))

    def text(self, column, *, required=True, max_length=None):
        return as_text(self.values[column], required=required, max_length=max_length,
                       **self._where(column))

    def int(self, column, *, required=True, minimum=None, maximum=None):
        return as_int(self.values[column], required=required, minimum=minimum,
                      maximum=maximum, **self._where(column))

    def decimal(self, column, *, required=True, minimum=None, maximum=None):
        return as_decimal(self.values[column], required=required, minimum=minimum,
                          maximum=maximum, **self._where(column))

    def number(self, column, *, required=True, minimum=None, maximum=None):
        return as_number(self.values[column], required=required, minimum=minimum,
                         maximum=maximum, **self._where(column))

    def date(self, column, *, required=True):
        return as_date(self.values[column], required=required, **self._where(column))


# ----------------------------------------------------------------- cell coercion
# Each takes the raw cell value and where it came from; blank (None or whitespace)
# returns None when required=False and is refused otherwise.

def _blank(value, required, where):
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadInput("required, but the cell is empty", **where)
        return True
    return False


def as_text(value, *, file=None, row=None, column=None, required=True, max_length=None):
    where = {"file": file, "row": row, "column": column}
    if _blank(value, required, where):
        return None
    if isinstance(value, bool):
        raise BadInput("expected text, got a TRUE/FALSE cell", **where)
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= _EXACT_FLOAT:
            raise BadInput(f"expected text, got the number {value!r} (digits may have "
                           "been lost: format the cell as text and type it again)",
                           **where)
        value = int(value)
    if isinstance(value, (dt.date, dt.datetime)):
        raise BadInput("expected text, got a date cell", **where)
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        raise BadInput(f"longer than {max_length} characters", **where)
    return text


def _bounded(number, minimum, maximum, where):
    if minimum is not None and number < minimum:
        raise BadInput(f"{number} is less than the minimum {minimum}", **where)
    if maximum is not None and number > maximum:
        raise BadInput(f"{number} is more than the maximum {maximum}", **where)
    return number


def as_int(value, *, file=None, row=None, column=None, required=True, minimum=None,
           maximum=None):
    where = {"file": file, "row": row, "column": column}
    if _blank(value, required, where):
        return None
    if isinstance(value, bool) or isinstance(value, (dt.date, dt.datetime)):
        raise BadInput(f"expected a whole number, got {value!r}", **where)
    if isinstance(value, float):
        if not value.is_integer():
            raise BadInput(f"expected a whole number, got {value!r}", **where)
        value = int(value)
    elif isinstance(value, str):
        if not re.fullmatch(r"[+-]?[0-9]+", value.strip()):
            raise BadInput(f"expected a whole number, got {value!r}", **where)
        value = int(value.strip())
    elif not isinstance(value, int):
        raise BadInput(f"expected a whole number, got {value!r}", **where)
    return _bounded(value, minimum, maximum, where)


def as_decimal(value, *, file=None, row=None, column=None, required=True, minimum=None,
               maximum=None):
    """A Decimal, exact for what the operator typed (floats go through their repr)."""
    where = {"file": file, "row": row, "column": column}
    if _blank(value, required, where):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise BadInput(f"expected a number, got {value!r}", **where)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadInput(f"expected a number, got {value!r}", **where) from None
    if not number.is_finite():
        raise BadInput(f"expected a number, got {value!r}", **where)
    return _bounded(number, minimum, maximum, where)


def as_number(value, *, file=None, row=None, column=None, required=True, minimum=None,
              maximum=None):
    number = as_decimal(value, file=file, row=row, column=column, required=required,
                        minimum=minimum, maximum=maximum)
    return None if number is None else float(number)


_DATE_TEXT = re.compile(
    r"([0-9]{4})\s*(?:[-/.]|年)\s*([0-9]{1,2})\s*(?:[-/.]|月)\s*([0-9]{1,2})\s*日?")


def as_date(value, *, file=None, row=None, column=None, required=True):
    """A date from a date cell, or text YYYY-MM-DD (also YYYY/MM/DD, YYYY.MM.DD and
    YYYY年M月D日). A plain number is refused rather than read as an Excel serial day:
    it is more often a typing slip than a date."""
    where = {"file": file, "row": row, "column": column}
    if _blank(value, required, where):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = _DATE_TEXT.fullmatch(value.strip())
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                pass
        raise BadInput(f"not a valid date {value!r} (write YYYY-MM-DD)", **where)
    raise BadInput(f"expected a date, got {value!r} (format the cell as a date or "
                   "write YYYY-MM-DD)", **where)


# ---------------------------------------------------------------------------- writing

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_DATE_FORMAT = "yyyy-mm-dd"


def write_sheet(workbook_or_path, title, columns, rows, *, widths=None, comments=None,
                validations=None):
    """Write a styled table: bold filled header row, frozen below it, with filters.

    `rows` are sequences in `columns` order or mappings by column name. `widths` maps
    column -> width (default: fitted to the content). `comments` maps column -> header
    comment, which is where forms document what a column expects. `validations` maps
    column -> openpyxl DataValidation, applied to that column from row 2 down, so it
    also covers rows the operator adds.

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

    for column, validation in (validations or {}).items():
        letter = get_column_letter(columns.index(column) + 1)
        ws.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}1048576")

    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"

    if path is not None:
        save_workbook(wb, path)
        return path
    return ws


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
