"""The outbox: publish a service's committed events, in order, from its notification log.

The last published position is recorded after RabbitMQ confirms; a crash in between means
the same events are published again with the same ids, which consumers drop by position.
One instance publishes at a time: it holds a PostgreSQL advisory lock on a connection of
its own, so the lock goes with the process if the process dies.
"""
import zlib

import psycopg2
from kombu import Connection, Producer

from shared import bus, integration, log

BATCH = 200


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

    # -- position --------------------------------------------------------------------
    def _ensure_table(self, cur):
        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.service}.outbox_position ("
                    "name text PRIMARY KEY, position bigint NOT NULL)")

    def position(self):
        with self.app.recorder.datastore.transaction(commit=True) as cur:
            if not getattr(self, "_table_ready", False):
                self._ensure_table(cur)
                self._table_ready = True
            cur.execute(f"SELECT position FROM {self.service}.outbox_position WHERE name='bus'")
            row = cur.fetchone()
            return row["position"] if row else 0

    def _record_position(self, position):
        with self.app.recorder.datastore.transaction(commit=True) as cur:
            cur.execute(f"INSERT INTO {self.service}.outbox_position (name, position) "
                        "VALUES ('bus', %s) ON CONFLICT (name) DO UPDATE SET position = "
                        "GREATEST(outbox_position.position, EXCLUDED.position)", (position,))

    # -- leadership ------------------------------------------------------------------
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

    # -- publishing ------------------------------------------------------------------
    def _connect(self):
        if self._producer is None:
            # As the service's own broker user, which may publish only its own routing
            # keys; every message names that user (user_id), which the broker checks.
            self._amqp = Connection(self.config.amqp_uri_for(self.service),
                                    transport_options={"confirm_publish": True})
            channel = self._amqp.channel()
            bus.declare_exchange(self._amqp, self.config)
            self._producer = Producer(channel, exchange=bus.events_exchange(self.config))
        return self._producer

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
        return self.app.recorder.select_notifications(self.position() + 1, BATCH)

    def publish(self, notifications):
        """Send the notifications' events; returns once the broker has confirmed each."""
        producer = self._connect()
        try:
            for notification in notifications:
                domain_event = self.app.mapper.to_domain_event(notification)
                envelope = integration.to_cloudevent(self.service, notification.id, domain_event)
                name = integration.event_name(domain_event)
                # With confirm_publish the call returns only once the broker has the message.
                producer.publish(
                    integration.dumps(envelope),
                    routing_key=integration.routing_key(self.service, name),
                    content_type="application/cloudevents+json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=envelope["id"],
                    type=envelope["type"],
                    user_id=self.config.account(self.service),
                    # Bounded: while the broker is away the follow loop backs off and
                    # tries again, instead of hanging here.
                    retry=True,
                    retry_policy={"max_retries": 3, "interval_start": 0.5,
                                  "interval_step": 1, "interval_max": 3},
                    timeout=10, confirm_timeout=10,
                )
        except Exception:
            self.close_amqp()
            raise

    def publish_pending(self):
        """Publish what was committed since the recorded position; returns how many."""
        if not self.is_leader():
            return 0
        notifications = self.pending()
        if not notifications:
            return 0
        self.publish(notifications)
        self._record_position(notifications[-1].id)
        return len(notifications)
