"""The command line's grammar (issue 15): global options anywhere on the line, --version,
choices listed in --help, usage errors in the operator's language (JSON under --json)."""
import json

import pytest
from hypothesis import given, settings, strategies as st

from services import cli
from services.cli import forms
from services.cli.completion import tree
from services.cli.parser import build_parser

USCC = "91140100MA0K0000X1"
# Command lines as units: an option and its value stay together.
LINES = [
    [["case"], ["show"], [USCC], ["--as-of", "2023-09-20"]],
    [["template"], ["re-score"], ["--jurisdiction", "140100"], ["--out", "x.xlsx"]],
    [["publish"], ["notice"], ["--out", "portal"], ["--kind", "correction"]],
    [["operator"], ["add"], ["city-140300-li"], ["--role", "city"],
     ["--jurisdiction", "140300"]],
    [["clock"], ["set"], ["2023-08-28"], ["--no-settle"]],
]
GLOBALS = [["--json"], ["--lang", "en"], ["--operator", "city-140100"],
           ["--command-id", "c-1"], ["--lang=en"], ["--operator=city-140100"]]


PARSER = build_parser()


def parse(argv):
    return vars(PARSER.parse_args(argv))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(LINES), st.lists(st.tuples(st.sampled_from(GLOBALS),
                                                   st.integers(0, 10)), max_size=4))
def test_global_options_mean_the_same_wherever_they_stand(line, placed):
    units = list(line)
    for option, position in placed:
        units.insert(min(position, len(units)), option)
    # Where a flag is given twice, the last one wins, as with any option.
    expected = parse([w for option, _ in placed for w in option] + [w for u in line for w in u])
    assert parse([w for unit in units for w in unit]) == expected


def test_global_options_after_the_command_are_read():
    args = parse(["case", "show", USCC, "--json", "--lang", "en", "--operator", "auditor",
                  "--command-id", "c-9"])
    assert (args["json"], args["lang"], args["operator"], args["command_id"]) == \
        (True, "en", "auditor", "c-9")
    args = parse(["case", "--json", "show", USCC])
    assert args["json"] is True


def test_messages_are_chinese_unless_asked_otherwise(monkeypatch):
    def lang(*argv):  # the default is read when the parser is built
        return vars(build_parser().parse_args(["clock", "show", *argv]))["lang"]
    monkeypatch.delenv("PINGGU_LANG", raising=False)
    assert lang() == "zh"
    monkeypatch.setenv("PINGGU_LANG", "en")
    assert lang() == "en" and lang("--lang", "zh") == "zh"
    monkeypatch.setenv("PINGGU_LANG", "fr")
    assert lang() == "zh"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.startswith("pinggu ")


@pytest.mark.parametrize("argv, listed", [
    (["template", "--help"], list(forms.TEMPLATES) + ["140100", "141100", "太原市"]),
    (["submit", "--help"], list(forms.TEMPLATES)),
    (["publish", "--help"], ["opinions", "notice", "results", "rectification", "correction"]),
    (["operator", "add", "--help"], ["province", "city", "center"]),
    (["--help"], ["--lang", "--version", "completion", "exit codes"]),
])
def test_choices_are_listed_in_help(capsys, argv, listed):
    with pytest.raises(SystemExit):
        cli.main(argv)
    out = capsys.readouterr().out
    missing = [word for word in listed if word not in out]
    assert not missing, out


def test_every_command_has_the_global_options():
    for path, node in tree(build_parser()).items():
        assert {"--json", "--lang", "--operator", "--command-id"} <= set(node["options"]), path


def test_a_bad_command_line_is_one_line_in_chinese_by_default(capsys, monkeypatch):
    monkeypatch.delenv("PINGGU_LANG", raising=False)
    assert cli.main(["template", "bogus", "--jurisdiction", "140100", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pinggu: 命令行有误") and "bogus" in err and len(err.splitlines()) == 1
    assert cli.main(["template", "--jurisdiction", "149900", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: '149900'" in err and "命令行" not in err


def test_a_bad_command_line_under_json_is_a_json_object(capsys):
    assert cli.main(["submit", "nonsense", "f.xlsx", "--json"]) == 2
    captured = capsys.readouterr()
    error = json.loads(captured.err)
    assert error["error"] == "usage" and error["exit"] == 2 and "nonsense" in error["message"]
    assert captured.out == ""


def test_no_operator_is_refused_before_anything_is_sent(capsys, monkeypatch):
    monkeypatch.delenv("PINGGU_OPERATOR", raising=False)
    assert cli.main(["clock", "show", "--lang", "en"]) == 2
    assert "no operator given" in capsys.readouterr().err
    assert cli.main(["clock", "show"]) == 2
    assert "未指定操作员" in capsys.readouterr().err
