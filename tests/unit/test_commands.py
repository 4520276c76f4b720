"""The command journal on the in-memory store: one effect per idempotency key."""
import pytest

from shared import commands
from shared.errors import Refused
from shared.metadata import caused_by
from services.registry.application import Registry
from tests import factories

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def registry():
    return Registry(env=MEMORY)


def events(app):
    return app.recorder.max_notification_id() or 0


def run(app, rows, command_id, digest="d-1", method="import_roster"):
    with caused_by("province", "province", command_id=command_id), \
            commands.bound(command_id, method, digest):
        return app.import_roster([r.to_dict() for r in rows])


ROWS = [factories.institution(1), factories.institution(2)]


def test_a_repeated_command_returns_the_first_result_and_writes_nothing(registry):
    first = run(registry, ROWS, "c-1")
    assert first == {"filed": 2, "changed": 0, "unchanged": 0}
    written = events(registry)
    assert run(registry, ROWS, "c-1") == first  # not {"unchanged": 2}: the same command
    assert events(registry) == written
    # A new command id is a new command.
    assert run(registry, ROWS, "c-2") == {"filed": 0, "changed": 0, "unchanged": 2}


def test_the_same_key_with_other_arguments_or_method_is_refused(registry):
    run(registry, ROWS, "c-1")
    written = events(registry)
    with pytest.raises(Refused, match="already used"):
        run(registry, ROWS[:1], "c-1", digest="d-other")
    with pytest.raises(Refused, match="already used"):
        run(registry, ROWS, "c-1", method="report_activity")
    assert events(registry) == written


def test_the_journal_is_saved_with_the_commands_events(registry):
    run(registry, ROWS, "c-1")
    stored = [registry.mapper.to_domain_event(n)
              for n in registry.recorder.select_notifications(1, 100)]
    assert [type(e).__qualname__ for e in stored] == \
        ["Institution.Filed", "Institution.Filed", "CommandJournal.Recorded"]
    # One transaction: the journal and the events are recorded together, and each event
    # names the command that wrote it.
    assert {e.meta["command_id"] for e in stored} == {"c-1"}
    journal = registry.repository.get(commands.journal_id("c-1"))
    assert (journal.method, journal.digest) == ("import_roster", "d-1")


def test_a_failed_command_journals_nothing(registry):
    bad = factories.institution(3).to_dict()
    with caused_by("province", "province"), commands.bound("c-9", "report_activity", "d"):
        with pytest.raises(Exception):
            registry._report([type("F", (), {"uscc": bad["uscc"]})()], lambda i, f: True,
                             "test")
    assert registry.get_or_none(commands.journal_id("c-9")) is None


def test_a_duplicate_that_loses_the_race_is_a_repeat(registry, monkeypatch):
    """Both ran before either saved: the loser's save conflicts on the journal, and its
    retry finds the winner's journal."""
    first = run(registry, ROWS, "c-1")
    written = events(registry)
    real = commands.first_result
    calls = []

    def not_yet_there(app, command):  # as seen before the winner committed
        calls.append(1)
        return None if len(calls) == 1 else real(app, command)
    monkeypatch.setattr(commands, "first_result", not_yet_there)
    assert run(registry, ROWS, "c-1") == first
    assert len(calls) == 2 and events(registry) == written


def test_without_a_command_nothing_is_journaled(registry):
    with caused_by("system", "system"):
        registry.import_roster([r.to_dict() for r in ROWS])
    assert events(registry) == 2
