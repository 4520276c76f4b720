"""Waking a service's followers (outbox, projections) when any of its instances commits,
instead of each polling (issue 14).

In the process a commit sets the event at once (ServiceApplication.commit_listeners).
Across instances PostgreSQL carries it: after a commit this process sends NOTIFY on the
service's channel, and every instance LISTENing there wakes. The NOTIFY is sent by a
green thread of its own, after the commit and off the worker's path (and, in the
instance that publishes, after its publishing step: only other instances' read tables
wait on it); commits that come while one is being sent share the next. An instance's
own NOTIFY, which comes back to it, wakes nothing. A lost notification costs only
latency: the follow loop still looks after a short idle wait.
"""
import threading

import eventlet
import psycopg2
from eventlet.event import Event
from eventlet.hubs import trampoline
from eventlet.timeout import Timeout

from shared import log

RETRY_SECONDS = 2.0
# How long a NOTIFY may wait for this process's own publishing (it is usually done in a
# few milliseconds; the bound only matters while the broker is away).
HOLD_SECONDS = 0.05


class Wakeup:
    def __init__(self, config, schema, woken, leading=lambda: False):
        self.config = config
        self.schema = schema
        self.channel = f"pinggu_commit_{schema}"
        self.woken = woken  # the follow loop's event
        self.committed = Event()
        self.leading = leading  # whether this process publishes the service's outbox
        self.published = threading.Event()  # green under eventlet
        self.running = False
        self._own_pid = None  # the backend that sends this process's NOTIFY
        self.log = log.get("wakeup").bind(service=schema)

    def on_commit(self):
        """A commit in this process: wake our own loop now, the others by NOTIFY."""
        self.woken.set()
        self.published.clear()
        if not self.committed.ready():
            self.committed.send()
        # The worker that committed goes on at its next wait anyway (answering its
        # caller); yielding here lets the follow loop start publishing first instead
        # (issue 14: ~2 ms of an event's latency at rest, more on a busy process).
        eventlet.sleep(0)

    def round_published(self):
        """The follow loop has been through its publishing step."""
        self.published.set()

    def start(self, spawn):
        self.running = True
        spawn(self._listen, identifier="wakeup.listen")
        spawn(self._notify, identifier="wakeup.notify")

    def stop(self):
        self.running = False
        self.published.set()
        if not self.committed.ready():
            self.committed.send()  # lets the notifier see it is stopping

    def _connect(self):
        conn = psycopg2.connect(self.config.dsn(role=self.schema))
        conn.autocommit = True
        return conn

    def _notify(self):
        conn = None
        while self.running:
            self.committed.wait()
            self.committed.reset()
            if self.leading():
                # This process publishes: the NOTIFY (a transaction of its own, with a WAL
                # flush) only wakes other instances' read tables, so it waits for the
                # publishing rather than contend with the event on its way.
                self.published.wait(HOLD_SECONDS)
            if not self.running:
                break
            try:
                if conn is None or conn.closed:
                    conn = self._connect()
                    self._own_pid = conn.get_backend_pid()
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_notify(%s, '')", (self.channel,))
            except Exception as exc:  # a managed thread that raised would stop the service
                self.log.warning("wakeup.notify_failed", error=str(exc).strip()[:200])
                conn = _closed(conn)
                eventlet.sleep(RETRY_SECONDS)
        _closed(conn)

    def _listen(self):
        conn = None
        while self.running:
            try:
                if conn is None or conn.closed:
                    conn = self._connect()
                    with conn.cursor() as cur:
                        cur.execute(f"LISTEN {self.channel}")
                try:
                    trampoline(conn.fileno(), read=True, timeout=1.0)
                except Timeout:
                    continue
                conn.poll()
                # Our own NOTIFY comes back too: on_commit has woken the loop already, and
                # waking it again would only repeat a round behind the one under way.
                others = [n for n in conn.notifies if n.pid != self._own_pid]
                conn.notifies.clear()
                if others:
                    self.woken.set()
            except Exception as exc:  # as above: logged, retried
                self.log.warning("wakeup.listen_failed", error=str(exc).strip()[:200])
                conn = _closed(conn)
                eventlet.sleep(RETRY_SECONDS)
        _closed(conn)


def _closed(conn):
    if conn is not None:
        try:
            conn.close()
        except psycopg2.Error:
            pass
    return None
