"""Reading and writing the project's xlsx forms safely.

Every form an operator hands in is untrusted: it is size-checked, its zip is checked for
decompression bombs, and it is parsed by openpyxl with defusedxml (refused at import if
that protection is not active). A bad file or cell raises `BadInput` naming the file, the
sheet, the 1-based Excel row and the column, with the rule it breaks, in English and in
Chinese (`message_zh`), so the operator is pointed at the cell; the form readers collect
these per cell and refuse a file with all of them at once.

Every form we hand out is written so that no cell turns into a formula when opened
(CSV/formula injection): strings starting with = + - @ TAB CR stay literal text. It is
printed landscape, fitted to the page width, with its header row on every page.
"""

import datetime as dt
import math
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

from shared.errors import BadInput

# openpyxl parses with defusedxml only when that package is importable and
# OPENPYXL_DEFUSEDXML is not "False". Reading untrusted files without it would expose us
# to entity-expansion attacks, so we refuse to run rather than degrade silently.
if not openpyxl.DEFUSEDXML:
    raise ImportError("openpyxl is not using defusedxml; install defusedxml and do not "
                      "set OPENPYXL_DEFUSEDXML=False")

MAX_BYTES = 20 * 1024 * 1024
# Every row counts against this, blank ones too: a file of a million empty rows costs
# as much to parse as a full one.
MAX_ROWS = 20000
# The widest form has 13 columns; the header decides how many columns are read at all.
MAX_COLUMNS = 64
# Real xlsx files inflate roughly 5-15x. Both limits hold: a ratio against the file's
# real size, and an absolute cap on what parsing may have to read.
MAX_EXPANSION = 100
MAX_INFLATED = 64 * 1024 * 1024
MAX_MEMBERS = 500
# openpyxl loads every shared string before the first row: their number is bounded by
# what a form can use (rows times text columns), counted before anything is parsed.
MAX_SHARED_STRINGS = 200_000
# Cells in one row element (a row of a form has a few dozen at most).
MAX_CELLS_PER_ROW = 1024
# Excel's own limit for one cell; a longer string can only come from a forged file.
MAX_CELL_CHARS = 32767
# Text columns without a limit of their own.
TEXT_MAX = 200
# Numbers: at most 15 significant digits (what a cell holds exactly) and magnitudes an
# operator can mean. Beyond that a number is a slip or an attack, never data.
MAX_DIGITS = 15
# Every date cell lies in these years, whatever the form; readers narrow it further
# (the campaign, the business date).
DATE_MIN, DATE_MAX = dt.date(1980, 1, 1), dt.date(2099, 12, 31)
# How far after the business date a date may lie: forms are filled in ahead (a score
# sheet dated for the visit next week), other systems report as of a cut-off. Beyond
# that a date is a slip (2099) and would decide deadlines.
AHEAD = dt.timedelta(days=90)


def latest_date(today):
    """The latest date a cell may hold, given the business date (None: no bound)."""
    return today + AHEAD if today else None

# A float holds integers exactly only up to 2**53; an 18-digit code typed into a number
# cell has already lost digits by the time we see it.
_EXACT_FLOAT = 2 ** 53

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Unreadable:
    """A cell whose value cannot be taken as data (an Excel error, a formula without a
    computed value, a number beyond any cell's precision). It is refused, naming the
    cell, only if the reader asks for that column."""

    def __init__(self, reason, reason_zh=None):
        self.reason = reason
        self.reason_zh = reason_zh or reason

    def __repr__(self):
        return f"<unreadable: {self.reason}>"


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

    Bounded by construction: only as many columns as the header has are kept, every
    row (blank or not) counts against `max_rows`, the sheet's declared dimension is
    never consulted, and merged cells are refused.
    """
    fname = name or os.path.basename(str(path))
    check_file(path, fname, max_bytes)
    try:
        with open(path, "rb") as fh:
            # A file object skips openpyxl's check of the name's extension, so an
            # upload saved under a temporary name still reads.
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
            try:
                return _read(wb, fname, sheet, list(required), list(optional), max_rows)
            finally:
                wb.close()
    except (BadInput, MemoryError):  # the worker's memory limit reports the latter
        raise
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise BadInput(f"not a readable xlsx file ({type(exc).__name__}: "
                       f"{str(exc)[:200]})", message_zh="不是可读取的 xlsx 文件",
                       rule="xlsx", file=fname) from exc


def check_file(path, fname, max_bytes=MAX_BYTES):
    """Refuse (BadInput) a file too large, not a zip, or inflating like a bomb, before
    anything parses it. `path` may also be a seekable binary file object."""
    if hasattr(path, "read"):
        size = path.seek(0, os.SEEK_END)
        path.seek(0)
    else:
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
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BadInput("not an xlsx file (xlsx is a zip archive; is this .xls or csv, "
                       "or a truncated file?)", message_zh="不是 xlsx 文件(是否为 .xls、"
                       "csv 或不完整的文件?请用 Excel 另存为 .xlsx)", rule="xlsx",
                       file=fname) from None
    if len(members) > MAX_MEMBERS:
        raise BadInput(f"the archive has {len(members)} parts; refused (limit "
                       f"{MAX_MEMBERS})", file=fname)
    # The sizes are the archive's own claims; zipfile refuses to inflate a member past
    # its declared size, so a lie cannot get past these checks either.
    inflated = sum(info.file_size for info in members)
    if inflated > MAX_INFLATED or inflated > max(size, 1) * MAX_EXPANSION:
        raise BadInput(f"file inflates to {inflated} bytes from {size} (limits: "
                       f"{MAX_EXPANSION} times its size, {MAX_INFLATED} bytes); refused as "
                       "a zip bomb", file=fname)
    strings = _count_shared_strings(path, fname, members)
    if strings > MAX_SHARED_STRINGS:
        raise BadInput(f"the file holds about {strings} distinct texts (limit "
                       f"{MAX_SHARED_STRINGS}); refused", file=fname)


def _count_shared_strings(path, fname, members):
    # Each shared string is an <si> element: its closing tag ends in "si>" whatever the
    # namespace prefix. A byte count over the (already size-capped) parts, no XML parse.
    count = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for info in members:
                if not info.filename.lower().endswith(".xml"):
                    continue
                tail = b""
                with zf.open(info) as part:
                    while chunk := part.read(1 << 20):
                        block = tail + chunk
                        count += block.count(b"/si>") + block.count(b":si>") \
                            - tail.count(b"/si>") - tail.count(b":si>")
                        tail = block[-4:]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BadInput(f"a damaged xlsx file ({type(exc).__name__})",
                       file=fname) from None
    return count


def _read(wb, fname, sheet, required, optional, max_rows):
    if sheet is None:
        ws = wb.worksheets[0]
    elif sheet in wb.sheetnames:
        ws = wb[sheet]
    else:
        raise BadInput(f"no sheet named {sheet!r} (sheets: {', '.join(wb.sheetnames)})",
                       message_zh=f"没有名为「{sheet}」的工作表(现有:"
                       f"{'、'.join(wb.sheetnames)})", rule="sheets", file=fname)
    if not hasattr(ws, "_get_source"):
        raise BadInput(f"{ws.title!r} is a chart sheet, not a table", file=fname)
    here = {"file": fname, "sheet": ws.title}
    with ws._get_source() as src:
        parser = _Parser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                         date_formats=wb._date_formats,
                         timedelta_formats=wb._timedelta_formats)
        rows = _bounded_rows(parser.parse(), max_rows, here)
        header = next(rows, None)
        if header is None or header[0] != 1:
            raise BadInput("the header row is empty", message_zh="表头行为空",
                           rule="header", row=1, **here)
        positions = _header(header[1], here)
        for title in required:
            if title not in positions:
                raise BadInput("missing column", message_zh="缺少此列(请使用下发的模板,"
                               "不要改动表头)", rule="header", row=1, column=title,
                               **here)
        wanted = {t: positions.get(t) for t in (*required, *optional)}
        width = max(positions.values()) + 1

        out = []
        for number, cells in rows:
            values = [None] * width
            for cell in cells:
                if cell["column"] <= width:
                    values[cell["column"] - 1] = _clean(cell["value"])
            if all(v is None for v in values):
                continue
            out.append(Row(fname, number, {t: (values[i] if i is not None else None)
                                           for t, i in wanted.items()}, ws.title))
    _refuse_merged(parser, here)
    return out


def _bounded_rows(parsed, max_rows, here):
    """(row number, cells) for every row element, refusing past the limit: rows are
    counted by their number, so the blank ones a file skips count too."""
    last = 0
    for number, cells in parsed:
        if number <= last:
            raise BadInput(f"row {number} comes after row {last}: the sheet's rows are "
                           "out of order (a damaged or forged file)", row=number, **here)
        if number > max_rows + 1:
            raise BadInput(f"more than {max_rows} data rows (blank rows count)",
                           row=number, **here)
        if len(cells) > MAX_CELLS_PER_ROW:
            raise BadInput(f"the row has {len(cells)} cells (limit {MAX_CELLS_PER_ROW})",
                           row=number, **here)
        last = number
        yield number, cells


def _header(cells, here):
    positions = {}
    for cell in cells:
        title = _clean(cell["value"])
        if title is None:
            continue
        column = cell["column"]
        letter = get_column_letter(column) if column <= 16384 else str(column)
        if column > MAX_COLUMNS:
            raise BadInput(f"a header in column {letter}: forms have at most "
                           f"{MAX_COLUMNS} columns", row=1, column=letter, **here)
        if isinstance(title, Unreadable):
            raise BadInput(f"header in column {letter}: {title.reason}", row=1,
                           column=letter, **here)
        title = str(title)
        if title in positions:
            raise BadInput(f"duplicate column {title!r} (columns "
                           f"{get_column_letter(positions[title] + 1)} and {letter})",
                           message_zh=f"列「{title}」重复(第 "
                           f"{get_column_letter(positions[title] + 1)} 列和第 {letter} 列)",
                           rule="header", row=1, column=title, **here)
        positions[title] = column - 1
    if not positions:
        raise BadInput("the header row is empty", message_zh="表头行为空", rule="header",
                       row=1, **here)
    return positions


def _refuse_merged(parser, here):
    # Merged cells hold their value in the first cell only, so every other cell of the
    # range would read as empty: a value the operator sees would silently be lost.
    merged = getattr(parser.merged_cells, "mergeCell", None) or []
    if merged:
        ref = str(merged[0].ref)
        first = ref.split(":")[0]
        row = int(re.sub(r"[^0-9]", "", first) or 0) or None
        raise BadInput(f"merged cells {ref}: unmerge them and type the value in every "
                       "cell", message_zh=f"合并单元格 {ref}:请取消合并,并在每个单元格"
                       "中填写数值", rule="merged cells", row=row,
                       column=re.sub(r"[0-9$]", "", first) or None, **here)


class _Parser(WorkSheetParser):
    """openpyxl's sheet parser, with every cell it cannot turn into data kept as an
    `Unreadable` instead of raising, guessing, or reading as empty."""

    def parse_cell(self, element):
        try:
            cell = super().parse_cell(element)
        except Exception as exc:  # a number of 5000 digits, a bad string index, ...
            coordinate = element.get("r")
            if coordinate:
                from openpyxl.utils.cell import coordinate_to_tuple
                try:
                    row, column = coordinate_to_tuple(coordinate)
                except Exception:
                    raise BadInput(f"malformed cell reference {coordinate[:20]!r}") \
                        from None
            else:
                row, column = self.row_counter, self.col_counter
            return {"row": row, "column": column, "data_type": "e", "style_id": 0,
                    "value": Unreadable(f"not a value a cell can hold "
                                        f"({type(exc).__name__})",
                                        "不是单元格能容纳的值")}
        value = cell["value"]
        if cell["data_type"] == "e":
            cell["value"] = Unreadable(f"the cell shows the Excel error {str(value)[:20]}",
                                       f"单元格显示 Excel 错误 {str(value)[:20]}")
        elif value is None and element.find(FORMULA_TAG) is not None:
            cell["value"] = Unreadable(
                "a formula without a computed value: open the file in Excel, let it "
                "calculate and save it, or type the value itself",
                "公式没有计算结果:请用 Excel 打开文件计算后保存,或直接填写数值")
        elif isinstance(value, float) and not math.isfinite(value):
            cell["value"] = Unreadable("not a finite number", "不是有限的数")
        elif isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            cell["value"] = Unreadable(f"more than {MAX_CELL_CHARS} characters",
                                       f"超过 {MAX_CELL_CHARS} 个字符")
        return cell


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
    sheet: str | None = None

    def __iter__(self):  # lets callers write `for number, values in read_sheet(...)`
        return iter((self.row_number, self.values))

    def get(self, column):
        return self.values[column]

    def _where(self, column):
        return {"file": self.file, "row": self.row_number, "column": column,
                "sheet": self.sheet}

    def error(self, column, message, message_zh=None, rule=None):
        """A BadInput pointing at this row's cell in `column`."""
        return BadInput(message, message_zh=message_zh, rule=rule, **self._where(column))

    def text(self, column, *, required=True, max_length=TEXT_MAX, multiline=False):
        return as_text(self.values[column], required=required, max_length=max_length,
                       multiline=multiline, **self._where(column))

    def code(self, column, *, required=True, max_length=TEXT_MAX):
        return as_code(self.values[column], required=required, max_length=max_length,
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

    def date(self, column, *, required=True, earliest=None, latest=None):
        return as_date(self.values[column], required=required, earliest=earliest,
                       latest=latest, **self._where(column))


# ----------------------------------------------------------------- cell coercion
# Each takes the raw cell value and where it came from; blank (None or whitespace)
# returns None when required=False and is refused otherwise.
#
# One normalisation policy (docs/forms.md): codes, numbers and dates typed as text are
# NFKC-normalised (full-width digits, letters and punctuation become ASCII) and then
# read strictly in ASCII; anything else is refused. Names and free text are kept as
# typed (stripped), and refused if they hold control, format or bidi characters.

def _blank(value, required, where):
    if isinstance(value, Unreadable):
        raise BadInput(value.reason, message_zh=value.reason_zh, rule="readable cell",
                       **where)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadInput("required, but the cell is empty", message_zh="必填,但单元格为空",
                           rule="required", **where)
        return True
    return False


def _where(file, row, column, sheet):
    return {"file": file, "row": row, "column": column, "sheet": sheet}


def nfkc(text):
    """Codes, numbers and dates typed as text: full-width and compatibility forms
    become their ASCII equivalents (６-１８ -> 6-18, ２０２３年 -> 2023年)."""
    return unicodedata.normalize("NFKC", text).strip()


# Control (Cc), format (Cf: bidi overrides, zero-width characters), surrogate and
# private-use characters, and the Unicode line/paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


def _hidden_character(text, multiline):
    for ch in text:
        if multiline and ch == "\n":
            continue
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return ch
    return None


def as_text(value, *, file=None, row=None, column=None, sheet=None, required=True,
            max_length=TEXT_MAX, multiline=False):
    """A name or free text as typed (stripped). `multiline` allows line breaks (free
    text such as evidence); every other control, format or bidi character is refused."""
    where = _where(file, row, column, sheet)
    if _blank(value, required, where):
        return None
    if isinstance(value, bool):
        raise BadInput("expected text, got a TRUE/FALSE cell",
                       message_zh="应为文本,实为 TRUE/FALSE 单元格", rule="text", **where)
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= _EXACT_FLOAT:
            raise BadInput(f"expected text, got the number {value!r} (digits may have "
                           "been lost: format the cell as text and type it again)",
                           message_zh=f"应为文本,实为数值 {value!r}(可能已丢失位数:请把"
                           "单元格格式设为「文本」后重新输入)", rule="text", **where)
        value = int(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        raise BadInput("expected text, got a date cell", message_zh="应为文本,实为日期单元格",
                       rule="text", **where)
    if isinstance(value, int) and abs(value) >= _EXACT_FLOAT:
        raise BadInput("expected text, got a number too long to be exact (format the "
                       "cell as text and type it again)",
                       message_zh="应为文本,实为位数过长的数值(请把单元格格式设为「文本」后"
                       "重新输入)", rule="text", **where)
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        raise BadInput(f"longer than {max_length} characters",
                       message_zh=f"超过 {max_length} 个字符", rule="text length", **where)
    if multiline:
        text = text.replace("\r\n", "\n")
    hidden = _hidden_character(text, multiline)
    if hidden is not None:
        raise BadInput(f"holds the invisible or control character U+{ord(hidden):04X} "
                       f"({unicodedata.name(hidden, 'unnamed')}); type the text again "
                       "without it",
                       message_zh=f"含有不可见字符或控制字符 U+{ord(hidden):04X},请删除后"
                       "重新输入", rule="visible characters", **where)
    return text


def as_code(value, *, file=None, row=None, column=None, sheet=None, required=True,
            max_length=TEXT_MAX):
    """A code (USCC, occupation, clause, city, status): NFKC-normalised, white space
    removed, and then only printable ASCII, or refused."""
    text = as_text(value, file=file, row=row, column=column, sheet=sheet,
                   required=required, max_length=max_length)
    if text is None:
        return None
    code = "".join(nfkc(text).split())
    if not all(" " < ch < "\x7f" for ch in code) and not _cjk_code(code):
        raise BadInput(f"{_show(text)} holds characters a code cannot have",
                       message_zh=f"{_show(text)} 含有代码中不能出现的字符",
                       rule="code characters", **_where(file, row, column, sheet))
    return code


def _cjk_code(code):
    # Some codes are words (登记状态 有效, 类型 企业, 所属地市 太原市, 四(一)5): letters
    # and ideographs are fine, symbols and invisible characters are not.
    return all(ch.isalnum() or ch in "-().,:;/_、—–‐‑" for ch in code)


def _show(text, limit=40):
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _bounded(number, minimum, maximum, where):
    if minimum is not None and number < minimum:
        raise BadInput(f"{number} is less than the minimum {minimum}",
                       message_zh=f"{number} 小于最小值 {minimum}", rule="minimum", **where)
    if maximum is not None and number > maximum:
        raise BadInput(f"{number} is more than the maximum {maximum}",
                       message_zh=f"{number} 大于最大值 {maximum}", rule="maximum", **where)
    return number


_DECIMAL = re.compile(r"[+-]?(?=[0-9.]{1,%d}$)[0-9]*\.?[0-9]+" % (MAX_DIGITS + 1))
_LIMIT = 10 ** MAX_DIGITS


_WHAT_ZH = {"a whole number": "整数", "a number": "数字"}


def _to_decimal(value, where, what):
    """The one number policy for whole-number and decimal columns alike: a number
    cell, or text that after NFKC is plain ASCII digits with at most one decimal point
    (no exponent, no underscores, no 'Infinity'), of at most MAX_DIGITS digits."""
    zh, rule = _WHAT_ZH[what], what.split(" ", 1)[1]
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise BadInput(f"expected {what}, got {_show(str(value))}",
                       message_zh=f"应为{zh},实为 {_show(str(value))}", rule=rule, **where)
    if isinstance(value, str):
        text = nfkc(value)
        if len(text) > MAX_DIGITS + 2 or not _DECIMAL.fullmatch(text):
            raise BadInput(f"expected {what} (digits, at most one decimal point, at most "
                           f"{MAX_DIGITS} digits), got {_show(value)}",
                           message_zh=f"应为{zh}(只填数字,至多一个小数点,不超过 "
                           f"{MAX_DIGITS} 位,不带单位),实为 {_show(value)}", rule=rule,
                           **where)
        number = Decimal(text)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadInput(f"expected {what}, got {value!r}",
                           message_zh=f"应为{zh},实为 {value!r}", rule=rule, **where)
        number = Decimal(repr(value))
    else:
        number = Decimal(value)
    if not number.is_finite() or abs(number) >= _LIMIT or (
            number and number.adjusted() < -MAX_DIGITS):
        raise BadInput(f"expected {what} below 10^{MAX_DIGITS}, got {_show(str(value))}",
                       message_zh=f"应为小于 10^{MAX_DIGITS} 的{zh},实为 {_show(str(value))}",
                       rule=rule, **where)
    return number


def as_int(value, *, file=None, row=None, column=None, sheet=None, required=True,
           minimum=None, maximum=None):
    where = _where(file, row, column, sheet)
    if _blank(value, required, where):
        return None
    number = _to_decimal(value, where, "a whole number")
    if number != number.to_integral_value():
        raise BadInput(f"expected a whole number, got {_show(str(value))}",
                       message_zh=f"应为整数,实为 {_show(str(value))}", rule="whole number",
                       **where)
    return _bounded(int(number), minimum, maximum, where)


def as_decimal(value, *, file=None, row=None, column=None, sheet=None, required=True,
               minimum=None, maximum=None):
    """A Decimal, exact for what the operator typed (floats go through their repr)."""
    where = _where(file, row, column, sheet)
    if _blank(value, required, where):
        return None
    return _bounded(_to_decimal(value, where, "a number"), minimum, maximum, where)


def as_number(value, *, file=None, row=None, column=None, sheet=None, required=True,
              minimum=None, maximum=None):
    number = as_decimal(value, file=file, row=row, column=column, sheet=sheet,
                        required=required, minimum=minimum, maximum=maximum)
    return None if number is None else float(number)


_DATE_TEXT = re.compile(
    r"([0-9]{4})\s*(?:[-/.]|年)\s*([0-9]{1,2})\s*(?:[-/.]|月)\s*([0-9]{1,2})\s*日?")


def as_date(value, *, file=None, row=None, column=None, sheet=None, required=True,
            earliest=None, latest=None):
    """A date from a date cell, or text YYYY-MM-DD (also YYYY/MM/DD, YYYY.MM.DD and
    YYYY年M月D日, NFKC-normalised). A plain number is refused rather than read as an
    Excel serial day: it is more often a typing slip than a date. Every date lies in
    DATE_MIN..DATE_MAX, and in `earliest`..`latest` when given."""
    where = _where(file, row, column, sheet)
    if _blank(value, required, where):
        return None
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise BadInput(f"expected a date, got the time {value.isoformat()}",
                           message_zh=f"应为日期,实为时间 {value.isoformat()}", rule="date",
                           **where)
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    elif isinstance(value, str):
        match = _DATE_TEXT.fullmatch(nfkc(value)) if len(value) <= 40 else None
        date = None
        if match:
            try:
                date = dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                pass
        if date is None:
            raise BadInput(f"not a valid date {_show(value)} (write YYYY-MM-DD)",
                           message_zh=f"{_show(value)} 不是有效日期(请写成 YYYY-MM-DD)",
                           rule="date", **where)
    else:
        raise BadInput(f"expected a date, got {_show(str(value))} (format the cell as a "
                       "date or write YYYY-MM-DD)",
                       message_zh=f"应为日期,实为 {_show(str(value))}(请把单元格设为日期"
                       "格式或写成 YYYY-MM-DD)", rule="date", **where)
    low = max(DATE_MIN, earliest) if earliest else DATE_MIN
    high = min(DATE_MAX, latest) if latest else DATE_MAX
    if not low <= date <= high:
        raise BadInput(f"{date.isoformat()} is outside {low.isoformat()} .. "
                       f"{high.isoformat()}",
                       message_zh=f"{date.isoformat()} 不在 {low.isoformat()} 至 "
                       f"{high.isoformat()} 之间", rule="date range", **where)
    return date


# ---------------------------------------------------------------------------- writing

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
