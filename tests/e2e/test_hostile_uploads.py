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


def test_every_problem_of_a_file_comes_back_in_one_answer(cluster, tmp_path):
    """Four planted problems in two sheets: one submission names all four (through the
    parse worker and RPC), and the file is still refused as a whole."""
    from tests import factories
    a, b = factories.make_uscc(9101), factories.make_uscc(9102)
    path = factories.self_assessment(tmp_path / "自评.xlsx", [a, b])
    factories.set_cell(path, 2, "考评人员数", "12人", sheet="机构情况")
    factories.set_cell(path, 3, "统一社会信用代码", b[:-1] + ("0" if b[-1] != "0" else "1"),
                       sheet="机构情况")
    factories.set_cell(path, 2, "合格人数", 41, sheet="认定开展情况")  # 40 assessed
    factories.set_cell(path, 3, "职业编码", "6-18-2-4", sheet="认定开展情况")
    rc, out, err = cluster.cli("submit", "self-assessment", path, operator="province")
    assert rc == 2 and "Traceback" not in err, err
    for sheet, column in (("机构情况", "考评人员数"), ("机构情况", "统一社会信用代码"),
                          ("认定开展情况", "合格人数"), ("认定开展情况", "职业编码")):
        assert sheet in err and column in err, (column, err)
    assert "12人" in err and "6-18-2-4" in err
