"""Reading one sheet of an untrusted xlsx file: the file's checks (size, zip bomb, shared
strings), then its rows, bounded by construction, as `Row` objects whose cells are read
by shared.xlsx.cells."""

import math
import os
import re
import zipfile
from dataclasses import dataclass

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

from shared.errors import BadInput
from shared.xlsx.cells import (TEXT_MAX, Unreadable, as_code, as_date, as_decimal, as_int,
                               as_number, as_text)


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
