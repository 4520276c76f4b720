"""nameko glue: the event-store dependency (with its outbox and projections running beside
the service) and the exactly-once inbox entrypoint. The domain knows nothing of this."""
import threading
import time

import eventlet
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer, QueueConsumer

from shared import bus, config as config_module, integration, log

# A commit in any instance wakes the follow loop (shared/wakeup.py); this is how long it
# waits for one before looking anyway, in case a notification was lost.
IDLE_SLEEP = 0.5
# Inbox messages being handled in this process (one service per process), for `settled`.
IN_FLIGHT = {"count": 0}
TICK_INTERVAL = 1.0


class EventStore(DependencyProvider):
    """Builds the service's application once per process and keeps its followers running:
    the outbox (publishes committed events) and the projections (fill the read tables)."""

    def __init__(self, app_factory, projections=(), tick=None):
        self.app_factory = app_factory
        self.projection_classes = projections
        # Periodic work of the service itself (decisions' deadline sweep), given the
        # application and the business date.
        self.tick = tick

    def setup(self):
        self.config = config_module.load()
        self.app = self.app_factory(self.config)
        self.projections = self.app.attach_projections(self.projection_classes)
        from shared.group_commit import GroupCommit
        self.app.group_commit = GroupCommit(self.app)
        self.app.settled = self.settled
        from shared.outbox import Outbox
        self.outbox = Outbox(self.app, self.config)
        from shared.clock import Clock
        self.clock = Clock(self.config)
        self.running = True
        self.stopped = threading.Event()  # green under eventlet
        self.woken = threading.Event()
        from shared.wakeup import Wakeup
        self.wakeup = Wakeup(self.config, self.app.schema, self.woken)
        self.app.commit_listeners.append(self.wakeup.on_commit)
        self.log = log.get("eventstore").bind(service=self.app.schema)

    def start(self):
        self.container.spawn_managed_thread(self._follow, identifier="eventstore.follow")
        self.wakeup.start(self.container.spawn_managed_thread)

    def stop(self):
        """Let the follow loop finish its round before closing what it uses; the pools
        are left to the process's exit (closing a connection under a greenthread that is
        still using it could hang the stop)."""
        self.running = False
        self.wakeup.stop()
        self.stopped.wait(timeout=5)
        self.outbox.close()

    def kill(self):
        self.running = False
        self.wakeup.stop()

    def _follow(self):
        try:
            self._follow_until_stopped()
        finally:
            self.stopped.set()

    def _follow_until_stopped(self):
        failures = 0
        last_tick = 0.0
        while self.running:
            # Cleared before the round: a commit during it makes the next wait return at once.
            self.woken.clear()
            try:
                busy = sum(p.catch_up() for p in self.projections)
                if self.tick is not None and time.monotonic() - last_tick >= TICK_INTERVAL:
                    last_tick = time.monotonic()
                    busy += self.tick(self.app, self.clock.today())
                busy += self.outbox.publish_pending()
                failures = 0
            except Exception:
                failures += 1
                self.log.exception("eventstore.follow_failed", failures=failures)
                self.outbox.close()
                eventlet.sleep(min(5.0, 0.2 * 2 ** failures))
                continue
            if not busy:
                self.woken.wait(IDLE_SLEEP)

    def settled(self):
        """How much this service still has to do: events not yet published or projected,
        inbox messages waiting or being handled."""
        from kombu import Connection
        head = self.app.recorder.max_notification_id()
        with Connection(self.config.amqp_uri_for(self.app.schema)) as connection:
            inbox = bus.inbox_queue(self.config, self.app.schema, [])
            try:
                waiting = inbox(connection.channel()).queue_declare(passive=True).message_count
            except Exception:  # no inbox declared (yet)
                waiting = 0
        return {"unpublished": head - self.outbox.position(),
                "unprojected": sum(head - p.position() for p in self.projections),
                "inbox_waiting": waiting, "in_flight": IN_FLIGHT["count"]}

    def get_dependency(self, worker_ctx):
        return self.app

    def worker_setup(self, worker_ctx):
        import structlog
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            service=self.container.service_name, call_id=worker_ctx.call_id)


class DeadLetteringQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but a message kombu cannot decode is dead-lettered
    instead of raising inside the consumer loop."""

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for consumer in consumers:
            consumer.on_decode_error = self._dead_letter_undecodable
        return consumers

    def _dead_letter_undecodable(self, message, exc):
        log.get("inbox").error("inbox.undecodable", error=str(exc))
        message.reject(requeue=False)


class Inbox(Consumer):
    """Consumes integration events from the service's quorum inbox.

    Failures are requeued; RabbitMQ counts deliveries and dead-letters the message after
    bus.DELIVERY_LIMIT attempts. A message that can never succeed (malformed) is
    dead-lettered at once. The handler itself must be idempotent by upstream position
    (ServiceApplication.process_upstream), since any message may be delivered again.
    """

    queue_consumer = DeadLetteringQueueConsumer()

    def __init__(self, service, **kwargs):
        self.service = service
        super().__init__(queue=None, requeue_on_error=True, **kwargs)

    def setup(self):
        from kombu import Connection
        config = config_module.load()
        self.config = config
        with Connection(config.amqp_uri_for(self.service)) as connection:
            bus.declare_topology(connection, config)
        self.queue = bus.inbox_queue(config, self.service, bus.INBOXES[self.service])
        super().setup()

    def handle_message(self, body, message):
        try:
            if isinstance(body, dict) and "__undecodable__" in body:
                raise integration.PoisonMessage("body is not JSON")
            envelope = integration.parse(body)
            routing_key = message.delivery_info.get("routing_key", "")
            integration.check_origin(envelope, routing_key)
            integration.check_publisher(envelope, routing_key,
                                        message.properties.get("user_id"), self.config)
        except integration.PoisonMessage as exc:
            log.get("inbox").error("inbox.poison_message", service=self.service,
                                   reason=str(exc), message_id=message.properties.get("message_id"),
                                   publisher=message.properties.get("user_id"))
            message.reject(requeue=False)
            return
        message.envelope = envelope
        IN_FLIGHT["count"] += 1
        super().handle_message(envelope, message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        IN_FLIGHT["count"] -= 1
        if exc_info is not None and issubclass(exc_info[0], integration.PoisonMessage):
            # The handler found the message can never be processed: no retries.
            log.get("inbox").error("inbox.poison_message", service=self.service,
                                   type=message.envelope.get("type"),
                                   id=message.envelope.get("id"), reason=str(exc_info[1]))
            message.reject(requeue=False)
            return
        if exc_info is not None:
            deliveries = (message.headers or {}).get("x-delivery-count", 0)
            log.get("inbox").error(
                "inbox.handler_failed", service=self.service,
                type=message.envelope.get("type"), id=message.envelope.get("id"),
                deliveries=deliveries + 1, limit=bus.DELIVERY_LIMIT,
                error=repr(exc_info[1]))
            # Back off a little so a passing fault (database restart) can clear.
            eventlet.sleep(min(2.0, 0.1 * 2 ** deliveries))
        super().handle_message_processed(message, result, exc_info)


inbox = Inbox.decorator
