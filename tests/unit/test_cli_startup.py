"""Every `pinggu` call is a process of its own: its start-up is paid 61 times by one
province's evaluation (bench/README.md). The CLI only base64-encodes the files it sends,
so openpyxl (~0.2 s to import) is loaded by the commands that write a form, not by every
start-up (issue 14)."""
import subprocess
import sys

from tests.support import ROOT


def loaded_at_startup(*modules):
    # As `pinggu` starts: the parser built, with every command group's module.
    code = ("import sys; from services.cli import build_parser; build_parser(); "
            f"print([m for m in {list(modules)!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    return eval(out)  # a list of names printed by ourselves


def test_the_cli_starts_without_openpyxl_or_the_parse_worker():
    assert loaded_at_startup("openpyxl", "shared.parse_worker", "shared.xlsx") == []


def test_the_check_sees_a_module_that_is_loaded():
    assert loaded_at_startup("shared.tokens") == ["shared.tokens"]
