import datetime as dt
import os
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.worksheet.datavalidation import DataValidation

from shared import xlsx
from shared.errors import BadInput
from shared.xlsx import (Row, as_date, as_decimal, as_int, as_number, as_text, read_sheet,
                         save_workbook, write_sheet)

DANGEROUS = ["=1+1", "=HYPERLINK(\"http://evil\",\"x\")", "+SUM(A1)", "-2+3", "@SUM(1)",
             "\tcmd", "\r=1"]


def test_defusedxml_is_active():
    assert openpyxl.DEFUSEDXML is True


# ------------------------------------------------------------------------ writing

def test_formula_injection_stays_text(tmp_path):
    path = tmp_path / "out.xlsx"
    write_sheet(path, "T", ["值"], [[v] for v in DANGEROUS])
    for read_only in (False, True):
        wb = openpyxl.load_workbook(path, read_only=read_only)
        cells = [row[0] for row in wb["T"].iter_rows(min_row=2)]
        # XML parsing turns a bare CR into LF; what matters is that it stays text.
        assert [c.value for c in cells] == [v.replace("\r", "\n") for v in DANGEROUS]
        assert all(c.data_type == "s" for c in cells)
        wb.close()
    # Nothing in the file is a formula element.
    with zipfile.ZipFile(path) as zf:
        assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")


def test_styled_table(tmp_path):
    path = tmp_path / "styled.xlsx"
    dv = DataValidation(type="list", formula1='"市级,省级以上"', allow_blank=True)
    write_sheet(path, "名册", ["代码", "层级", "日期"],
                [["X1", "市级", dt.date(2023, 9, 1)], {"代码": "X2", "层级": "省级以上"}],
                widths={"代码": 30}, comments={"层级": "市级 / 省级以上"},
                validations={"层级": dv})
    ws = openpyxl.load_workbook(path)["名册"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("DDEBF7")
    assert ws["B1"].comment.text == "市级 / 省级以上"
    assert ws.column_dimensions["A"].width == 30
    assert ws["C2"].value == dt.datetime(2023, 9, 1) and ws["C2"].number_format == "yyyy-mm-dd"
    assert ws["C3"].value is None
    [validation] = ws.data_validations.dataValidation
    assert str(validation.sqref) == "B2:B1048576"


def test_several_sheets_in_one_workbook(tmp_path):
    wb = openpyxl.Workbook()
    write_sheet(wb, "一", ["a"], [[1]])
    write_sheet(wb, "二", ["b"], [[2]])
    save_workbook(wb, tmp_path / "two.xlsx")
    assert openpyxl.load_workbook(tmp_path / "two.xlsx").sheetnames == ["一", "二"]
    assert [r.values for r in read_sheet(tmp_path / "two.xlsx", sheet="二",
                                         required=["b"])] == [{"b": 2}]


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "a.xlsx"
    write_sheet(path, "T", ["a"], [["old"]])
    write_sheet(path, "T", ["a"], [["new"]])
    assert [r.values["a"] for r in read_sheet(path, required=["a"])] == ["new"]
    assert os.listdir(tmp_path) == ["a.xlsx"]

    class Broken:
        def save(self, fh):
            fh.write(b"partial")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_workbook(Broken(), path)
    assert os.listdir(tmp_path) == ["a.xlsx"]
    assert [r.values["a"] for r in read_sheet(path, required=["a"])] == ["new"]


# ------------------------------------------------------------------------ reading

def _sheet(tmp_path, header, *rows, name="in.xlsx"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


def test_reads_rows_with_excel_row_numbers(tmp_path):
    path = _sheet(tmp_path, [" 代码 ", "数量", "备注", None, "其他"],
                  ["A", 1, "  x  ", None, "ignored"], [None, None, None], ["  ", None],
                  ["B", 2, "", None, None])
    rows = read_sheet(path, required=["代码", "数量"], optional=["备注", "缺席"])
    assert [tuple(r) for r in rows] == [
        (2, {"代码": "A", "数量": 1, "备注": "x", "缺席": None}),
        (5, {"代码": "B", "数量": 2, "备注": None, "缺席": None}),
    ]
    number, values = rows[0]
    assert number == 2 and rows[0].file == "in.xlsx"


def test_missing_column(tmp_path):
    path = _sheet(tmp_path, ["代码"], ["A"])
    with pytest.raises(BadInput) as info:
        read_sheet(path, required=["代码", "数量"])
    assert (info.value.file, info.value.row, info.value.column) == ("in.xlsx", 1, "数量")
    assert info.value.message == "missing column"


def test_duplicate_header(tmp_path):
    path = _sheet(tmp_path, ["代码", "数量", "代码 "], ["A", 1, "B"])
    with pytest.raises(BadInput, match="duplicate column") as info:
        read_sheet(path, required=["代码"])
    assert (info.value.row, info.value.column) == (1, "代码")


def test_empty_sheet(tmp_path):
    path = _sheet(tmp_path, [])
    with pytest.raises(BadInput, match="header row is empty"):
        read_sheet(path, required=["代码"])


def test_unknown_sheet(tmp_path):
    path = _sheet(tmp_path, ["代码"], ["A"])
    with pytest.raises(BadInput, match="no sheet named"):
        read_sheet(path, sheet="机构情况", required=["代码"])


def test_too_many_rows(tmp_path):
    path = _sheet(tmp_path, ["n"], *[[i] for i in range(6)])
    assert len(read_sheet(path, required=["n"], max_rows=6)) == 6
    with pytest.raises(BadInput, match="more than 5 data rows") as info:
        read_sheet(path, required=["n"], max_rows=5)
    assert info.value.row == 7


def test_too_big(tmp_path):
    path = _sheet(tmp_path, ["n"], [1])
    with pytest.raises(BadInput, match="more than the limit"):
        read_sheet(path, required=["n"], max_bytes=100)


def test_missing_file(tmp_path):
    with pytest.raises(BadInput, match="not found") as info:
        read_sheet(tmp_path / "nope.xlsx", required=["n"])
    assert info.value.file == "nope.xlsx"


@pytest.mark.parametrize("content", [b"a,b\n1,2\n", b"", b"PK\x03\x04garbage"])
def test_not_an_xlsx(tmp_path, content):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(content)
    with pytest.raises(BadInput) as info:
        read_sheet(path, required=["n"])
    assert info.value.file == "fake.xlsx"


def test_upload_under_any_name_reads(tmp_path):
    path = _sheet(tmp_path, ["n"], [1], name="upload.bin")
    assert len(read_sheet(path, required=["n"])) == 1


def test_entity_expansion_is_refused(tmp_path):
    path = _sheet(tmp_path, ["n"], [1])
    bomb = tmp_path / "bomb.xlsx"
    sheet = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
             '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row>'
             '</sheetData></worksheet>')
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            dst.writestr(item, data)
    with pytest.raises(BadInput) as info:
        read_sheet(bomb, required=["n"])
    causes, exc = [], info.value
    while exc is not None:
        causes.append(type(exc).__name__)
        exc = exc.__cause__ or exc.__context__
    assert "EntitiesForbidden" in causes  # refused by defusedxml, not by accident


# ------------------------------------------------------------------------ coercion

WHERE = {"file": "f.xlsx", "row": 7, "column": "数量"}


def test_as_text():
    assert as_text(" a ", **WHERE) == "a"
    assert as_text(123, **WHERE) == "123"
    assert as_text(123.0, **WHERE) == "123"
    assert as_text(None, required=False, **WHERE) is None
    with pytest.raises(BadInput, match="digits may have been lost"):
        as_text(9.14403001922038e17, **WHERE)
    with pytest.raises(BadInput, match="longer than 3"):
        as_text("abcd", max_length=3, **WHERE)


def test_as_int():
    assert as_int(5, **WHERE) == 5
    assert as_int(5.0, **WHERE) == 5
    assert as_int(" 12 ", **WHERE) == 12
    assert as_int("", required=False, **WHERE) is None
    for bad in ("1.5", 1.5, "abc", True):
        with pytest.raises(BadInput) as info:
            as_int(bad, **WHERE)
        assert (info.value.file, info.value.row, info.value.column) == ("f.xlsx", 7, "数量")
    with pytest.raises(BadInput, match="less than the minimum 0"):
        as_int(-1, minimum=0, **WHERE)
    with pytest.raises(BadInput, match="more than the maximum 10"):
        as_int(11, maximum=10, **WHERE)
    with pytest.raises(BadInput, match="required"):
        as_int(None, **WHERE)


def test_as_decimal_and_number():
    assert as_decimal("19.5", **WHERE) == Decimal("19.5")
    assert as_decimal(0.1, **WHERE) == Decimal("0.1")
    assert as_number("19.5", **WHERE) == 19.5
    for bad in ("NaN", "inf", "x", True):
        with pytest.raises(BadInput):
            as_decimal(bad, **WHERE)
    with pytest.raises(BadInput):
        as_number(21, maximum=20, **WHERE)


@pytest.mark.parametrize("value", [dt.date(2023, 9, 1), dt.datetime(2023, 9, 1, 0, 0),
                                   "2023-09-01", "2023/9/1", "2023.09.01", "2023年9月1日"])
def test_as_date_accepts(value):
    assert as_date(value, **WHERE) == dt.date(2023, 9, 1)


@pytest.mark.parametrize("value", ["2023-02-30", "01/09/2023", "yesterday", 45170, 45170.0])
def test_as_date_refuses(value):
    with pytest.raises(BadInput) as info:
        as_date(value, **WHERE)
    assert info.value.column == "数量"


def test_row_helper():
    row = Row("f.xlsx", 4, {"n": "3", "d": None, "t": " x "})
    assert row.int("n", minimum=0) == 3
    assert row.date("d", required=False) is None
    assert row.text("t") == "x"
    with pytest.raises(BadInput) as info:
        row.date("d")
    assert (info.value.row, info.value.column) == (4, "d")
    assert row.error("t", "bad").row == 4


def test_limits_are_the_documented_defaults():
    assert xlsx.MAX_BYTES == 20 * 1024 * 1024 and xlsx.MAX_ROWS == 20000


# ------------------------------------------------------------- hostile cell values
# Hypothesis over every column type (issue 13): each coercion either returns the
# documented normalisation of what was typed or refuses with BadInput naming the cell;
# it never raises anything else and never changes a value silently.

import math  # noqa: E402
import unicodedata  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402

_WHERE = {"file": "f.xlsx", "sheet": "S", "row": 7, "column": "C"}

_digits = st.text(alphabet="0123456789０１２３４５６７８９", min_size=1, max_size=25)
_numberish = st.one_of(
    _digits,
    st.builds(lambda sign, a, b: f"{sign}{a}.{b}", st.sampled_from(["", "-", "+", "－"]),
              _digits, _digits),
    st.sampled_from(["1e999999", "1_8", "Infinity", "NaN", "-0", "٣", "1,000", "0x10",
                     "9" * 5000, " 12 ", "１２", "1.", ".5", "1e3"]),
    st.text(max_size=30))
_cell = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=True),
    st.dates(), st.datetimes(), _numberish, st.text(max_size=300),
    st.builds(xlsx.Unreadable, st.text(max_size=20)))


def _refusal_names_the_cell(exc):
    assert isinstance(exc, BadInput)
    assert (exc.file, exc.sheet, exc.row, exc.column) == ("f.xlsx", "S", 7, "C")


def _coerce(function, value, **options):
    try:
        return function(value, **_WHERE, **options), None
    except BadInput as exc:
        _refusal_names_the_cell(exc)
        return None, exc


@pytest.mark.parametrize("coerce", [as_int, as_decimal])
@settings(max_examples=400, deadline=None)
@given(value=_cell)
def test_numbers_are_what_was_typed_or_refused(coerce, value):
    number, refused = _coerce(coerce, value, required=False)
    if refused or number is None:
        return
    assert isinstance(number, int if coerce is as_int else Decimal)
    assert abs(number) < 10 ** xlsx.MAX_DIGITS
    if isinstance(value, str):
        assert Decimal(unicodedata.normalize("NFKC", value).strip()) == number
    elif isinstance(value, float):
        assert math.isfinite(value) and float(number) == value
    else:
        assert not isinstance(value, bool) and value == number


@settings(max_examples=400, deadline=None)
@given(_numberish)
def test_whole_number_and_decimal_columns_follow_one_policy(text):
    """`１８` and `1_8` are read the same way in every numeric column (they were not)."""
    whole, whole_refused = _coerce(as_int, text)
    decimal, decimal_refused = _coerce(as_decimal, text)
    if whole_refused is None:
        assert decimal == whole
    if decimal_refused is not None:
        assert whole_refused is not None


@settings(max_examples=400, deadline=None)
@given(_cell, st.booleans())
def test_text_is_kept_as_typed_or_refused(value, multiline):
    text, refused = _coerce(as_text, value, required=False, multiline=multiline)
    if refused or text is None:
        return
    if isinstance(value, str):
        expected = value.strip()
        assert text == (expected.replace("\r\n", "\n") if multiline else expected)
    assert len(text) <= xlsx.TEXT_MAX
    for ch in text:
        assert unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") or (
            multiline and ch == "\n")


@settings(max_examples=400, deadline=None)
@given(st.one_of(_cell, st.text(alphabet="６-１８－０２ ０４ABC（一）\u202e\u200b", max_size=30)))
def test_codes_are_nfkc_of_what_was_typed_or_refused(value):
    code, refused = _coerce(xlsx.as_code, value, required=False)
    if refused or code is None:
        return
    if isinstance(value, str):
        assert code == "".join(unicodedata.normalize("NFKC", value).split())
    assert code and not any(ch.isspace() for ch in code)
    assert all(unicodedata.category(ch)[0] != "C" for ch in code)


@settings(max_examples=400, deadline=None)
@given(_cell, st.dates(), st.dates())
def test_dates_are_what_was_typed_within_bounds_or_refused(value, a, b):
    earliest, latest = min(a, b), max(a, b)
    date, refused = _coerce(as_date, value, required=False, earliest=earliest,
                            latest=latest)
    if refused or date is None:
        return
    assert max(earliest, xlsx.DATE_MIN) <= date <= min(latest, xlsx.DATE_MAX)
    if isinstance(value, dt.datetime):
        assert date == value.date()
    elif isinstance(value, dt.date):
        assert date == value
    else:
        digits = [int(g) for g in re.findall(r"[0-9]+", unicodedata.normalize("NFKC",
                                                                              value))]
        assert digits == [date.year, date.month, date.day]
