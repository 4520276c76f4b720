"""Every operator command takes effect once (issue 11): its idempotency key is journaled.

The CLI makes a key per invocation (or takes `--command-id`); it is the token's `jti`. A
service records the key, with the digest of the arguments and the command's result, in a
journal aggregate saved in the SAME `Application.save` as the events the command writes.
So a redelivered RPC, a retried CLI call or a replayed token finds the journal and gets
the first result back with nothing written; the same key with other arguments is refused;
and of two concurrent duplicates the one that loses the race on save finds the journal
when it retries, like any other repeat.
"""
import contextlib
import contextvars
import json
import uuid

from eventsourcing.domain import event

from shared import log
from shared.aggregate import CaseAggregate
from shared.errors import Refused

JOURNAL_NAMESPACE = uuid.UUID("6f1f2a5e-2023-4223-9a1e-0000000c0de1")

_command = contextvars.ContextVar("pinggu_command", default=None)


def journal_id(command_id):
    return uuid.uuid5(JOURNAL_NAMESPACE, str(command_id))


class CommandJournal(CaseAggregate):
    """One command that wrote to this store: what it was called with and what it gave."""

    @staticmethod
    def create_id(command_id, **_):
        return journal_id(command_id)

    @event("Recorded")
    def __init__(self, command_id: str, method: str, digest: str, result: str):
        self.command_id = command_id
        self.method = method
        self.digest = digest
        self.result = result  # JSON text: any result the RPC could return


@contextlib.contextmanager
def bound(command_id, method, digest):
    """The command the current RPC runs (bound by shared.service.Acting)."""
    token = _command.set({"command_id": command_id, "method": method, "digest": digest,
                          "journaled": False})
    try:
        yield
    finally:
        _command.reset(token)


def current():
    """The command to journal, or None: no command bound (a reaction to an event, a
    read-only call), or its journal already written by an earlier save of this RPC."""
    command = _command.get()
    return None if command is None or command["journaled"] else command


def first_result(app, command):
    """The result of this command's first run, or None if it has not run yet; Refused if
    the key was used for another method or other arguments."""
    journal = app.get_or_none(journal_id(command["command_id"]))
    if journal is None:
        return None
    if journal.method != command["method"] or journal.digest != command["digest"]:
        log.get("commands").warning("command.refused", rule="idempotency",
                                    command_id=command["command_id"],
                                    first_method=journal.method, method=command["method"])
        raise Refused("idempotency", f"command id {command['command_id']} was already used "
                                     f"for {journal.method} with other arguments")
    log.get("commands").info("command.repeated", command_id=command["command_id"],
                             method=command["method"])
    return {"result": json.loads(journal.result)}


def journal(command, result):
    """The journal aggregate to save with the command's events."""
    from shared.integration import dumps
    return CommandJournal(command_id=command["command_id"], method=command["method"],
                          digest=command["digest"], result=dumps(result))


def done(command):
    """The command's journal is saved: later saves of the same RPC are not journaled again."""
    command["journaled"] = True
