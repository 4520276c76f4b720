"""Rectification reports (notice 四(二)): one row per institution under rectification,
with what it rectified and when it was submitted."""

from __future__ import annotations

from dataclasses import dataclass

from services.evaluation.forms import columns as c
from services.evaluation.forms.common import (
    COL_REPORT, COL_SUBMITTED_ON, COL_USCC, SHEET_RECTIFICATION, Problems, file_name,
    read_rows, read_uscc, row_failed)

# A rectification report is a summary; the documents themselves are filed on paper.
# Bounded so that no event comes near the broker's message limit.
REPORT_MAX = 5000


@dataclass(frozen=True)
class RectificationRow:
    row_number: int
    uscc: str
    report: str
    submitted_on: str  # ISO date

    def to_dict(self) -> dict:
        return {"row_number": self.row_number, "uscc": self.uscc, "report": self.report,
                "submitted_on": self.submitted_on}

    @classmethod
    def from_dict(cls, d) -> "RectificationRow":
        return cls(d["row_number"], d["uscc"], d["report"], d["submitted_on"])


def read_rectification(path, *, name=None, period=None) -> list[RectificationRow]:
    """Every report, or BadInput listing every problem of the file. `period` (first,
    last) bounds 提交日期: the campaign's year up to the business date."""
    fname = file_name(path, name)
    problems = Problems()
    rows = read_rows(path, fname, problems, [COL_USCC, COL_REPORT, COL_SUBMITTED_ON])
    seen, out = {}, []
    first, last = period or (None, None)
    for row in rows:
        before = len(problems)
        code = problems.cell(read_uscc, row, seen)
        report = problems.cell(row.text, COL_REPORT, max_length=REPORT_MAX, multiline=True)
        on = problems.cell(row.date, COL_SUBMITTED_ON, earliest=first, latest=last)
        if not row_failed(problems, before):
            out.append(RectificationRow(row.row_number, code, report, on.isoformat()))
    problems.check()
    return out


def sheets(rubric):
    return (c.Sheet(SHEET_RECTIFICATION, COLUMNS, True),)


COLUMNS = (
    c.USCC, c.NAME,
    c.Column(COL_REPORT, f"整改情况说明(必填,不超过 {REPORT_MAX} 字)",
             f"what the institution rectified (the report); required, at most "
             f"{REPORT_MAX} characters", 60,
             c.text_length("lessThanOrEqual", REPORT_MAX,
                           f"整改情况不超过 {REPORT_MAX} 字")),
    c.Column(COL_SUBMITTED_ON, "提交日期,YYYY-MM-DD",
             "date the rectification was submitted", 14, c.date(COL_SUBMITTED_ON)),
)
