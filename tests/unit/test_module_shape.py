"""Issue 12's shape, kept: each fact of the notice written once, and modules small enough to
change for one reason (services/ holds no module over ~350 lines)."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = [p for top in ("services", "shared", "bench", "tests", "examples")
           for p in (ROOT / top).rglob("*.py")]
MAX_LINES = 350


def test_the_campaigns_cohorts_are_written_in_one_place():
    cohorts = "2020" + ", " + "2021"  # spelt apart, so this file is not a place of its own
    places = [f"{p.relative_to(ROOT)}:{n}" for p in SOURCES
              for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
              if cohorts in line]
    assert places == ["shared/language/outcomes.py:10"], places


def test_no_module_in_services_is_over_350_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "services").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long
