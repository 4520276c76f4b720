"""Who and what caused an event: bound for the duration of a command, stamped on every event.

A context variable keeps the domain free of nameko: the service layer binds the cause of
the command it is running, and the aggregates read it when they trigger events.
"""
import contextlib
import contextvars

import structlog

_cause = contextvars.ContextVar("pinggu_cause", default=None)

SYSTEM = {"actor": "system", "role": "system"}


@contextlib.contextmanager
def caused_by(actor, role, *, causation_id=None, campaign=None, business_date=None,
              call_id=None, jurisdiction=None, command_id=None):
    cause = {
        "actor": actor,
        "role": role,
        "jurisdiction": jurisdiction,
        "causation_id": causation_id,
        "campaign": campaign,
        "business_date": business_date.isoformat() if business_date else None,
        "call_id": call_id,
        # The idempotency key of the operator's command (shared.commands), so a case's
        # history shows which command wrote what.
        "command_id": command_id,
    }
    token = _cause.set(cause)
    log_token = structlog.contextvars.bind_contextvars(
        actor=actor, call_id=call_id, causation_id=causation_id, command_id=command_id)
    try:
        yield cause
    finally:
        structlog.contextvars.reset_contextvars(**log_token)
        _cause.reset(token)


def current():
    cause = _cause.get()
    if cause is None:
        raise RuntimeError("an event was triggered outside caused_by(): every event needs its actor")
    return dict(cause)


@contextlib.contextmanager
def about_fact(key, upstream_version):
    """Mark the events written inside as applying version `upstream_version` of the
    upstream fact `key` (see CaseAggregate.is_newer)."""
    token = _cause.set({**current(), "fact": key, "upstream_version": upstream_version})
    try:
        yield
    finally:
        _cause.reset(token)
