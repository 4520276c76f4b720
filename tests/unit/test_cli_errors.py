"""What the operator sees when something is wrong (issue 15): every error of a file at
once, in Chinese by default; errors as JSON objects under --json; one clear line and
exit 3 when the broker or the database cannot be reached."""
import json
import os
import socket
import subprocess
import sys

import psycopg2
import pytest
from nameko.exceptions import RemoteError

from services import cli
from services.cli.client import Cluster
from shared import operators, tokens
from shared.errors import BadInput, Refused

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBLEMS = [
    {"sheet": "机构情况", "row": 3, "column": "考评人员数", "rule": "whole-number",
     "message": "expected a whole number, got '12人'", "message_zh": "应为整数，实为“12人”"},
    {"sheet": "机构情况", "row": 5, "column": "统一社会信用代码", "rule": "uscc",
     "message": "not a valid USCC", "message_zh": "统一社会信用代码校验位不符"},
    {"sheet": "认定开展情况", "row": 2, "column": "年度", "rule": "period",
     "message": "year 2019 is outside the period", "message_zh": "年度 2019 不在评估期内"},
    {"sheet": "认定开展情况", "row": 7, "column": "合格人数", "rule": "not-more-than",
     "message": "more passed than assessed", "message_zh": "合格人数多于参评人数"},
]


@pytest.fixture
def refused_file(monkeypatch, tmp_path):
    """The evaluation service refusing a file with four problems, as nameko passes it on."""
    path = tmp_path / "sa-140100.xlsx"
    path.write_bytes(b"PK")
    error = BadInput.of([dict(p, file=path.name) for p in PROBLEMS]) \
        if hasattr(BadInput, "of") else BadInput(PROBLEMS[0]["message"], errors=[
            dict(p, file=path.name) for p in PROBLEMS])

    def call(self, service, method, *args, **kwargs):
        raise RemoteError("BadInput", str(error))
    monkeypatch.setattr(Cluster, "call", call)
    monkeypatch.setenv("PINGGU_OPERATOR", "city-140100")
    return str(path)


def test_every_error_of_a_file_at_once_in_chinese(refused_file, capsys, monkeypatch):
    monkeypatch.delenv("PINGGU_LANG", raising=False)
    assert cli.main(["submit", "self-assessment", refused_file]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert "共 4 处错误" in lines[0] and "sa-140100.xlsx" in lines[0]
    assert len(lines) == 5
    for line, problem in zip(lines[1:], PROBLEMS):
        assert problem["message_zh"] in line and f"第 {problem['row']} 行" in line
        assert f"工作表「{problem['sheet']}」" in line and f"列「{problem['column']}」" in line
        assert problem["rule"] in line and problem["message"] not in line


def test_every_error_of_a_file_at_once_in_english(refused_file, capsys):
    assert cli.main(["submit", "self-assessment", refused_file, "--lang", "en"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert "4 error(s)" in lines[0] and len(lines) == 5
    for line, problem in zip(lines[1:], PROBLEMS):
        assert f"sheet {problem['sheet']}, row {problem['row']}, column " \
               f"{problem['column']}: {problem['message']}" in line


def test_every_error_of_a_file_as_json_objects(refused_file, capsys):
    assert cli.main(["--json", "submit", "self-assessment", refused_file]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    error = json.loads(captured.err)
    assert error["error"] == "bad_input" and error["exit"] == 2
    assert [{k: e[k] for k in PROBLEMS[0]} for e in error["errors"]] == PROBLEMS
    assert all(e["file"] == "sa-140100.xlsx" for e in error["errors"])


def test_a_refusal_under_json(monkeypatch, capsys):
    def call(self, service, method, *args, **kwargs):
        raise RemoteError("Refused", str(Refused("属地管理", "140200 is not yours")))
    monkeypatch.setattr(Cluster, "call", call)
    assert cli.main(["--operator", "city-140100", "clock", "show", "--json"]) == 2
    error = json.loads(capsys.readouterr().err)
    assert error == {"error": "refused", "exit": 2, "rule": "属地管理",
                     "message": error["message"]}
    assert "140200 is not yours" in error["message"]


def test_a_missing_file_is_named(capsys, tmp_path):
    missing = str(tmp_path / "nowhere.xlsx")
    assert cli.main(["--operator", "x", "submit", "findings", missing]) == 2
    assert capsys.readouterr().err.strip() == f"pinggu: {missing}：文件不存在"


@pytest.mark.parametrize("remote", [False, True])
def test_a_database_that_is_down_is_one_line_and_exit_3(monkeypatch, capsys, remote):
    def call(self, service, method, *args, **kwargs):
        if remote:
            raise RemoteError("OperationalError", "connection to server failed")
        raise psycopg2.OperationalError("connection to server at \"127.0.0.1\", port 5999 "
                                        "failed: Connection refused\n\tIs the server running")
    monkeypatch.setattr(Cluster, "call", call)
    assert cli.main(["--operator", "x", "clock", "show", "--lang", "en"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("pinggu: cannot reach the database (PostgreSQL)")
    assert len(err.splitlines()) == 1


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(tmp_path, *argv, **env):
    environ = dict(os.environ, PINGGU_AMQP_URI=f"amqp://127.0.0.1:{_closed_port()}/",
                   PINGGU_CREDENTIALS=str(tmp_path), **env)
    environ.pop("PINGGU_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "services.cli", *argv], cwd=ROOT,
                          env=environ, capture_output=True, text=True, timeout=60)


def test_a_broker_that_is_down_is_one_line_and_exit_3(tmp_path):
    operators.write_credential(operators.credential_path(str(tmp_path), "province"),
                               "province", "province", "140000", tokens.new_private_key())
    result = _run(tmp_path, "clock", "show", "--operator", "province", PINGGU_LANG="zh")
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("pinggu: 无法连接消息服务 RabbitMQ（amqp://127.0.0.1:")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_broker_that_is_down_under_json(tmp_path):
    result = _run(tmp_path, "health", "--json", "--lang", "en")
    assert result.returncode == 3, result.stderr
    error = json.loads(result.stderr)
    assert error["error"] == "unavailable" and error["what"] == "broker"
    assert error["exit"] == 3 and "pinggu-dev" not in result.stderr  # no password shown


def test_a_database_that_cannot_be_reached_by_backup_is_one_line_and_exit_3(tmp_path):
    result = _run(tmp_path, "backup", "--out", str(tmp_path / "b.dump"), "--lang", "en",
                  PINGGU_PG_PORT=str(_closed_port()))
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("pinggu: cannot reach the database (PostgreSQL) at "
                                    "127.0.0.1:")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "b.dump").exists()


def test_a_service_that_is_not_running_is_named(monkeypatch, capsys):
    from nameko.exceptions import UnknownService

    def call(self, service, method, *args, **kwargs):
        raise UnknownService(service)
    monkeypatch.setattr(Cluster, "call", call)
    assert cli.main(["--operator", "x", "clock", "show", "--lang", "en"]) == 3
    assert capsys.readouterr().err == "pinggu: the service decisions is not running (the " \
                                      "broker has no queue for it)\n"
