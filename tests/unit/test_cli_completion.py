"""Shell completion generated from the parser (issue 15): run the bash script in a real
bash and see what it offers."""
import shutil
import subprocess

import pytest

from services.cli import forms
from services.cli.completion import bash_script, tree, zsh_script
from services.cli.parser import build_parser

pytestmark = pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
SCRIPT = bash_script(build_parser())


def complete(line):
    """What bash offers for `line` (the word being completed is its last, maybe empty)."""
    words = line.split(" ")
    program = "\n".join([
        SCRIPT,
        "COMP_WORDS=(" + " ".join(f"'{w}'" for w in words) + ")",
        f"COMP_CWORD={len(words) - 1}",
        "_pinggu",
        'printf "%s\\n" "${COMPREPLY[@]}"'])
    result = subprocess.run(["bash", "--norc", "--noprofile"], input=program, text=True,
                            capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return sorted(w for w in result.stdout.splitlines() if w)


def test_commands_and_sub_commands():
    assert complete("pinggu ca") == ["campaign", "case"]
    assert complete("pinggu case ") == sorted(
        ["show", "history", "export", "explain"] + ["--help", "--json", "--lang",
                                                    "--operator", "--command-id"])
    assert complete("pinggu --json case sh") == ["show"]
    assert complete("pinggu case --lang en h") == ["history"]


def test_choices_of_arguments_and_options():
    assert complete("pinggu template ") == sorted(
        list(forms.TEMPLATES) + ["--help", "--jurisdiction", "--out", "--json", "--lang",
                                 "--operator", "--command-id"])
    assert complete("pinggu template re-score --jurisdiction 1401") == ["140100"]
    assert complete("pinggu publish --kind ") == ["correction", "rectification", "results"]
    assert complete("pinggu clock show --lang ") == ["en", "zh"]
    assert complete("pinggu completion ") == sorted(["bash", "zsh", "--help", "--json",
                                                     "--lang", "--operator", "--command-id"])


def test_file_names_where_a_file_goes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sa-140100.xlsx").write_bytes(b"")
    assert complete("pinggu submit self-assessment sa-") == ["sa-140100.xlsx"]
    assert complete("pinggu publish notice --out sa") == ["sa-140100.xlsx"]


def test_every_command_of_the_parser_is_in_the_script():
    for path in tree(build_parser()):
        assert f'"{path}")' in SCRIPT, path


def test_zsh_runs_the_same_function_through_bashcompinit():
    script = zsh_script(build_parser())
    assert script.startswith("#compdef pinggu") and "bashcompinit" in script
    assert SCRIPT in script
