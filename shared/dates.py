"""Business dates (DESIGN.md §1, "The rules").

The notice counts time in calendar months and in the province's own days: a deadline
set on 2023-10-31 "two months later" is 2023-12-31, whatever the server's time zone.
Everything that becomes a date of record goes through this module.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")

# date.fromisoformat accepts more than we want since 3.11 ("20231031", "2023-W44-2");
# forms and events carry plain YYYY-MM-DD, and anything else is more likely a typo.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def add_months(d: date, n: int) -> date:
    """`d` plus `n` calendar months (n may be negative), clamped to the month's end.

    2023-10-31 + 2 = 2023-12-31; 2023-12-31 + 2 = 2024-02-29; 2023-12-30 + 2 = 2024-02-29.
    """
    # A datetime is a date too, but adding months to one would silently drop the time
    # and the time zone, which is how business dates go wrong.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"add_months needs a date, not {type(d).__name__}")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"add_months needs a whole number of months, not {n!r}")
    month_index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(month_index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError(f"{d.isoformat()} + {n} months is outside the calendar")
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def parse_date(s: str | date) -> date:
    """An ISO date `YYYY-MM-DD` (surrounding blanks ignored); a date passes through."""
    if isinstance(s, datetime):
        raise ValueError(f"expected a date, got a date and time: {s.isoformat()}")
    if isinstance(s, date):
        return s
    if not isinstance(s, str):
        raise ValueError(f"expected an ISO date YYYY-MM-DD, got {type(s).__name__} {s!r}")
    text = s.strip()
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"expected an ISO date YYYY-MM-DD, got {s!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"not a valid date: {s!r} ({e})") from None


def business_date_of(dt: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant."""
    if not isinstance(dt, datetime):
        raise TypeError(f"business_date_of needs a datetime, not {type(dt).__name__}")
    # A naive datetime could be UTC or local to whichever host made it; guessing would
    # shift dates near midnight by a day, so refuse.
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"business_date_of needs an aware datetime, got naive {dt.isoformat()}")
    return dt.astimezone(BUSINESS_TZ).date()
