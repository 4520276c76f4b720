"""Upstream events handled a batch at a time, in one transaction (issue 14).

The inbox hands a service every message waiting for it, up to PINGGU_INBOX_BATCH (500:
big enough that a file's events cross in a few batches, small enough that one transaction
stays short). Which of their positions were already processed is read in one query, the
cases they name are loaded in one query (shared.bulk), each message is handled in order as
it would be alone, and the events they caused are recorded in one transaction together
with a tracking row for every position. Exactly once holds as before: a position is
recorded in the same transaction as its effects, and a redelivered one is dropped by its
tracking row.

Within a batch, a message sees what the messages before it did: an aggregate changed by
one is what the next one loads (the batch keeps it), as if each had been committed alone.

A message the handler fails on is isolated: the messages before it are committed as a
batch, it is handled again alone (ServiceApplication.process_upstream, as before batches),
and the rest go on as a batch. If the batch's transaction fails (a concurrent writer of the
same aggregate), nothing of it is recorded and its messages are handled alone.
"""
import contextvars
import uuid

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, Recording, Tracking

from shared import log
from shared.bulk import load_many
from shared.integration import PoisonMessage, position_of

OK, POISON, FAILED = "ok", "poison", "failed"


class Processing(ProcessingEvent):
    """eventsourcing's ProcessingEvent, but an aggregate's events are collected without its
    two isinstance checks against runtime typing Protocols, which cost more than the rest
    of collecting (issue 14: twice for every upstream event)."""

    def collect_events(self, *objs, **kwargs):
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            else:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)

_current = contextvars.ContextVar("pinggu_upstream_batch", default=None)


def current(app):
    """The batch `app` is handling in this green thread, or None."""
    batch = _current.get()
    return batch if batch is not None and batch.app is app else None


class Batch:
    def __init__(self, app, envelopes):
        self.app = app
        self.processing = []
        self._changed = {}  # class -> {id: aggregate}, in the order they were first changed
        self._memo = {}
        self.tracked = app.tracked_positions(
            [(e["source"], position_of(e)) for e in envelopes])
        self.aggregates = load_many(app, _case_ids(envelopes))

    def get_or_none(self, aggregate_id, load):
        if aggregate_id not in self.aggregates:
            self.aggregates[aggregate_id] = load(aggregate_id)
        return self.aggregates[aggregate_id]

    def remembered(self, key, compute):
        """`compute()`, once per batch: what every message of a batch would read the same
        from the committed state (the decisions' current campaign)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def collected(self, cls):
        """The aggregates of class `cls` the batch has changed so far, in order."""
        return [a for kind, changed in self._changed.items() if issubclass(kind, cls)
                for a in changed.values()]

    def process(self, source, position, handle):
        """As ServiceApplication.process_upstream, but recorded when the batch commits."""
        if (source, position) in self.tracked:
            return False
        processing_event = Processing(Tracking(application_name=source,
                                               notification_id=position))
        handle(processing_event)
        self.tracked.add((source, position))
        self.processing.append(processing_event)
        self.aggregates.update(processing_event.aggregates)
        for aggregate in processing_event.aggregates.values():
            self._changed.setdefault(type(aggregate), {})[aggregate.id] = aggregate
        return True

    def commit(self):
        """Record every message's events and tracking in one transaction; the recordings."""
        if not self.processing:
            return []
        app, recorder = self.app, self.app.recorder
        events = [e for p in self.processing for e in p.events]
        stored = [app.mapper.to_stored_event(e) for e in events]
        with recorder.datastore.get_connection() as conn:
            recorder._prepare_insert_events(conn)
            with conn.transaction(commit=True) as cur:
                ids = recorder._insert_events(cur, stored) if stored else []
                trackings = [(p.tracking.application_name, p.tracking.notification_id)
                             for p in self.processing]
                values = ", ".join(["(%s, %s)"] * len(trackings))
                cur.execute(f"INSERT INTO {recorder.tracking_table_name} VALUES {values}",
                            [v for pair in trackings for v in pair])
        return [Recording(event, Notification(
                    originator_id=s.originator_id, originator_version=s.originator_version,
                    topic=s.topic, state=s.state, id=notification_id))
                for event, s, notification_id in zip(events, stored, ids)]


def handle(app, envelopes, handler):
    """Handle `envelopes` with `handler(envelope)` (which ends in app.process_upstream);
    one outcome per envelope: OK (done, or a redelivery), (POISON, error) (never
    processable: dead letter) or (FAILED, error) (try again later)."""
    outcomes = []
    while envelopes:
        if len(envelopes) == 1 or not hasattr(app.recorder, "datastore"):
            outcomes += [_handle_alone(handler, envelope) for envelope in envelopes]
            break
        try:
            handled = _handle_together(app, envelopes, handler)
        except Exception as exc:
            # The transaction failed (a concurrent writer): nothing of it was recorded.
            log.get("inbox").warning("inbox.batch_alone", service=app.schema,
                                     messages=len(envelopes), reason=repr(exc)[:300])
            outcomes += [_handle_alone(handler, envelope) for envelope in envelopes]
            break
        outcomes += [OK] * handled
        if handled < len(envelopes):
            # The message that failed in the batch is tried alone, then the rest go on.
            outcomes.append(_handle_alone(handler, envelopes[handled]))
        envelopes = envelopes[handled + 1:]
    return outcomes


def _handle_together(app, envelopes, handler):
    """How many of `envelopes`, from the first, were handled and committed together: all
    of them, or those before the first one the handler failed on."""
    batch = Batch(app, envelopes)
    token = _current.set(batch)
    handled = len(envelopes)
    try:
        for k, envelope in enumerate(envelopes):
            done = len(batch.processing)
            try:
                handler(envelope)
            except Exception:
                handled = k
                del batch.processing[done:]
                break
        recordings = batch.commit()
    finally:
        _current.reset(token)
    app._notify(recordings)
    return handled


def _handle_alone(handler, envelope):
    try:
        handler(envelope)
        return OK
    except PoisonMessage as exc:
        return (POISON, exc)
    except Exception as exc:
        return (FAILED, exc)


def _case_ids(envelopes):
    """The cases the messages are about: a case has one id in every service
    (shared.language.identifiers), which the upstream event carries as `caseid`."""
    ids = []
    for envelope in envelopes:
        try:
            ids.append(uuid.UUID(str(envelope.get("caseid"))))
        except ValueError:
            continue
    return ids
