"""The one clock of the cluster: the wall clock in Asia/Shanghai, or a simulated business
date that every service reads, so demos and tests can run two-month deadlines in seconds.

The simulated date lives in one row of the cluster's own schema (not any service's tables);
services cache it for a moment only, so a change reaches all of them within a second.
"""
import datetime
import threading
import time
import zoneinfo

import psycopg2

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CACHE_SECONDS = 0.5

DDL = ("CREATE SCHEMA IF NOT EXISTS cluster",
       "CREATE TABLE IF NOT EXISTS cluster.clock (id int PRIMARY KEY CHECK (id = 1), "
       "simulated_date date, set_by text, set_at timestamptz NOT NULL DEFAULT now())")


class Clock:
    def __init__(self, config):
        self.config = config
        self._cached = None
        self._cached_at = 0.0
        self._conn = None
        # One connection, so one query at a time (a green lock under eventlet).
        self._lock = threading.Lock()

    def _execute(self, statement, params=None):
        """On one connection kept open (reopened if it broke): the clock is read often."""
        with self._lock:
            return self._execute_locked(statement, params)

    def _execute_locked(self, statement, params):
        for attempt in (1, 2):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg2.connect(self.config.dsn())
                    self._conn.autocommit = True
                with self._conn.cursor() as cur:
                    self._ensure(cur)
                    cur.execute(statement, params)
                    return cur.fetchone() if cur.description else None
            except psycopg2.OperationalError:
                self._conn = None
                if attempt == 2:
                    raise

    def _ensure(self, cur):
        if getattr(self, "_ensured", False):
            return
        for statement in DDL:
            try:
                cur.execute(statement)
            except psycopg2.errors.UniqueViolation:
                pass  # a concurrent first start created it
        self._ensured = True

    def simulated_date(self):
        now = time.monotonic()
        if self._cached_at and now - self._cached_at < CACHE_SECONDS:
            return self._cached
        row = self._execute("SELECT simulated_date FROM cluster.clock WHERE id = 1")
        self._cached = row[0] if row else None
        self._cached_at = now
        return self._cached

    def today(self):
        """The business date."""
        simulated = self.simulated_date() if self.config.allow_simulated_clock else None
        return simulated or datetime.datetime.now(SHANGHAI).date()

    def set(self, date, operator):
        """Set (or with None, clear) the simulated business date for the whole cluster."""
        if not self.config.allow_simulated_clock:
            raise PermissionError("this cluster runs on the wall clock")
        self._execute("INSERT INTO cluster.clock (id, simulated_date, set_by) "
                      "VALUES (1, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                      "simulated_date = EXCLUDED.simulated_date, "
                      "set_by = EXCLUDED.set_by, set_at = now()", (date, operator))
        self._cached_at = 0.0

    def show(self):
        simulated = self.simulated_date() if self.config.allow_simulated_clock else None
        return {"today": self.today().isoformat(),
                "simulated": simulated is not None,
                "wall_clock_date": datetime.datetime.now(SHANGHAI).date().isoformat()}
