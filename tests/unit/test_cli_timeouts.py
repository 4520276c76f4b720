"""A command that gets no answer in time says so, with its command id and how to learn its
outcome, instead of an "internal" RpcTimeout (issue 14: the national benchmark's roster
import of ~17,000 rows waited past 120 s on a loaded machine while the import went on).
A file command waits longer than the others; PINGGU_RPC_TIMEOUT sets both."""
import json
import sys

import pytest
from nameko.exceptions import RpcTimeout

from services import cli
from services.cli import client
from services.cli.client import Cluster, NoAnswer, Session, rpc_timeout
from shared.config import ConfigError

main_module = sys.modules["services.cli.main"]


def test_a_file_command_waits_longer_and_the_environment_sets_both(monkeypatch):
    monkeypatch.delenv("PINGGU_RPC_TIMEOUT", raising=False)
    assert rpc_timeout() == client.RPC_TIMEOUT
    assert rpc_timeout(file_command=True) == client.FILE_COMMAND_TIMEOUT
    assert client.FILE_COMMAND_TIMEOUT > client.RPC_TIMEOUT
    monkeypatch.setenv("PINGGU_RPC_TIMEOUT", "30")
    assert rpc_timeout() == rpc_timeout(file_command=True) == 30
    monkeypatch.setenv("PINGGU_RPC_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="PINGGU_RPC_TIMEOUT"):
        rpc_timeout()


class _Proxy:
    """An RPC proxy whose every method times out."""

    def __getattr__(self, service):
        return self

    def __call__(self, *args, **kwargs):
        raise RpcTimeout(7)


def test_no_answer_names_the_service_the_wait_and_the_command_id(monkeypatch):
    c = Cluster(config=None, operator_id="province", timeout=7, command_id="import-9")
    monkeypatch.setattr(Cluster, "token", lambda self, *a, **k: "t")
    c._rpc = _Proxy()
    with pytest.raises(NoAnswer) as raised:
        c.call("registry", "import_roster", b"...")
    assert raised.value.to_dict() == {"service": "registry", "seconds": 7,
                                      "command_id": "import-9"}


@pytest.fixture
def timing_out(monkeypatch):
    """Every call times out; the timeout each client was made with is recorded."""
    made = []

    def call(self, service, method, *args, **kwargs):
        made.append(self.timeout)
        raise NoAnswer(service, self.timeout, self.command_id)
    monkeypatch.setattr(Cluster, "call", call)
    monkeypatch.delenv("PINGGU_RPC_TIMEOUT", raising=False)
    return made


def test_the_operator_is_told_to_run_it_again_with_the_same_command_id(
        timing_out, tmp_path, capsys):
    roster = tmp_path / "roster.xlsx"
    roster.write_bytes(b"PK")
    code = cli.main(["--operator", "province", "roster", "import", str(roster), "--json",
                     "--command-id", "import-9"])
    assert code == 3  # render.EXIT_UNAVAILABLE: nothing is known of the outcome yet
    body = json.loads(capsys.readouterr().err)
    assert body["error"] == "no_answer" and body["command_id"] == "import-9"
    assert body["service"] == "registry" and body["seconds"] == client.FILE_COMMAND_TIMEOUT
    assert "--command-id import-9" in body["message"]
    code = cli.main(["--operator", "province", "clock", "show", "--lang", "en"])
    assert code == 3
    err = capsys.readouterr().err
    assert f"within {client.RPC_TIMEOUT} s" in err and "--command-id " in err
    assert timing_out == [client.FILE_COMMAND_TIMEOUT, client.RPC_TIMEOUT]


def test_a_session_keeps_one_client_for_each_wait(monkeypatch, tmp_path):
    """The demo alternates file commands and others: neither reconnects the other's."""
    made = []

    def call(self, service, method, *args, **kwargs):
        made.append(self)
        return {"filed": 1, "changed": 0, "unchanged": 0, "today": "2023-09-01"}
    monkeypatch.setattr(Cluster, "call", call)
    roster = tmp_path / "roster.xlsx"
    roster.write_bytes(b"PK")
    with Session() as session:
        for argv in (["roster", "import", str(roster)], ["clock", "show"],
                     ["roster", "import", str(roster)], ["clock", "show"]):
            assert cli.main(["--operator", "province", *argv], session=session) == 0
    importing, showing, importing_again, showing_again = made
    assert importing is importing_again and showing is showing_again
    assert importing is not showing
    assert importing.timeout > showing.timeout
