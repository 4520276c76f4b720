"""A jurisdiction of more institutions than one form may list gets its templates in parts,
each handed in on its own (issue 14: at a nation's size the province lists ~20,000
institutions, and its filled-in self-assessment was refused for its 40,000 activity rows).
part_ranges is the one cut: the CLI's files here, the evaluation service's `template`
parts (the desk's) in tests/unit/test_desk.py and tests/integration."""
import openpyxl
import pytest
from hypothesis import given, strategies as st

from shared import xlsx
from services.evaluation import forms
from services.evaluation.forms.common import COL_USCC, SELF_ASSESSMENT, SCORE_SHEET
from services.evaluation.forms.templates import PER_FILE, part_ranges

INSTITUTIONS = [{"uscc": f"9114010{n:011d}", "name": f"机构{n}", "jurisdiction": "140000"}
                for n in range(7)]


def listed(path, sheet):
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    rows = ws.iter_rows(values_only=True)
    header = next(rows)
    return [row[header.index(COL_USCC)] for row in rows if row and any(row)]


@pytest.mark.parametrize("kind", [SELF_ASSESSMENT, SCORE_SHEET])
def test_each_institution_is_listed_once_in_parts_of_at_most_per_file(kind, tmp_path):
    paths = forms.write_templates(kind, str(tmp_path / "t.xlsx"), INSTITUTIONS, per_file=3)
    assert paths == [str(tmp_path / f"t-{n}.xlsx") for n in (1, 2, 3)]
    first_sheet = forms.sheets(kind)[0].title
    parts = [listed(p, first_sheet) for p in paths]
    assert [len(p) for p in parts] == [3, 3, 1]
    assert sum(parts, []) == [i["uscc"] for i in INSTITUTIONS]


def test_a_jurisdiction_that_fits_gets_the_one_file_it_asked_for(tmp_path):
    out = str(tmp_path / "t.xlsx")
    assert forms.write_templates(SELF_ASSESSMENT, out, INSTITUTIONS, per_file=7) == [out]


def test_a_full_part_leaves_four_activity_rows_an_institution_within_what_a_sheet_reads():
    assert PER_FILE * 4 + 1 <= xlsx.MAX_ROWS  # the header row counts


@given(st.integers(0, 50), st.integers(1, 12))
def test_the_parts_list_every_position_once_in_order_at_most_per_file_each(count, per_file):
    parts = part_ranges(count, per_file)
    assert [i for part in parts for i in part] == list(range(count))
    assert all(len(part) <= per_file for part in parts)
    # As few parts as can be: all full but the last, which is empty only when all are.
    assert all(len(part) == per_file for part in parts[:-1])
    assert len(parts) == max(1, -(-count // per_file))


def test_a_jurisdiction_of_exactly_per_file_is_one_part_and_one_more_is_two():
    assert part_ranges(3, 3) == [range(0, 3)]
    assert part_ranges(4, 3) == [range(0, 3), range(3, 4)]
    assert part_ranges(0, 3) == [range(0)]
    assert part_ranges(PER_FILE + 1) == [range(0, PER_FILE), range(PER_FILE, PER_FILE + 1)]
