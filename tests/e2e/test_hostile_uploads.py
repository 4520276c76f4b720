"""Hostile uploads through the CLI and the services (issue 13): exit 2 naming the file,
sheet, row and column, never a traceback; the services go on answering."""
import json

import pytest

from tests import hostile_corpus

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("kind, name, command, column", [
    ("roster", "huge-integer", ("roster", "import"), "统一社会信用代码"),
    ("score-sheet", "1e999999", ("submit", "score-sheet"), "档案管理"),
    ("score-sheet", "evaluated-2099", ("submit", "score-sheet"), "评估日期"),
    ("rectification", "formula-without-value", ("submit", "rectification"),
     "统一社会信用代码"),
    ("self-assessment", "merged", ("submit", "self-assessment"), "A"),
    ("legal-status", "bidi-override", ("report", "legal-status"), "登记状态"),
])
def test_a_hostile_file_exits_2_naming_the_cell(cluster, tmp_path, kind, name, command,
                                                column):
    case = next(c for c in hostile_corpus.generate_one(str(tmp_path), kind, name))
    rc, out, err = cluster.cli(*command, case.path, operator="province")
    assert rc == 2, (rc, err)
    assert "Traceback" not in err
    assert f"row {case.row}, column {column}:" in err and "sheet " in err, err
    rc, out, _ = cluster.cli("health", "--json")
    assert rc == 0 and all(s["ok"] for s in json.loads(out).values())


def test_a_zip_bomb_exits_2_naming_the_file(cluster, tmp_path):
    case = next(c for c in hostile_corpus.generate_one(str(tmp_path), "roster", "zip-bomb"))
    rc, out, err = cluster.cli("roster", "import", case.path, operator="province")
    assert rc == 2 and "zip bomb" in err and "Traceback" not in err, err
