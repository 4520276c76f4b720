"""A process that runs many commands (the demo) keeps its RPC clients between them
(issue 14): one per operator and thread, each command with its own idempotency key; a
client an error interrupted is dropped. And settle asks the four services at once."""
import sys
import threading

import pytest
from nameko.exceptions import RemoteError

from services import cli
from services.cli import client
from services.cli.client import Cluster, Session

main_module = sys.modules["services.cli.main"]


@pytest.fixture
def calls(monkeypatch):
    """The RPC calls made: (the client, its command id, service, method)."""
    made = []

    def call(self, service, method, *args, **kwargs):
        made.append((self, self.command_id, service, method))
        if method == "set_clock":
            raise RemoteError("Refused", "no")
        return {"today": "2023-09-01"}
    monkeypatch.setattr(Cluster, "call", call)
    return made


def test_one_client_per_operator_and_thread_a_command_id_per_command(calls):
    with Session() as session:
        assert cli.main(["--operator", "province", "clock", "show"], session=session) == 0
        assert cli.main(["--operator", "province", "clock", "show", "--command-id", "c-2"],
                        session=session) == 0
        assert cli.main(["--operator", "center", "clock", "show"], session=session) == 0
        elsewhere = threading.Thread(target=cli.main, args=(
            ["--operator", "province", "clock", "show"],), kwargs={"session": session})
        elsewhere.start()
        elsewhere.join()
    (a, id_a, *_), (b, id_b, *_), (c, _, *_), (d, _, *_) = calls
    assert a is b and id_a != id_b and id_b == "c-2"
    assert c is not a and c.operator_id == "center"
    assert d is not a  # another thread, another client


def test_a_client_an_error_interrupted_is_not_reused(calls):
    with Session() as session:
        assert cli.main(["--operator", "province", "clock", "show"], session=session) == 0
        assert cli.main(["--operator", "province", "clock", "set", "2023-09-02",
                         "--no-settle"], session=session) != 0
        assert cli.main(["--operator", "province", "clock", "show"], session=session) == 0
    first, failed, after = (made[0] for made in calls)
    assert first is failed and after is not first


def test_without_a_session_each_command_has_its_own_client(calls):
    cli.main(["--operator", "province", "clock", "show"])
    cli.main(["--operator", "province", "clock", "show"])
    assert calls[0][0] is not calls[1][0]


def test_the_grammar_is_built_once_for_the_same_environment(monkeypatch):
    monkeypatch.setenv("PINGGU_LANG", "en")
    first = main_module.parser()
    assert main_module.parser() is first
    assert first.parse_args(["clock", "show"]).lang == "en"
    monkeypatch.setenv("PINGGU_LANG", "zh")  # a default from the environment follows it
    assert main_module.parser().parse_args(["clock", "show"]).lang == "zh"


class _Reply:
    def __init__(self, log, service, state):
        self.log, self.service, self.state = log, service, state

    def result(self):
        self.log.append(("answered", self.service))
        return self.state


class _Services:
    """settled() of each service, answering from a script of states, logging when each
    is asked and answered."""

    def __init__(self, busy_rounds):
        self.log, self.rounds = [], 0
        self.busy_rounds = busy_rounds

    def __getattr__(self, service):
        services = self

        class Method:
            def call_async(self):
                services.log.append(("asked", service))
                if service == client.SERVICES[0]:
                    services.rounds += 1
                busy = services.rounds <= services.busy_rounds
                return _Reply(services.log, service, {"unpublished": int(busy)})

        class Proxy:
            settled = Method()
        return Proxy()


class _Cluster:
    def __init__(self, busy_rounds):
        self.rpc = _Services(busy_rounds)


def test_settle_asks_the_four_at_once_and_wants_two_quiet_rounds_in_a_row():
    cluster = _Cluster(busy_rounds=2)
    client.settle(cluster, timeout=10)
    log = cluster.rpc.log
    assert cluster.rpc.rounds == 4  # two busy, then two quiet
    first_round = log[:8]
    assert [kind for kind, _ in first_round] == ["asked"] * 4 + ["answered"] * 4
    assert {s for _, s in first_round} == set(client.SERVICES)
