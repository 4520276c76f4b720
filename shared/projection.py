"""Read tables, projected from a service's own notification log.

A projection applies events in notification order and records how far it got in the same
transaction as the rows it writes, so a crash never applies an event twice or skips one.
Because the tables are a pure function of the log, they can be rebuilt at any time.

Issue 14: a batch of notifications is applied in sets, not row by row. The rows a batch
touches are read in one query (`Rows.load`), changed in Python in the events' order, and
written back in one multi-row upsert (`Rows.write`); inserts go in one `execute_values`.
The projection's row lock (`catch_up`) is held throughout, so no other instance changes
those rows between the read and the write.
"""
import datetime

from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic
from psycopg2.extras import execute_values

from shared import db


class Projection:
    """Subclasses set `name` and `tables` (DDL with `{t}` for the table prefix) and
    implement `apply_all(cursor, events)`, events being (event, position) in log order."""

    name = None
    tables = ()
    events = None  # the event types (qualified names) the tables take; None: all
    BATCH = 2000

    def __init__(self, app, schema=None):
        self.app = app
        self.schema = schema or app.schema

    def table(self, name):
        return f"{self.schema}.{self.name}_{name}"

    def create_tables(self):
        with self.app.recorder.datastore.transaction(commit=True) as cur:
            db.creating_tables(cur, self.schema)
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self.schema}.projection_position ("
                        "name text PRIMARY KEY, position bigint NOT NULL)")
            cur.execute(f"INSERT INTO {self.schema}.projection_position VALUES (%s, 0) "
                        "ON CONFLICT DO NOTHING", (self.name,))
            for ddl in self.tables:
                cur.execute(ddl.format(t=f"{self.schema}.{self.name}_"))

    def table_names(self):
        import re
        # Once each: a table may have more than one statement (an ALTER after its CREATE).
        return list(dict.fromkeys(f"{self.schema}.{self.name}_{name}" for ddl in self.tables
                                  for name in re.findall(r"\{t\}(\w+)", ddl)[:1]))

    @db.read_retried
    def position(self):
        with self.app.recorder.datastore.transaction(commit=False) as cur:
            cur.execute(f"SELECT position FROM {self.schema}.projection_position "
                        "WHERE name = %s", (self.name,))
            return cur.fetchone()["position"]

    def catch_up(self, max_events=None, batch=None, settings=None, decode=None):
        """Apply what is new (at most about `max_events`); returns how many were applied.

        The defaults are the service's own catch-up. A replay's rebuild (shared/replay.py)
        passes its own: `batch`, the events a transaction applies (default `BATCH`);
        `settings`, PostgreSQL settings for each transaction alone (SET LOCAL); `decode`,
        from a notification to its event (default `app.decoded`)."""
        batch, decode = batch or self.BATCH, decode or self.app.decoded
        applied = 0
        if not self._behind():
            return 0
        while max_events is None or applied < max_events:
            with self.app.recorder.datastore.transaction(commit=True) as cur:
                for name, value in (settings or {}).items():  # as SET LOCAL would
                    cur.execute("SELECT set_config(%s, %s, true)", (name, value))
                # The row lock serialises instances and greenthreads catching up together.
                cur.execute(f"SELECT position FROM {self.schema}.projection_position "
                            "WHERE name = %s FOR UPDATE", (self.name,))
                position = cur.fetchone()["position"]
                # Read on this same connection: taking a second one from the pool while
                # holding this one could deadlock greenthreads when the pool runs dry. A
                # plain cursor of it: rows as tuples cost less to fetch than DictCursor's.
                with _psycopg2(cur).connection.cursor() as plain:
                    plain.execute(f"SELECT notification_id, originator_id, "
                                  f"originator_version, topic, state FROM "
                                  f"{self.app.recorder.events_table_name} WHERE "
                                  "notification_id > %s ORDER BY notification_id LIMIT %s",
                                  (position, batch))
                    rows = plain.fetchall()
                if not rows:
                    return applied
                # By default as the outbox decoded them, if it has just read them (issue 14).
                self.apply_all(cur, [(decode(Notification(
                    id=row[0], originator_id=row[1], originator_version=row[2],
                    topic=row[3], state=bytes(row[4]))), row[0]) for row in rows
                    if self.applies_to(row[3])])
                cur.execute(f"UPDATE {self.schema}.projection_position SET position = %s "
                            "WHERE name = %s", (rows[-1][0], self.name))
                applied += len(rows)
        return applied

    def _behind(self):
        """Whether the log holds events past the recorded position. Read without the row
        lock: a locking read gives its transaction an id, and its commit a WAL flush, which
        every idle round of every follower paid (issue 14: they contend with the commits
        on the way of an event). A position moved meanwhile is read again under the lock.

        The log's last id is its index's last entry (max() reads only that). EXISTS (...
        WHERE notification_id > position) was planned as a sequential scan, the position
        unknown when planning: every round read the whole log, to find nothing or its last
        rows. An empty log has no max: NULL, not behind."""
        with self.app.recorder.datastore.transaction(commit=False) as cur:
            cur.execute(f"SELECT (SELECT max(notification_id) FROM "
                        f"{self.app.recorder.events_table_name}) > position AS behind "
                        f"FROM {self.schema}.projection_position WHERE name = %s",
                        (self.name,))
            return bool(cur.fetchone()["behind"])

    def applies_to(self, topic):
        """Whether events of this topic change the tables: the others are not decoded
        (issue 14), though the position moves past them."""
        return self.events is None or resolve_topic(topic).__qualname__ in self.events

    def apply_all(self, cur, events):
        raise NotImplementedError


class Rows:
    """The rows of one read table that a batch touches, keyed by `key` (a column that is
    the primary key or unique): `load` reads those not yet held in one query, `get` and
    `put` change them in Python, `write` upserts every row put in one statement.

    `update` names the columns a conflicting row takes from the new one (default: all but
    the key); `jsonb` the columns held as Python values and written as JSON."""

    def __init__(self, cur, table, key, columns, update=None, jsonb=(), key_type="text"):
        self.cur, self.table, self.key, self.columns = cur, table, key, tuple(columns)
        self.update = tuple(update) if update is not None else tuple(
            c for c in self.columns if c != key)
        self.jsonb, self.key_type = frozenset(jsonb), key_type
        self.rows = {}       # key -> row (a dict of columns), or None where there is none
        self.changed = {}    # keys put, in first-put order (a dict as an ordered set)

    def load(self, keys):
        wanted = list(dict.fromkeys(k for k in keys if k not in self.rows))
        if not wanted:
            return
        with _psycopg2(self.cur).connection.cursor() as plain:
            plain.execute(f"SELECT {', '.join(self.columns)} FROM {self.table} "
                          f"WHERE {self.key} = ANY(%s::{self.key_type}[])", (wanted,))
            for values in plain.fetchall():
                row = dict(zip(self.columns, values))
                self.rows[str(row[self.key])] = row
        for k in wanted:
            self.rows.setdefault(k, None)

    def get(self, key):
        """The row as the events so far leave it (None: there is none), loaded first."""
        return self.rows[key]

    def put(self, key, row):
        self.changed[key] = True
        self.rows[key] = row

    def write(self):
        if not self.changed:
            return
        from shared.integration import dumps
        values = [tuple(dumps(row[c]) if c in self.jsonb and row[c] is not None else row[c]
                        for c in self.columns)
                  for row in (self.rows[k] for k in self.changed)]
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.update)
        execute_values(_psycopg2(self.cur),
                       f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES %s "
                       f"ON CONFLICT ({self.key}) DO UPDATE SET {sets}",
                       values, page_size=len(values))
        self.changed = {}


def insert_all(cur, table, values, on_conflict=""):
    """Many rows in one INSERT (`on_conflict`: e.g. "ON CONFLICT DO NOTHING")."""
    if values:
        execute_values(_psycopg2(cur), f"INSERT INTO {table} VALUES %s {on_conflict}", values,
                       page_size=len(values))


def _psycopg2(cur):
    """psycopg2's own cursor (execute_values needs it) under eventsourcing's wrapper."""
    return getattr(cur, "pg_cursor", cur)


def day(value):
    """A date from an event's ISO text (or a date, or None), to compare as SQL would."""
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value)


def earliest(*values):
    """The earliest of the dates given, ignoring None: SQL's LEAST."""
    days = [day(v) for v in values if v is not None]
    return min(days) if days else None
