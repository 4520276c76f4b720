"""BadInput's list of problems survives to_dict, the parse worker's JSON and nameko RPC."""
from nameko.exceptions import RemoteError, deserialize, serialize

from shared.errors import BadInput, Refused, from_remote, problem


def two_problems():
    return BadInput.of([
        problem("expected a whole number, got '12人'", message_zh="应为整数,实为 '12人'",
                rule="whole-number", file="自评.xlsx", sheet="机构情况", row=3,
                column="考评人员数"),
        problem("5 passed but only 4 assessed", message_zh="合格人数 5 大于参评人数 4",
                rule="passed-at-most-assessed", file="自评.xlsx", sheet="认定开展情况",
                row=2, column="合格人数"),
    ], truncated=True)


def test_single_error_constructor_lists_itself():
    exc = BadInput("missing column", file="a.xlsx", row=1, column="数量")
    assert exc.errors == [{"file": "a.xlsx", "sheet": None, "row": 1, "column": "数量",
                           "rule": None, "message": "missing column",
                           "message_zh": "missing column"}]
    assert exc.truncated is False
    assert str(exc).startswith("a.xlsx, row 1, column 数量: missing column\n")


def test_the_first_problem_is_the_exceptions_own():
    exc = two_problems()
    assert (exc.file, exc.sheet, exc.row, exc.column, exc.rule) == (
        "自评.xlsx", "机构情况", 3, "考评人员数", "whole-number")
    assert exc.summary().endswith("(and 1+ more)")
    d = exc.to_dict()
    assert d["error"] == "bad_input" and len(d["errors"]) == 2 and d["truncated"] is True


def test_to_dict_round_trip():
    exc = two_problems()
    again = BadInput.from_dict(exc.to_dict())
    assert again.errors == exc.errors and again.truncated


def test_every_problem_survives_nameko_serialisation():
    exc = two_problems()
    remote = deserialize(serialize(exc))
    assert isinstance(remote, RemoteError) and remote.exc_type == "BadInput"
    rebuilt = from_remote(remote)
    assert isinstance(rebuilt, BadInput)
    assert rebuilt.errors == exc.errors and rebuilt.truncated
    assert rebuilt.errors[1]["message_zh"] == "合格人数 5 大于参评人数 4"


def test_refused_and_other_remote_errors():
    rebuilt = from_remote(deserialize(serialize(Refused("属地管理", "not your city"))))
    assert isinstance(rebuilt, Refused)
    assert (rebuilt.rule, rebuilt.message) == ("属地管理", "not your city")
    assert from_remote(RemoteError("KeyError", "'x'")) is None
    # A BadInput text without data (an older service) still becomes a BadInput.
    assert from_remote(RemoteError("BadInput", "just text")).message == "just text"


def test_with_sheet_names_the_sheet_of_row_errors_only():
    exc = BadInput.of([problem("bad", row=3), problem("whole file")]).with_sheet("S")
    assert [e["sheet"] for e in exc.errors] == ["S", None]


def test_every_rule_a_reader_names_has_a_chinese_label():
    """The rules shared/xlsx and the forms name are shown in Chinese on the desk and by
    `pinggu submit` (zh); an unknown one as it is, none as nothing."""
    import pathlib
    import re
    from shared.errors import RULES_ZH, rule_label
    root = pathlib.Path(__file__).resolve().parents[2]
    named = {m for path in [*root.glob("shared/**/*.py"), *root.glob("services/**/*.py")]
             for m in re.findall(r'rule="([^"]+)"', path.read_text(encoding="utf-8"))}
    assert named and named <= set(RULES_ZH), named - set(RULES_ZH)
    assert rule_label("whole number") == "整数" and rule_label("whole number", "en") == \
        "whole number"
    assert rule_label("something new") == "something new" and rule_label(None) == ""
