"""The wiring of one service's eventsourcing application onto PostgreSQL (or memory in tests).

Every service is a Follower in eventsourcing's sense: its recorder is a process recorder, so
an upstream event it reacts to is tracked in the same transaction as the events it writes.
"""
import base64
import collections
import contextlib
import contextvars
import datetime

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper, Tracking, Transcoding

from shared import batch, commands, db
from shared.errors import BadInput
from shared.language.identifiers import campaign_id, case_id  # noqa: F401 (re-exported)

# No event may come near RabbitMQ's 128 MB message limit: the outbox would retry such
# an integration event forever. Readers bound every text; this bounds what they miss.
MAX_EVENT_BYTES = 16 * 1024 * 1024

# How many events decoded from the log a process keeps (ServiceApplication.decoded).
DECODED_HELD = 5000

# The aggregates a journaled command saves, held until its result is known (run_command).
_collected = contextvars.ContextVar("pinggu_collected_saves", default=None)


class DateAsISO(Transcoding):
    type = datetime.date
    name = "date_iso"

    def encode(self, obj):
        return obj.isoformat()

    def decode(self, data):
        return datetime.date.fromisoformat(data)


class BytesAsBase64(Transcoding):
    type = bytes
    name = "bytes_b64"

    def encode(self, obj):
        return base64.b64encode(obj).decode()

    def decode(self, data):
        return base64.b64decode(data)


class BoundedMapper(Mapper):
    """Refuses, before it is committed, an event larger than MAX_EVENT_BYTES."""

    def to_stored_event(self, domain_event):
        stored = super().to_stored_event(domain_event)
        if len(stored.state) > MAX_EVENT_BYTES:
            raise BadInput(f"the event {type(domain_event).__qualname__} would be "
                           f"{len(stored.state)} bytes, more than the limit of "
                           f"{MAX_EVENT_BYTES}; nothing was recorded")
        return stored


class ConcurrentUpdate(Exception):
    """Retried writes kept meeting a concurrent writer of the same aggregate."""


class ServiceApplication(Application):
    """One service's event store. Subclasses set `name`, which is also its schema."""

    is_snapshotting_enabled = False
    MAX_ATTEMPTS = 10

    def __init__(self, config=None, env=None):
        if env is None:
            db.require_provisioned(config, self.schema)
            env = config.pg_env(self.schema, create_table=False)
        self.config = config
        # Called after each commit of new events (the followers wake on it: issue 14).
        self.commit_listeners = []
        self._decoded = collections.OrderedDict()  # position -> domain event (`decoded`)
        super().__init__(env)

    @property
    def schema(self):
        return self.name.lower()

    def construct_recorder(self):
        return self.factory.process_recorder()

    def construct_mapper(self):
        return self.factory.mapper(transcoder=self.construct_transcoder(),
                                   mapper_class=BoundedMapper)

    def register_transcodings(self, transcoder):
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(BytesAsBase64())

    def run_command(self, command):
        """Run `command()` (which loads, changes and saves aggregates) retrying on a conflict.

        Optimistic concurrency: another instance or greenthread may have written the same
        aggregate since we loaded it; reloading and trying again is always safe because
        the command saves nothing when it raises.

        An operator's command (shared.commands) runs once: its saves are held until it
        returns, then written in one transaction with its journal; a repeat of its key
        returns the first result, and a duplicate that loses the race on the journal
        finds it on the next attempt.
        """
        for _ in range(self.MAX_ATTEMPTS):
            command_run = commands.current()
            try:
                if command_run is None:
                    return command()
                first = commands.first_result(self, command_run)
                if first is not None:
                    return first["result"]
                with self._holding_saves() as held:
                    result = command()
                self.save(*held, commands.journal(command_run, result))
                commands.done(command_run)
                return result
            except IntegrityError:
                continue
        raise ConcurrentUpdate("gave up after repeated concurrent updates")

    @contextlib.contextmanager
    def _holding_saves(self):
        held = []
        token = _collected.set(held)
        try:
            yield held
        finally:
            _collected.reset(token)

    def save(self, *objs, **kwargs):
        held = _collected.get()
        if held is None:
            return super().save(*objs, **kwargs)
        # By identity, in a set: a roster file holds up to 20,000 aggregates (issue 14).
        seen = {id(h) for h in held}
        for o in objs:
            if o is not None and id(o) not in seen:
                held.append(o)
                seen.add(id(o))
        return []

    def process_upstream(self, source, position, handle):
        """Apply an upstream event exactly once: `handle(processing_event)` collects the
        new events, and they are recorded together with the upstream position.

        Returns False when that position was already processed (a redelivery). Inside a
        batch (shared.batch) it is recorded with the rest of the batch.

        A redelivery is rare: the position is not looked up before handling (one round
        trip less for every event, issue 14) but only once the tracking row's key refuses
        the commit, or the handler fails (on a state that already holds its effect).
        `handle` reads and collects (what it may record besides, a registry's refusal, is
        recorded once whatever the deliveries), so handling a redelivery changes nothing.
        """
        in_batch = batch.current(self)
        if in_batch is not None:
            return in_batch.process(source, position, handle)
        for _ in range(self.MAX_ATTEMPTS):
            processing_event = batch.Processing(Tracking(application_name=source,
                                                         notification_id=position))
            try:
                handle(processing_event)
            except Exception:
                if self.recorder.has_tracking_id(source, position):
                    return False
                raise
            try:
                recordings = self._record(processing_event)
            except IntegrityError:
                if self.recorder.has_tracking_id(source, position):
                    return False
                continue
            self._notify(recordings)
            return True
        raise ConcurrentUpdate(f"gave up on {source}#{position} after repeated conflicts")

    def tracked_positions(self, positions):
        """Which of these (source, position) pairs are already processed."""
        positions = set(positions)
        if not hasattr(self.recorder, "datastore"):  # the in-memory store of unit tests
            return {p for p in positions if self.recorder.has_tracking_id(*p)}
        found = set()
        with self.recorder.datastore.transaction(commit=False) as cur:
            for source in {s for s, _ in positions}:
                cur.execute(f"SELECT notification_id FROM {self.recorder.tracking_table_name} "
                            "WHERE application_name = %s AND notification_id = ANY(%s)",
                            (source, [p for s, p in positions if s == source]))
                found.update((source, row["notification_id"]) for row in cur.fetchall())
        return found

    def _notify(self, recordings):
        super()._notify(recordings)
        if recordings:
            for listener in self.commit_listeners:
                listener()

    def decoded(self, notification):
        """The domain event of a notification read from this service's log.

        The outbox and then the projections read the same new events, one after the other,
        and decoding one was a good part of what each paid for it (issue 14): the second
        takes the first one's decoding. Both still read the rows from the log; an event is
        kept here only as decoded from its row (never the object the service committed),
        and only if it is the same event (id and version), so whatever is taken from here
        is what decoding the row gives. Readers do not change events. The last
        DECODED_HELD are kept."""
        held = self._decoded
        event = held.get(notification.id)
        if event is None or event.originator_version != notification.originator_version \
                or event.originator_id != notification.originator_id:
            event = self.mapper.to_domain_event(notification)
            held[notification.id] = event
            if len(held) > DECODED_HELD:
                held.popitem(last=False)
        return event

    def attach_projections(self, classes):
        """Build the read tables of these projections and hold them by name, as the
        running service does (queries and replay verification find them there)."""
        projections = [cls(self) for cls in classes]
        for projection in projections:
            projection.create_tables()
        self.projections = {p.name: p for p in projections}
        return projections

    def case(self, uscc, as_of=None):
        """The case as this service holds it; with `as_of` (a date), as it stood then."""
        from shared import audit
        aggregate = audit.as_of(self, case_id(uscc), as_of) if as_of \
            else self.get_or_none(case_id(uscc))
        return None if aggregate is None else self.view(aggregate)

    def view(self, aggregate):
        return aggregate.to_dict()

    def get_or_none(self, aggregate_id):
        in_batch = batch.current(self)
        if in_batch is not None:
            return in_batch.get_or_none(aggregate_id, self._get_or_none)
        return self._get_or_none(aggregate_id)

    def _get_or_none(self, aggregate_id):
        from eventsourcing.application import AggregateNotFound
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFound:
            return None
