import calendar
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from shared.dates import BUSINESS_TZ, add_months, business_date_of, parse_date


@pytest.mark.parametrize("start, n, expected", [
    (date(2023, 10, 31), 2, date(2023, 12, 31)),   # DESIGN.md's own examples
    (date(2023, 12, 31), 2, date(2024, 2, 29)),
    (date(2023, 12, 30), 2, date(2024, 2, 29)),
    (date(2024, 12, 31), 2, date(2025, 2, 28)),
    (date(2023, 8, 31), 1, date(2023, 9, 30)),
    (date(2023, 9, 30), 2, date(2023, 11, 30)),
    (date(2023, 11, 15), 2, date(2024, 1, 15)),
    (date(2023, 1, 31), 0, date(2023, 1, 31)),
    (date(2024, 3, 31), -1, date(2024, 2, 29)),
    (date(2024, 1, 15), -13, date(2022, 12, 15)),
    (date(2023, 1, 1), 12, date(2024, 1, 1)),
])
def test_add_months_examples(start, n, expected):
    assert add_months(start, n) == expected


def test_add_months_refuses_datetime_and_non_int():
    with pytest.raises(TypeError):
        add_months(datetime(2023, 1, 1), 1)
    with pytest.raises(TypeError):
        add_months(date(2023, 1, 1), 1.0)
    with pytest.raises(TypeError):
        add_months(date(2023, 1, 1), True)


def test_add_months_out_of_calendar():
    with pytest.raises(OverflowError):
        add_months(date(9999, 12, 1), 1)


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
months = st.integers(min_value=-600, max_value=600)


@given(dates, months)
def test_add_months_properties(d, n):
    r = add_months(d, n)
    # month arithmetic
    assert (r.year * 12 + r.month) - (d.year * 12 + d.month) == n
    # the day only moves down, and only to the month's last day
    assert r.day <= d.day
    last = calendar.monthrange(r.year, r.month)[1]
    assert r.day == min(d.day, last)
    if r.day < d.day:
        assert r.day == last


@given(dates, months)
def test_add_months_round_trip_when_day_fits(d, n):
    if d.day <= 28:
        assert add_months(add_months(d, n), -n) == d


@given(dates, st.integers(0, 300), st.integers(0, 300))
def test_add_months_is_monotonic(d, a, b):
    if a <= b:
        assert add_months(d, a) <= add_months(d, b)


def test_parse_date():
    assert parse_date("2023-08-31") == date(2023, 8, 31)
    assert parse_date("  2023-09-30 ") == date(2023, 9, 30)
    assert parse_date(date(2023, 10, 31)) == date(2023, 10, 31)


@pytest.mark.parametrize("bad", ["", "2023/08/31", "20230831", "2023-W35-4", "2023-02-30",
                                 "2023-8-31", "2023-08-31T00:00:00", "yesterday", None, 20230831])
def test_parse_date_rejects(bad):
    with pytest.raises(ValueError) as e:
        parse_date(bad)
    assert repr(bad) in str(e.value) or str(bad) in str(e.value)


def test_parse_date_rejects_datetime():
    with pytest.raises(ValueError):
        parse_date(datetime(2023, 1, 1, 12))


@given(dates)
def test_parse_date_round_trip(d):
    assert parse_date(d.isoformat()) == d


def test_business_date_of_uses_shanghai():
    # 16:30 UTC on Oct 31 is already Nov 1 in Shanghai (UTC+8).
    assert business_date_of(datetime(2023, 10, 31, 16, 30, tzinfo=timezone.utc)) == date(2023, 11, 1)
    assert business_date_of(datetime(2023, 10, 31, 15, 59, tzinfo=timezone.utc)) == date(2023, 10, 31)
    assert business_date_of(datetime(2023, 11, 1, 0, 0, tzinfo=BUSINESS_TZ)) == date(2023, 11, 1)
    ny = timezone(timedelta(hours=-5))
    assert business_date_of(datetime(2023, 10, 31, 12, 0, tzinfo=ny)) == date(2023, 11, 1)


def test_business_date_of_refuses_naive():
    with pytest.raises(ValueError):
        business_date_of(datetime(2023, 10, 31, 12, 0))
    with pytest.raises(TypeError):
        business_date_of(date(2023, 10, 31))
