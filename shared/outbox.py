"""The outbox: publish a service's committed events, in order, from its notification log.

The last published position is recorded after RabbitMQ confirms; a crash in between means
the same events are published again with the same ids, which consumers drop by position.
One instance publishes at a time: it holds a PostgreSQL advisory lock on a connection of
its own, so the lock goes with the process if the process dies, and reads what to publish
on that connection, which shows the lock is still held.

Each event is still one AMQP message (one CloudEvent in structured mode), but a batch is
sent before waiting for the broker: the channel is in confirm mode and the position is
recorded once every message of the batch is confirmed (issue 14: one confirm round trip
per batch instead of one per event). A nack or a lost connection fails the whole batch,
which is sent again from the recorded position.
"""
import uuid
import zlib

import psycopg2
from amqp import spec
from eventsourcing.persistence import Notification
from kombu import Connection, Producer

from shared import bus, integration, log

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
        """Send the notifications' events, one message each; returns once the broker has
        confirmed them all."""
        producer = self._connect()
        try:
            for notification in notifications:
                domain_event = self.app.mapper.to_domain_event(notification)
                if not getattr(type(domain_event), "published", True):
                    continue  # the service's private state (a password's hash, sign-ins)
                event_id, kind, body = integration.cloudevent_message(
                    self.service, notification.id, domain_event)
                name = integration.event_name(domain_event)
                producer.publish(
                    body,
                    routing_key=integration.routing_key(self.service, name),
                    content_type="application/cloudevents+json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=event_id,
                    type=kind,
                    user_id=self.config.account(self.service),
                    # No retry here: a reconnection would renumber the delivery tags.
                    # While the broker is away the follow loop backs off and sends the
                    # batch again, instead of hanging here.
                    retry=False, timeout=CONFIRM_TIMEOUT,
                )
                self._sent += 1
            self._wait_for_confirms()
        except Exception:
            self.close_amqp()
            raise

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
