"""The clerk's own workbook handed back with its problems marked (issue #15): each bad
cell filled red with a comment in Chinese giving the rule, so the file is fixed in place
and uploaded again.

A problem without a column marks its whole row (red fill on the row's used cells, the
comment on its first cell); one without a row marks its sheet (a red tab and the comment
on A1); one without a sheet belongs to the first sheet. A problem naming a column the
sheet's header does not have (a missing column) is put on the header row.

The workbook is untrusted: it passes the same size and zip-bomb checks as a read
(shared/xlsx/) before openpyxl loads it whole. openpyxl keeps values, styles,
validations and comments; pictures and charts of the original are not kept.
"""

import io
from collections import defaultdict

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter

from shared import xlsx
from shared.errors import BadInput

RED = "FFC7CE"
_FILL = PatternFill("solid", fgColor=RED)
_AUTHOR = "pinggu"
# A comment box long enough for a few problems; Excel lets the clerk resize it.
_COMMENT_WIDTH, _COMMENT_HEIGHT = 320, 160


def mark_workbook(content: bytes, errors, *, name="upload.xlsx") -> bytes:
    """`content` (an xlsx file) with every problem of `errors` (dicts as in
    BadInput.errors) marked. Raises BadInput if the file cannot be read at all."""
    xlsx.check_file(io.BytesIO(content), name)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(content))
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise BadInput(f"not a readable xlsx file ({type(exc).__name__})",
                       message_zh="不是可读取的 xlsx 文件", rule="xlsx", file=name) from exc
    notes = defaultdict(list)  # (sheet title, row, column index) -> lines
    for error in errors:
        ws = _sheet(wb, error.get("sheet"))
        row, column = error.get("row"), _column(ws, error.get("column"))
        line = _line(error)
        if row is None:
            ws.sheet_properties.tabColor = RED
            notes[ws.title, 1, 1].append(line)
        elif column is None:
            for cell in next(ws.iter_rows(min_row=row, max_row=row,
                                          max_col=max(ws.max_column, 1))):
                cell.fill = _FILL
            notes[ws.title, row, 1].append(line)
        else:
            ws.cell(row=row, column=column).fill = _FILL
            notes[ws.title, row, column].append(line)
    for (title, row, column), lines in notes.items():
        cell = wb[title].cell(row=row, column=column)
        text = "\n".join(lines)
        if cell.comment is not None:  # a template's header comment stays, below ours
            text += "\n—\n" + cell.comment.text
        cell.comment = Comment(text, _AUTHOR, width=_COMMENT_WIDTH, height=_COMMENT_HEIGHT)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet(wb, title):
    if title is not None and title in wb.sheetnames:
        ws = wb[title]
        if hasattr(ws, "cell"):
            return ws
    return next((ws for ws in wb.worksheets if hasattr(ws, "cell")), wb.active)


def _column(ws, column):
    """The 1-based index of `column`: a header title of row 1, or a column letter."""
    if column is None:
        return None
    for cell in ws[1]:
        if isinstance(cell.value, str) and cell.value.strip() == column:
            return cell.column
    try:
        index = column_index_from_string(column)
    except ValueError:
        return None  # a column the header lacks: the problem marks the header row
    return index if get_column_letter(index) == column else None


def _line(error):
    message = error.get("message_zh") or error.get("message") or ""
    rule = error.get("rule")
    return f"{message}(规则:{rule})" if rule else message
