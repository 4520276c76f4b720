"""A returned workbook with its bad cells marked (issue 15): the clerk fixes the file in
place. Minimal version for the desk; errors are the dicts of BadInput.errors."""
import io

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

RED = PatternFill(start_color="FFFFC7CE", end_color="FFFFC7CE", fill_type="solid")


def mark_workbook(content: bytes, errors: list[dict]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(content))
    for error in errors:
        sheet = wb[error["sheet"]] if error.get("sheet") in wb.sheetnames else wb.worksheets[0]
        row = error.get("row") or 1
        column = _column(sheet, error.get("column"))
        cell = sheet.cell(row=row, column=column)
        cell.fill = RED
        text = error.get("message_zh") or error.get("message") or ""
        cell.comment = Comment(text if cell.comment is None else
                               f"{cell.comment.text}\n{text}", "pinggu")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _column(sheet, name):
    for cell in sheet[1]:
        if cell.value is not None and str(cell.value).strip() == str(name or "").strip():
            return cell.column
    return 1
