"""The outbox: publish a service's committed events, in order, from its notification log.

The last published position is recorded after RabbitMQ confirms; a crash in between means
the same events are published again with the same ids, which consumers drop by position.
One instance publishes at a time: it holds a PostgreSQL advisory lock on a connection of
its own, so the lock goes with the process if the process dies, and reads what to publish
on that connection, which shows the lock is still held.

Events of one type travel as one message, a CloudEvents batch (issue 14: the broker routes,
stores and confirms a message, not an event, and that was most of what an event cost); an
event alone is one CloudEvent in structured mode, as before. A batch keeps its routing key,
so every consumer still receives exactly the types it is bound to; each case's events go
out in their order (see `batches`), which is the order consumers rely on (events.md).
All the messages of a round are sent before waiting for the broker: the channel is in
confirm mode and the position is recorded once every message is confirmed. A nack or a
lost connection fails the whole round, which is sent again from the recorded position
(perhaps cut into other batches: consumers drop what they had by position).
"""
import uuid
import zlib

import psycopg2
from amqp import spec
from eventsourcing.persistence import Notification
from kombu import Connection, Producer

from shared import bus, db, integration, log

BATCH = 500
CONFIRM_TIMEOUT = 10


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class Nacked(Exception):
    """The broker refused a message of the batch (nack)."""


class Outbox:
    def __init__(self, app, config):
        self.app = app
        self.config = config
        self.service = app.schema
        self.lock_key = zlib.crc32(f"pinggu.outbox.{self.service}".encode())
        self.log = log.get("outbox").bind(service=self.service)
        self._lock_conn = None
        self._amqp = None
        self._producer = None
        self._held = False
        # Only the holder of the lock writes the position: it keeps it in memory.
        self._position = None

    # -- position --------------------------------------------------------------------
    def _ensure_table(self, cur):
        db.creating_tables(cur, self.service)
        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.service}.outbox_position ("
                    "name text PRIMARY KEY, position bigint NOT NULL)")

    def position(self):
        if self._position is not None and self._held:
            return self._position
        with self.app.recorder.datastore.transaction(commit=True) as cur:
            if not getattr(self, "_table_ready", False):
                self._ensure_table(cur)
                self._table_ready = True
            cur.execute(f"SELECT position FROM {self.service}.outbox_position WHERE name='bus'")
            row = cur.fetchone()
            position = row["position"] if row else 0
            if self._held:
                self._position = position
            return position

    def _record_position(self, position):
        with self.app.recorder.datastore.transaction(commit=True) as cur:
            cur.execute(f"INSERT INTO {self.service}.outbox_position (name, position) "
                        "VALUES ('bus', %s) ON CONFLICT (name) DO UPDATE SET position = "
                        "GREATEST(outbox_position.position, EXCLUDED.position)", (position,))
        self._position = position if self._held else None

    # -- leadership ------------------------------------------------------------------
    @property
    def leading(self):
        """Whether this instance held the lock when it last looked (no round trip)."""
        return self._held

    def is_leader(self):
        """Take, or confirm we still hold, the advisory lock."""
        try:
            if self._lock_conn is None or self._lock_conn.closed:
                self._lock_conn = psycopg2.connect(self.config.dsn(role=self.service))
                self._lock_conn.autocommit = True
                self._held = False
            with self._lock_conn.cursor() as cur:
                if self._held:
                    cur.execute("SELECT 1")
                    return True
                cur.execute("SELECT pg_try_advisory_lock(%s)", (self.lock_key,))
                self._held = cur.fetchone()[0]
                self._position = None  # read it again as the new leader
                if self._held:
                    self.log.info("outbox.leader")
                return self._held
        except psycopg2.Error:
            self._drop_lock_connection()
            return False

    def _drop_lock_connection(self):
        if self._lock_conn is not None:
            try:
                self._lock_conn.close()
            except psycopg2.Error:
                pass
        self._lock_conn = None
        self._held = False
        self._position = None

    # -- publishing ------------------------------------------------------------------
    def _connect(self):
        if self._producer is None:
            # As the service's own broker user, which may publish only its own routing
            # keys; every message names that user (user_id), which the broker checks.
            self._amqp = Connection(self.config.amqp_uri_for(self.service))
            channel = self._amqp.channel()
            bus.declare_exchange(self._amqp, self.config)
            channel.confirm_select()
            self._sent = self._confirmed = 0  # delivery tags count from 1 per channel
            self._nacked = False
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self._channel = channel
            self._producer = Producer(channel, exchange=bus.events_exchange(self.config))
        return self._producer

    def _on_ack(self, delivery_tag, multiple):
        # Confirms arrive in order on one channel, but may be `multiple`: highest wins.
        self._confirmed = max(self._confirmed, delivery_tag)

    def _on_nack(self, delivery_tag, multiple):
        self._nacked = True
        self._confirmed = max(self._confirmed, delivery_tag)

    def _wait_for_confirms(self):
        while self._confirmed < self._sent:
            self._channel.wait([spec.Basic.Ack, spec.Basic.Nack], timeout=CONFIRM_TIMEOUT)
        if self._nacked:
            raise Nacked(f"the broker refused a message of the batch up to #{self._sent}")

    def close_amqp(self):
        if self._amqp is not None:
            try:
                self._amqp.release()
            except Exception:
                pass  # already broken: nothing more to release
        self._amqp = self._producer = None

    def close(self):
        self.close_amqp()
        self._drop_lock_connection()

    def pending(self):
        """What was committed after the recorded position, up to BATCH notifications.

        The leader reads them on the connection that holds its lock: a query answered
        there shows that the session, and so the lock, is still held, which spares each
        round a check of its own before publishing (issue 14: one round trip less for
        every event at rest)."""
        start = self.position() + 1
        if not self._held:
            return self.app.recorder.select_notifications(start, BATCH)
        with self._lock_conn.cursor() as cur:
            cur.execute("SELECT notification_id, originator_id, originator_version, topic, "
                        f"state FROM {self.app.recorder.events_table_name} "
                        "WHERE notification_id >= %s ORDER BY notification_id LIMIT %s",
                        (start, BATCH))
            return [Notification(id=id_, originator_id=_uuid(originator_id),
                                 originator_version=version, topic=topic, state=bytes(state))
                    for id_, originator_id, version, topic, state in cur.fetchall()]

    def publish(self, notifications):
        """Send the notifications' events, a message per batch of one type; returns once
        the broker has confirmed them all."""
        producer = self._connect()
        try:
            for run in self._batches(notifications):
                if len(run) == 1:
                    (event_id, kind, text), = run
                    self._send(producer, text, kind, integration.CONTENT_TYPE, event_id)
                else:
                    self._send(producer, integration.batch_body([text for _, _, text in run]),
                               run[0][1], integration.BATCH_CONTENT_TYPE,
                               f"{run[0][0]}+{len(run) - 1}")
            self._wait_for_confirms()
        except Exception:
            self.close_amqp()
            raise

    def _batches(self, notifications):
        """The published events, (id, type, JSON text) each, as batches (see `batches`)."""
        events = []
        for notification in notifications:
            domain_event = self.app.decoded(notification)
            cls = type(domain_event)
            if not getattr(cls, "published", True):
                continue  # the service's private state (a password's hash, sign-ins)
            message = integration.cloudevent_message(self.service, notification.id,
                                                     domain_event)
            events.append((message[1], domain_event.originator_id,
                           getattr(cls, "case_ordered", False), message))
        return batches(events)

    def _send(self, producer, body, kind, content_type, message_id):
        producer.publish(
            body,
            routing_key=integration.routing_key_of(kind),
            content_type=content_type,
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=message_id,
            type=kind,
            user_id=self.config.account(self.service),
            # No retry here: a reconnection would renumber the delivery tags. While the
            # broker is away the follow loop backs off and sends the round again, instead
            # of hanging here.
            retry=False, timeout=CONFIRM_TIMEOUT,
        )
        self._sent += 1

    def publish_pending(self):
        """Publish what was committed since the recorded position; returns how many."""
        # Held: pending() itself confirms it, on the lock's connection.
        if not self._held and not self.is_leader():
            return 0
        try:
            notifications = self.pending()
        except psycopg2.Error:
            # The lock's connection is gone, and the lock with it: take it again first.
            self._drop_lock_connection()
            return 0
        if not notifications:
            return 0
        self.publish(notifications)
        self._record_position(notifications[-1].id)
        return len(notifications)


def batches(events):
    """`events` (type, case, case-ordered, item), in the log's order, as batches of one
    type, at most BATCH_EVENTS each, in the order they go out: lists of the items.

    A case's event (aggregate.ordered_per_case) joins the open batch of its type if that
    batch comes after the case's previous event, so a file's events of two kinds,
    interleaved case by case in the log, go as two batches, each case's in order. Any
    other event keeps its place: it joins the last batch only if that is of its type,
    else starts one, and no later event joins a batch before it."""
    out, open_of, last_of, floor = [], {}, {}, 0
    for kind, case, case_ordered, item in events:
        k = open_of.get(kind)
        if k is not None:
            joins = (k >= floor and k >= last_of.get(case, 0)) if case_ordered \
                else k == len(out) - 1
            if not joins or len(out[k]) == integration.BATCH_EVENTS:
                k = None
        if k is None:
            k = len(out)
            out.append([])
            open_of[kind] = k
        out[k].append(item)
        last_of[case] = k
        if not case_ordered:
            floor = k
    return out

