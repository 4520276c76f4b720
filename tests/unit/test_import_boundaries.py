"""Who may import whom (issue 12): the services know each other only through events.

- `services.<svc>` (registry, evaluation, decisions, notices and any package added under
  services/) imports only `shared` and `services.<svc>` itself: a rule change in decisions
  must not silently change another service's validation.
- `shared` imports no `services`; `shared.language`, the one place each fact of the notice
  is written, imports only the standard library and itself.
- The tools at the top of services/ (CLIENTS) are clients of the services: they talk to
  them over RPC and may use any service's vocabulary (the CLI prints the rulebook's
  outcomes, the demo fills every form). They are exempt, and nothing may import them.

The walk reads every module's AST, so an import inside a function counts as well, and so
does `importlib.import_module` of a literal name.
"""
import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Top-level tools of services/: clients of the services, not services (module or package).
CLIENTS = frozenset({"cli", "demo", "reset", "backup", "provision", "portal_server", "run",
                     "healthcheck"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, relative ones resolved
    against `module`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = package[:len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            if name in ("services", "shared"):  # `from services import registry`
                found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, name))
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and _dotted(node.func) in ("importlib.import_module", "import_module",
                                         "__import__")):
            found.append((node.lineno, node.args[0].value))
    return found


def _dotted(func) -> str:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return func.id if isinstance(func, ast.Name) else ""


def allowed(importer: str, target: str) -> bool:
    """Whether module `importer` may import module `target` (the rules above)."""
    top = target.split(".")[0]
    parts = importer.split(".")
    if parts[0] == "shared":
        if parts[:2] == ["shared", "language"]:
            return target.split(".")[:2] == ["shared", "language"] \
                or top in sys.stdlib_module_names or top == "__future__"
        return top != "services"
    if parts[0] == "services" and len(parts) > 1 and parts[1] not in CLIENTS:
        if target == "services" or target.startswith("services."):
            return target.split(".")[:2] == parts[:2]
        return True
    return True


def violations(importer: str, source: str, is_package: bool = False) -> list[str]:
    return [f"{importer}:{line} imports {target}"
            for line, target in imported(source, importer, is_package)
            if not allowed(importer, target)]


def modules():
    for top in ("services", "shared"):
        for path in sorted((ROOT / top).rglob("*.py")):
            yield module_name(path), path


def test_every_module_keeps_to_its_boundary():
    found = []
    for name, path in modules():
        found += violations(name, path.read_text(encoding="utf-8"),
                            path.name == "__init__.py")
    assert not found, "imports across a boundary:\n" + "\n".join(found)


def test_the_walk_sees_every_service_and_shared():
    names = {name for name, _ in modules()}
    for expected in ("services.registry.application", "services.evaluation.campaign",
                     "services.decisions.rulebook", "services.notices.followups",
                     "shared.language.clauses", "shared.parse_worker"):
        assert expected in names


@pytest.mark.parametrize("importer, source", [
    ("services.evaluation.forms", "from services.decisions.rulebook import CLAUSES"),
    ("services.evaluation.forms", "def f():\n    import services.registry.uscc\n"),
    ("services.notices.publications", "from services.decisions import rulebook as rb"),
    ("services.desk.app", "from services.notices import followups"),
    ("services.registry.roster", "from services import cli"),
    ("services.registry.roster", "from services.demo import run"),
    ("shared.parse_worker", "def f():\n    from services.evaluation.rubric import Rubric\n"),
    ("shared.language.clauses", "import openpyxl"),
    ("shared.language.clauses", "from shared.dates import add_months"),
    ("services.notices.publications", "from ..decisions import rulebook"),
    ("shared.upload", "import importlib\nimportlib.import_module('services.evaluation.forms')"),
])
def test_a_crossing_is_caught(importer, source):
    assert violations(importer, source)


@pytest.mark.parametrize("importer, source", [
    ("services.evaluation.forms", "from shared.language.clauses import CLAUSES"),
    ("services.evaluation.forms", "from services.evaluation.rubric import Rubric"),
    ("services.evaluation.forms", "from . import rubric\nfrom .rubric import Rubric"),
    ("services.evaluation", "from .campaign import Campaign"),
    ("services.cli", "from services.decisions import rulebook"),
    ("services.demo", "from services.registry import sample"),
    ("shared.language.outcomes", "from shared.language.clauses import PASS\nimport re"),
    ("services.registry.roster", "from services import registry"),
    ("shared.language.outcomes", "from shared import language"),
    ("shared.application", "import eventsourcing\nfrom shared.language import identifiers"),
])
def test_what_is_allowed_passes(importer, source):
    assert not violations(importer, source, importer == "services.evaluation")
