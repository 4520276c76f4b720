import datetime as dt
import json

import pytest
from hypothesis import given, strategies as st

from shared.language import jurisdictions as cities
from services.registry.filing import (Category, Level, cohort, format_scope, parse_scope,
                                      IN_SCOPE_2023)
from services.registry.roster import COLUMNS, RosterRow, read_roster, write_roster
from shared.errors import BadInput
from shared.xlsx import write_sheet

GOOD = ["914403001922038216", "91110000710925462X", "12100000425006133D"]


def _rows():
    return [
        RosterRow(uscc=GOOD[0], name="太原市龙城职业技能培训学校", category="social",
                  level="municipal", city="140100", published_on=dt.date(2020, 6, 30),
                  valid_until=dt.date(2024, 6, 29),
                  scope=(("6-18-02-04", (3, 4, 5)), ("4-10-01-05", (5,))),
                  legal_valid_until=dt.date(2025, 1, 1)),
        RosterRow(uscc=GOOD[1], name="山西鑫源煤业集团有限公司", category="enterprise",
                  level="provincial", city=None, published_on=dt.date(2021, 3, 26),
                  valid_until=dt.date(2023, 10, 15), scope=(("6-31-01-03", (1, 2, 3)),),
                  legal_valid_until=None),
        RosterRow(uscc=GOOD[2], name="=HYPERLINK(\"http://x\")", category="college",
                  level="provincial", city="140700", published_on=dt.date(2022, 9, 16),
                  valid_until=dt.date(2027, 9, 15), scope=(("4-03-02-01", (4, 5)),),
                  legal_valid_until=dt.date(2023, 5, 1)),
    ]


def _raw(rows):
    """The cells of a roster as an operator would type them (text everywhere)."""
    return [[r.uscc, r.name, Category(r.category).roster_label, Level(r.level).label,
             cities.city_name(r.city) if r.city else None, r.published_on.isoformat(),
             r.valid_until.isoformat(), format_scope(r.scope),
             r.legal_valid_until.isoformat() if r.legal_valid_until else "长期"]
            for r in rows]


def _write_raw(path, table, columns=COLUMNS):
    write_sheet(str(path), "名册", columns, table)
    return path


# --------------------------------------------------------------------- round trips

def test_roster_round_trip(tmp_path):
    rows = _rows()
    path = tmp_path / "roster.xlsx"
    write_roster(rows, path)
    assert read_roster(path) == rows


def test_typed_text_reads_like_written_dates(tmp_path):
    path = _write_raw(tmp_path / "typed.xlsx", _raw(_rows()))
    assert read_roster(path) == _rows()


def test_to_dict_is_json_safe_and_round_trips():
    for row in _rows():
        data = json.loads(json.dumps(row.to_dict()))
        assert RosterRow.from_dict(data) == row
        assert data["cohort"] == row.published_on.year
        assert data["jurisdiction"] == row.jurisdiction


def test_derived_cohort_and_jurisdiction():
    municipal, provincial, located = _rows()
    assert (municipal.cohort, municipal.jurisdiction) == (2020, "140100")
    assert (provincial.cohort, provincial.jurisdiction) == (2021, "140000")
    # A provincial filing that names its city is still the provincial center's.
    assert located.jurisdiction == "140000"


def test_columns_in_any_order_and_extra_columns_ignored(tmp_path):
    columns = list(reversed(COLUMNS)) + ["备注"]
    table = [list(reversed(r)) + ["随便写"] for r in _raw(_rows())]
    path = _write_raw(tmp_path / "shuffled.xlsx", table, columns)
    assert read_roster(path) == _rows()


def test_lenient_forms_operators_type(tmp_path):
    raw = _raw(_rows()[:1])
    raw[0][0] = " " + raw[0][0].lower() + " "
    raw[0][4] = "140100"
    raw[0][5] = "2020/6/30"
    raw[0][7] = "6-18-02-04：5，4，3；4-10-01-05：5"
    path = _write_raw(tmp_path / "lenient.xlsx", raw)
    assert read_roster(path) == _rows()[:1]


# ------------------------------------------------------------------ filing scope

scopes = st.lists(
    st.tuples(st.from_regex(r"\A[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}\Z"),
              st.sets(st.integers(1, 5), min_size=1).map(lambda s: tuple(sorted(s)))),
    min_size=1, max_size=6, unique_by=lambda item: item[0]).map(tuple)


@given(scopes)
def test_scope_round_trip(scope):
    assert parse_scope(format_scope(scope)) == scope
    assert format_scope(parse_scope(format_scope(scope))) == format_scope(scope)


def test_parse_scope_example():
    assert parse_scope("6-18-02-04:3,4,5;4-07-05-03:5") == (
        ("6-18-02-04", (3, 4, 5)), ("4-07-05-03", (5,)))


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("6-18-02-04", "expected occupation code"),
    ("6-18-2-04:3", "not an occupation code"),
    ("٦-18-02-04:3", "not an occupation code"),
    ("6-18-02-04:6", "not one of 1-5"),
    ("6-18-02-04:", "not one of 1-5"),
    ("6-18-02-04:3,3", "listed twice"),
    ("6-18-02-04:3;6-18-02-04:4", "listed twice"),
])
def test_parse_scope_refuses(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_scope(text)


def test_category_and_level_labels():
    assert Category.parse("企业") is Category.ENTERPRISE
    assert Category.parse("自主评价院校") is Category.COLLEGE
    assert Category.parse("social") is Category.SOCIAL
    assert Level.parse("省级以上") is Level.PROVINCIAL
    assert Level.parse("市级") is Level.MUNICIPAL
    with pytest.raises(ValueError):
        Category.parse("个人")
    assert cohort(dt.date(2020, 12, 31)) == 2020 and IN_SCOPE_2023 == tuple(range(2020, 2022))


# ---------------------------------------------------------------------- bad cells

def _bad(tmp_path, column, value, *, row_index=1):
    """Write the sample roster with one cell changed (row_index 1 = Excel row 3)."""
    raw = _raw(_rows())
    raw[row_index][COLUMNS.index(column)] = value
    path = _write_raw(tmp_path / "bad.xlsx", raw)
    with pytest.raises(BadInput) as info:
        read_roster(path)
    return info.value


def test_invalid_uscc(tmp_path):
    err = _bad(tmp_path, "统一社会信用代码", "91110000710925462Y")
    assert (err.file, err.row, err.column) == ("bad.xlsx", 3, "统一社会信用代码")
    assert "invalid USCC 91110000710925462Y" in err.message
    assert "expected X" in err.message


def test_unknown_city(tmp_path):
    err = _bad(tmp_path, "所属地市", "西安市", row_index=0)
    assert (err.row, err.column) == (2, "所属地市")
    assert "西安市" in err.message


def test_municipal_without_city(tmp_path):
    err = _bad(tmp_path, "所属地市", None, row_index=0)
    assert (err.row, err.column) == (2, "所属地市")


def test_bad_date(tmp_path):
    err = _bad(tmp_path, "公开发布日期", "2021-02-30")
    assert (err.row, err.column) == (3, "公开发布日期")


def test_filing_ending_before_publication(tmp_path):
    err = _bad(tmp_path, "备案有效期至", "2020-01-01")
    assert (err.row, err.column) == (3, "备案有效期至")


def test_malformed_scope(tmp_path):
    err = _bad(tmp_path, "备案范围", "6-18-02-04:3,4,6", row_index=2)
    assert (err.row, err.column) == (4, "备案范围")
    assert "malformed filing scope" in err.message


def test_unknown_category(tmp_path):
    err = _bad(tmp_path, "类型", "协会")
    assert (err.row, err.column) == (3, "类型")


def test_unknown_level(tmp_path):
    err = _bad(tmp_path, "备案层级", "县级")
    assert (err.row, err.column) == (3, "备案层级")


def test_missing_name(tmp_path):
    err = _bad(tmp_path, "机构名称", "   ")
    assert (err.row, err.column) == (3, "机构名称")


def test_duplicate_uscc_names_both_rows(tmp_path):
    err = _bad(tmp_path, "统一社会信用代码", GOOD[0], row_index=2)
    assert (err.row, err.column) == (4, "统一社会信用代码")
    assert "rows 2 and 4" in err.message


def test_missing_column(tmp_path):
    columns = [c for c in COLUMNS if c != "备案范围"]
    table = [[v for c, v in zip(COLUMNS, r) if c != "备案范围"] for r in _raw(_rows())]
    path = _write_raw(tmp_path / "nocol.xlsx", table, columns)
    with pytest.raises(BadInput) as info:
        read_roster(path)
    assert (info.value.row, info.value.column) == (1, "备案范围")
    assert "missing column" in info.value.message


def test_empty_roster(tmp_path):
    path = _write_raw(tmp_path / "empty.xlsx", [])
    with pytest.raises(BadInput, match="no institutions"):
        read_roster(path)


def test_reported_file_name_can_be_given(tmp_path):
    path = _write_raw(tmp_path / "tmp123.xlsx", [])
    with pytest.raises(BadInput) as info:
        read_roster(path, name="名册.xlsx")
    assert info.value.file == "名册.xlsx"
