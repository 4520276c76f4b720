"""Rectification periods as evaluation checks a rectification form against them (四(二)
限期2个月内完成整改, issue 17).

A rectification counts only if handed in within its period: its 提交日期 not before the
decision that opened the period nor after the deadline, and recorded by the deadline.
Decisions owns the periods (`Case.periods`); evaluation asks it for those of one file's
institutions in one call and refuses the whole file, naming the cell, if a row falls
outside. Decisions checks again when the fact reaches it, so a form that slipped past
(decisions was behind) still cannot rectify out of time.
"""
from shared.errors import BadInput
from services.evaluation.forms import COL_SUBMITTED_ON


def check_periods(filename, rows, windows, today):
    """`windows`: {uscc: {"opened_on", "deadline"} or None}, from decisions; `today`: the
    business date the form is recorded on."""
    for row in rows:
        where = {"file": filename, "row": row.row_number, "column": COL_SUBMITTED_ON}
        window = windows.get(row.uscc)
        if window is None:
            raise BadInput(f"institution {row.uscc} has no open rectification period "
                           "(四(二)): not under rectification, or its deadline has passed", **where)
        opened, deadline = window["opened_on"], window["deadline"]
        if row.submitted_on < opened:
            raise BadInput(f"提交日期 {row.submitted_on} is before the decision of {opened} that "
                           f"opened the rectification period ({opened} to {deadline})", **where)
        if row.submitted_on > deadline:
            raise BadInput(f"提交日期 {row.submitted_on} is after the rectification deadline "
                           f"{deadline}", **where)
        if row.submitted_on > today.isoformat():
            raise BadInput(f"提交日期 {row.submitted_on} is later than today's business date "
                           f"{today}", **where)
        if today.isoformat() > deadline:
            raise BadInput(f"the rectification deadline {deadline} has passed (business date "
                           f"{today})", **where)
