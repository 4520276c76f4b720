"""One clause notation in everything published (issue 16): the notice's own."""
import pytest
from hypothesis import given, strategies as st

from shared.language import clauses as lc
from shared.language import notation as cl


@pytest.mark.parametrize("code, table, prose", [
    ("四(一)7", "四（一）7", "第四条第（一）项第7款"),
    ("六(二)", "六（二）", "第六条第（二）项"),
    ("四(二)", "四（二）", "第四条第（二）项"),
    ("四（二）3", "四（二）3", "第四条第（二）项第3款"),
])
def test_table_and_prose_forms(code, table, prose):
    assert cl.table(code) == table and cl.prose(code) == prose


def test_lists():
    assert cl.table_list(["四(一)5", "四(二)1"]) == "四（一）5、四（二）1"
    assert cl.table_list([]) == "—"
    assert cl.prose_list(["四(一)5", "四(二)1"]) == "第四条第（一）项第5款和第四条第（二）项第1款"


@given(st.sampled_from(sorted(lc.CLAUSES)))
def test_every_rulebook_clause_renders_with_full_width_brackets(code):
    for text in (cl.table(code), cl.prose(code)):
        assert "(" not in text and ")" not in text and "（" in text


@pytest.mark.parametrize("bad", ["", "4(1)7", "四一7", None])
def test_refuses_what_is_not_a_clause(bad):
    with pytest.raises(ValueError):
        cl.table(bad)
