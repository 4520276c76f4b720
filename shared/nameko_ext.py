"""nameko glue: the event-store dependency (with its outbox and projections running beside
the service) and the exactly-once inbox entrypoint, which hands over a batch at a time.
The domain knows nothing of this."""
import threading
import time

import select
import socket

import eventlet
import kombu
from eventlet.event import Event
from kombu import Connection
from nameko.extensions import DependencyProvider, Entrypoint

from shared import batch, bus, config as config_module, integration, log

# A commit in any instance wakes the follow loop (shared/wakeup.py); this is how long it
# waits for one before looking anyway, in case a notification was lost.
IDLE_SLEEP = 0.5
# Inbox messages being handled in this process (one service per process), for `settled`.
IN_FLIGHT = {"count": 0}
# Messages a consumer holds unacknowledged: a batch's worth of single events, or a bounded
# number of batches (integration.BATCH_EVENTS each).
PREFETCH = 200
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
        self.app.settled = self.settled
        from shared.outbox import Outbox
        self.outbox = Outbox(self.app, self.config)
        from shared.clock import Clock
        self.clock = Clock(self.config)
        self.running = True
        self.stopped = threading.Event()  # green under eventlet
        self.woken = threading.Event()
        from shared.wakeup import Wakeup
        self.wakeup = Wakeup(self.config, self.app.schema, self.woken,
                             leading=lambda: self.outbox.leading)
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
                # Publishing first: the other services wait on it, the read tables only
                # on this one. A broker away does not hold the read tables back.
                busy, unpublished = self._publish()
                self.wakeup.round_published()
                busy += sum(p.catch_up() for p in self.projections)
                if self.tick is not None and time.monotonic() - last_tick >= TICK_INTERVAL:
                    last_tick = time.monotonic()
                    busy += self.tick(self.app, self.clock.today())
                if unpublished is not None:
                    raise unpublished
                failures = 0
            except Exception:
                failures += 1
                self.log.exception("eventstore.follow_failed", failures=failures)
                self.outbox.close()
                eventlet.sleep(min(5.0, 0.2 * 2 ** failures))
                continue
            if not busy:
                self.woken.wait(IDLE_SLEEP)

    def _publish(self):
        """(events published, the error that stopped publishing or None)."""
        try:
            return self.outbox.publish_pending(), None
        except Exception as exc:
            return 0, exc

    def settled(self):
        """How much this service still has to do: events not yet published or projected,
        inbox messages waiting or being handled."""
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


class Inbox(Entrypoint):
    """Consumes integration events from the service's quorum inbox, a batch at a time.

    The events of every message waiting (a message carries one event or a CloudEvents
    batch of them) go to a worker PINGGU_INBOX_BATCH (500) at a time, and each such batch
    is handled in one transaction (shared.batch.handle); the service method is given the
    list of envelopes and returns one outcome per envelope. A message is acknowledged only
    after the effects of all its events are committed; if one of them failed, the whole
    message is requeued (what of it was done is dropped by position when it comes again).
    RabbitMQ counts deliveries and dead-letters a message that keeps failing after
    bus.DELIVERY_LIMIT attempts, whichever instance handled it. A message that can never
    succeed (malformed) is dead-lettered at once. Any message may come again (a
    redelivery after a crash between commit and acknowledgement):
    ServiceApplication.process_upstream drops it by its position.

    The consumer is a kombu consumer of its own, not nameko's per-message one, whose
    prefetch is its number of workers: a batch could never be bigger than that.
    """

    WAIT = 1.0  # how long the loop waits for a first message before looking at `running`
    # Once bytes of a frame are here, how long its rest may take to come. Not a wait for
    # more messages: the batch takes only what has arrived (a lone message used to wait
    # out a 1 ms drain before it was handled; issue 14, latency at rest).
    REST_OF_FRAME = 0.05

    def __init__(self, service, **kwargs):
        self.service = service
        super().__init__(**kwargs)

    def setup(self):
        config = config_module.load()
        self.config = config
        with Connection(config.amqp_uri_for(self.service)) as connection:
            bus.declare_topology(connection, config)
        self.queue = bus.inbox_queue(config, self.service, bus.INBOXES[self.service])
        self.batch_size = config.inbox_batch
        self.log = log.get("inbox").bind(service=self.service)
        self.running = False
        self.stopped = threading.Event()  # green under eventlet

    def start(self):
        self.running = True
        self.container.spawn_managed_thread(self._consume, identifier=f"inbox.{self.service}")

    def stop(self):
        self.running = False
        self.stopped.wait(timeout=10)  # the batch in hand is finished and acknowledged

    def kill(self):
        self.running = False

    def _consume(self):
        self.failures = 0  # in a row; back to 0 once a connection consumes again
        try:
            while self.running:
                try:
                    self._consume_until_stopped()
                except Exception as exc:  # the broker went away: connect again
                    self.failures += 1
                    self.log.warning("inbox.connection_lost", error=repr(exc)[:300],
                                     failures=self.failures)
                    eventlet.sleep(min(5.0, 0.2 * 2 ** self.failures))
        finally:
            self.stopped.set()

    def _consume_until_stopped(self):
        received = []  # (envelopes, message): a message carries one event or a batch
        # Events in `received`, kept as they come: summing them again after every frame
        # drained cost a batch of single events quadratic time (issue 14).
        waiting = {"events": 0}

        def on_message(body, message):
            # Counted from here until settled: `settled` must see a message already sent
            # to this process (unacknowledged, so not waiting in the queue) as work.
            IN_FLIGHT["count"] += 1
            checked = self._checked(body, message)
            received.append((checked, message))
            waiting["events"] += len(checked or ())
        try:
            with Connection(self.config.amqp_uri_for(self.service)) as connection:
                channel = connection.channel()
                consumer = kombu.Consumer(channel, queues=[self.queue], accept=bus.ACCEPT,
                                          prefetch_count=PREFETCH, callbacks=[on_message],
                                          on_decode_error=self._undecodable)
                with consumer:
                    self.failures = 0
                    while self.running:
                        if not received and not _drain(connection, self.WAIT):
                            continue
                        # Whatever else is already here joins the batch; none waits for more.
                        while waiting["events"] < self.batch_size and \
                                _ready(connection) and _drain(connection, self.REST_OF_FRAME):
                            pass
                        taken = _take(received, self.batch_size)
                        waiting["events"] -= _events(taken)
                        try:
                            self._handle(taken)
                        finally:
                            IN_FLIGHT["count"] -= len(taken)
        finally:
            # Not acknowledged: the broker gives them to a consumer again.
            IN_FLIGHT["count"] -= len(received)

    def _undecodable(self, message, exc):
        self.log.error("inbox.undecodable", error=str(exc))
        message.reject(requeue=False)

    def _handle(self, received):
        envelopes, owners = [], []  # owners[k]: the message envelopes[k] came in
        for checked, message in received:
            if checked is None:
                continue  # dead-lettered already
            envelopes += checked
            owners += [message] * len(checked)
        if not envelopes:
            return
        started = time.monotonic()
        # At most batch_size events a transaction, though a message may carry more.
        outcomes = []
        for k in range(0, len(envelopes), self.batch_size):
            outcomes += self._run_worker(envelopes[k:k + self.batch_size])
        failed, poisoned = {}, {}
        for envelope, message, outcome in zip(envelopes, owners, outcomes):
            if outcome == batch.OK:
                continue
            if outcome[0] == batch.POISON:
                # The handler found the event can never be processed: no retries.
                self.log.error("inbox.poison_message", type=envelope.get("type"),
                               id=envelope.get("id"), reason=str(outcome[1]))
                poisoned.setdefault(id(message), []).append((envelope, outcome[1]))
            else:
                failed.setdefault(id(message), (envelope, message, outcome[1]))
        retried = []
        for checked, message in received:
            if checked is None:
                continue
            poison = poisoned.get(id(message), [])
            if id(message) in failed:
                retried.append(failed[id(message)])
            elif poison and len(checked) == 1:
                message.reject(requeue=False)  # the broker dead-letters it, with x-death
            else:
                try:
                    for envelope, reason in poison:
                        self._dead_letter(envelope, message, reason)
                except Exception as exc:
                    retried.append((poison[0][0], message, exc))
                    continue
                message.ack()
        if retried:
            self._requeue(retried)
        self.log.debug("inbox.batch", messages=len(received), events=len(envelopes),
                       ms=round(1000 * (time.monotonic() - started), 1))

    def _requeue(self, retried):
        """A message with an event that failed goes back whole; what of it was done is
        dropped by position when it comes again."""
        deliveries = 0
        for envelope, message, error in retried:
            count = (message.headers or {}).get("x-delivery-count", 0)
            deliveries = max(deliveries, count)
            self.log.error("inbox.handler_failed", type=envelope.get("type"),
                           id=envelope.get("id"), deliveries=count + 1,
                           limit=bus.DELIVERY_LIMIT, error=repr(error))
        # Back off a little, once for the batch, so a passing fault (a database restart)
        # can clear before RabbitMQ hands the messages out again.
        eventlet.sleep(min(2.0, 0.1 * 2 ** deliveries))
        for _, message, _ in retried:
            message.reject(requeue=True)

    def _checked(self, body, message):
        """The message's envelopes, or None once a message that can never be processed is
        dead-lettered. In a batch, an event that can never be processed is dead-lettered
        alone and the others go on."""
        try:
            if isinstance(body, dict) and "__undecodable__" in body:
                raise integration.PoisonMessage("body is not JSON")
            events = integration.unpack(body)
            routing_key = message.delivery_info.get("routing_key", "")
            user_id = message.properties.get("user_id")
            if len(events) == 1:
                return [self._envelope(events[0], routing_key, user_id)]
        except integration.PoisonMessage as exc:
            self._log_poison(message, exc)
            message.reject(requeue=False)
            return None
        envelopes = []
        for event in events:
            try:
                envelopes.append(self._envelope(event, routing_key, user_id))
            except integration.PoisonMessage as exc:
                self._log_poison(message, exc)
                try:
                    self._dead_letter(event, message, exc)
                except Exception as error:  # the broker is away: the message comes again
                    self.log.warning("inbox.dead_letter_failed", error=repr(error)[:300])
                    message.reject(requeue=True)
                    return None
        if not envelopes:
            message.ack()  # every event of it is in the dead-letter queue
            return None
        return envelopes

    def _envelope(self, event, routing_key, user_id):
        envelope = integration.parse(event)
        integration.check_origin(envelope, routing_key)
        integration.check_publisher(envelope, routing_key, user_id, self.config)
        return envelope

    def _log_poison(self, message, exc):
        self.log.error("inbox.poison_message", reason=str(exc),
                       message_id=message.properties.get("message_id"),
                       publisher=message.properties.get("user_id"))

    def _dead_letter(self, event, message, reason):
        """One event of a batch that can never be processed, to the service's dead-letter
        queue alone (the broker dead-letters whole messages only), with why; confirmed
        before the batch is acknowledged."""
        with Connection(self.config.amqp_uri_for(self.service),
                        transport_options={"confirm_publish": True}) as connection:
            kombu.Producer(connection.channel(), exchange=bus.dead_letter_exchange(self.config),
                           auto_declare=False).publish(
                integration.dumps(event), routing_key=f"{self.service}.dead-letter",
                content_type=integration.CONTENT_TYPE, content_encoding="utf-8",
                delivery_mode=2, retry=False,
                headers={"x-pinggu-reason": str(reason)[:1000],
                         "x-pinggu-routing-key": message.delivery_info.get("routing_key"),
                         "x-pinggu-message-id": message.properties.get("message_id")})

    def _run_worker(self, envelopes):
        """One worker for the batch; its outcomes (all FAILED if the worker itself failed)."""
        done = Event()

        def handle_result(worker_ctx, result, exc_info):
            done.send((result, exc_info))
            return result, exc_info
        self.container.spawn_worker(self, (envelopes,), {}, handle_result=handle_result)
        result, exc_info = done.wait()
        if exc_info is not None:
            return [(batch.FAILED, exc_info[1])] * len(envelopes)
        return result


def _events(received):
    return sum(len(checked) for checked, _ in received if checked)


def _take(received, size):
    """The first messages of `received`, as many as make `size` events (at least one)."""
    count = total = 0
    for checked, _ in received:
        if count and total + len(checked or ()) > size:
            break
        count += 1
        total += len(checked or ())
    taken = received[:count]
    del received[:count]
    return taken


def _ready(connection):
    """Whether a frame has (begun to) come: bytes read but not yet parsed, or the socket
    readable. Looked at without waiting (select with no timeout)."""
    transport = connection.connection.transport
    if transport._read_buffer:  # py-amqp keeps a frame cut short by a timeout here
        return True
    readable, _, _ = select.select([transport.sock], [], [], 0)
    return bool(readable)


def _drain(connection, timeout):
    """Whether a frame came within `timeout` seconds."""
    try:
        connection.drain_events(timeout=timeout)
        return True
    except socket.timeout:
        return False


inbox = Inbox.decorator
