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

The package: `reading` (the file's checks and its rows), `cells` (one cell's value by
the normalisation policy) and `writing` (the forms we hand out).
"""

import openpyxl

# openpyxl parses with defusedxml only when that package is importable and
# OPENPYXL_DEFUSEDXML is not "False". Reading untrusted files without it would expose us
# to entity-expansion attacks, so we refuse to run rather than degrade silently.
if not openpyxl.DEFUSEDXML:
    raise ImportError("openpyxl is not using defusedxml; install defusedxml and do not "
                      "set OPENPYXL_DEFUSEDXML=False")

from shared.xlsx.cells import (  # noqa: E402
    AHEAD, DATE_MAX, DATE_MIN, MAX_DIGITS, TEXT_MAX, Unreadable, as_code, as_date,
    as_decimal, as_int, as_number, as_text, latest_date, nfkc)
from shared.xlsx.reading import (  # noqa: E402
    MAX_BYTES, MAX_CELL_CHARS, MAX_CELLS_PER_ROW, MAX_COLUMNS, MAX_EXPANSION, MAX_INFLATED,
    MAX_MEMBERS, MAX_ROWS, MAX_SHARED_STRINGS, Row, check_file, read_sheet)
from shared.xlsx.writing import (  # noqa: E402
    PROMPT_MAX, PROMPT_TITLE_MAX, TEXT_FORMAT, save_workbook, write_cell, write_sheet)

__all__ = [
    "AHEAD", "DATE_MAX", "DATE_MIN", "MAX_DIGITS", "TEXT_MAX", "Unreadable", "as_code",
    "as_date", "as_decimal", "as_int", "as_number", "as_text", "latest_date", "nfkc",
    "MAX_BYTES", "MAX_CELL_CHARS", "MAX_CELLS_PER_ROW", "MAX_COLUMNS", "MAX_EXPANSION",
    "MAX_INFLATED", "MAX_MEMBERS", "MAX_ROWS", "MAX_SHARED_STRINGS", "Row", "check_file",
    "read_sheet", "PROMPT_MAX", "PROMPT_TITLE_MAX", "TEXT_FORMAT", "save_workbook",
    "write_cell", "write_sheet",
]
