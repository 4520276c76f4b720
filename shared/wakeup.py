"""Waking a service's followers (outbox, projections) when any of its instances commits,
instead of each polling (issue 14).

In the process a commit sets the event at once (ServiceApplication.commit_listeners).
Across instances PostgreSQL carries it: after a commit this process sends NOTIFY on the
service's channel, and every instance LISTENing there wakes. The NOTIFY is sent by a
green thread of its own, after the commit and off the worker's path; commits that come
while one is being sent share the next. A lost notification costs only latency: the
follow loop still looks after a short idle wait.
"""
import eventlet
import psycopg2
from eventlet.event import Event
from eventlet.hubs import trampoline
from eventlet.timeout import Timeout

from shared import log

RETRY_SECONDS = 2.0


class Wakeup:
    def __init__(self, config, schema, woken):
        self.config = config
        self.schema = schema
        self.channel = f"pinggu_commit_{schema}"
        self.woken = woken  # the follow loop's event
        self.committed = Event()
        self.running = False
        self.log = log.get("wakeup").bind(service=schema)

    def on_commit(self):
        """A commit in this process: wake our own loop now, the others by NOTIFY."""
        self.woken.set()
        if not self.committed.ready():
            self.committed.send()

    def start(self, spawn):
        self.running = True
        spawn(self._listen, identifier="wakeup.listen")
        spawn(self._notify, identifier="wakeup.notify")

    def stop(self):
        self.running = False
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
            if not self.running:
                break
            try:
                conn = conn if conn is not None and not conn.closed else self._connect()
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
                if conn.notifies:
                    conn.notifies.clear()
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
