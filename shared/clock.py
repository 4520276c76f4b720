"""The one clock of the cluster (issue 10, item 5): the wall clock in Asia/Shanghai, unless
the cluster was started for simulation (the demo, tests: PINGGU_SIMULATED_CLOCK=1), where
a simulated business date lets two-month deadlines run in seconds.

Every move of the simulated clock is a row of `cluster.clock_moves` (who, from, to, when),
append-only (services/provision.py), which `pinggu clock history` lists and `case explain`
names when a deadline fired on it. Once cases exist the clock never moves backwards: a
rewind would let a late self-assessment count as on time. Production refuses every move.
Services cache the date for a moment only, so a move reaches all of them within a second.
"""
import datetime
import threading
import time
import zoneinfo

import psycopg2

from shared.errors import Refused

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CACHE_SECONDS = 0.5
RULE = "the honest clock (issue 10)"

# Made by the provisioning (services/provision.py), owned by the history role.
DDL = ("CREATE TABLE IF NOT EXISTS cluster.clock_moves (sequence bigserial PRIMARY KEY, "
       "moved_at timestamptz NOT NULL DEFAULT now(), moved_by text NOT NULL, "
       "from_date date NOT NULL, to_date date, simulated boolean NOT NULL)")


def wall_date():
    return datetime.datetime.now(SHANGHAI).date()


class Clock:
    def __init__(self, config):
        self.config = config
        self._cached = None
        self._cached_at = 0.0
        self._conn = None
        # One connection, so one query at a time (a green lock under eventlet).
        self._lock = threading.Lock()

    def _execute(self, statement, params=None, fetch="one"):
        """On one connection kept open (reopened if it broke): the clock is read often."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = psycopg2.connect(self.config.dsn())
                        self._conn.autocommit = True
                    with self._conn.cursor() as cur:
                        cur.execute(statement, params)
                        if not cur.description:
                            return None
                        return cur.fetchone() if fetch == "one" else cur.fetchall()
                except psycopg2.OperationalError:
                    self._conn = None
                    if attempt == 2:
                        raise

    def simulated_date(self):
        """The simulated date set last, or None (never set, or set back to the wall)."""
        if not self.config.allow_simulated_clock:
            return None
        now = time.monotonic()
        if self._cached_at and now - self._cached_at < CACHE_SECONDS:
            return self._cached
        row = self._execute("SELECT to_date FROM cluster.clock_moves "
                            "ORDER BY sequence DESC LIMIT 1")
        self._cached = row[0] if row else None
        self._cached_at = now
        return self._cached

    def today(self):
        """The business date."""
        return self.simulated_date() or wall_date()

    def set(self, date, operator, cases_exist=True):
        """Move the simulated business date (None: back to the wall clock), recorded as a
        move; refused in production, on a wall-clock cluster, and backwards once cases
        exist."""
        if self.config.production:
            raise Refused(RULE, "production runs on the wall clock: the clock cannot be set")
        if not self.config.allow_simulated_clock:
            raise Refused(RULE, "this cluster runs on the wall clock (start it with "
                                "PINGGU_SIMULATED_CLOCK=1 to simulate)")
        self._cached_at = 0.0
        current = self.today()
        target = date or wall_date()
        if cases_exist and target < current:
            raise Refused(RULE, f"the clock never moves backwards once cases exist: "
                                f"it is {current}, {target} is earlier")
        self._execute("INSERT INTO cluster.clock_moves (moved_by, from_date, to_date, "
                      "simulated) VALUES (%s, %s, %s, true)", (operator, current, date))
        self._cached_at = 0.0

    def history(self):
        rows = self._execute("SELECT sequence, moved_at, moved_by, from_date, to_date "
                             "FROM cluster.clock_moves ORDER BY sequence", fetch="all")
        return [{"move": r[0], "moved_at": r[1].isoformat(), "by": r[2],
                 "from": r[3].isoformat(), "to": r[4].isoformat() if r[4] else "wall"}
                for r in rows]

    def show(self):
        simulated = self.simulated_date()
        return {"today": self.today().isoformat(),
                "simulated": simulated is not None,
                "wall_clock_date": wall_date().isoformat()}
