"""Read tables, projected from a service's own notification log.

A projection applies events in notification order and records how far it got in the same
transaction as the rows it writes, so a crash never applies an event twice or skips one.
Because the tables are a pure function of the log, they can be rebuilt at any time.
"""
from eventsourcing.persistence import Notification

from shared import db


class Projection:
    """Subclasses set `name` and `tables` (DDL with `{t}` for the table prefix) and
    implement `apply(cursor, event, position)`."""

    name = None
    tables = ()
    BATCH = 500

    def __init__(self, app, schema=None):
        self.app = app
        self.schema = schema or app.schema

    def table(self, name):
        return f"{self.schema}.{self.name}_{name}"

    def create_tables(self):
        with self.app.recorder.datastore.transaction(commit=True) as cur:
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

    def catch_up(self, max_events=None):
        """Apply what is new (at most about `max_events`); returns how many were applied."""
        applied = 0
        while max_events is None or applied < max_events:
            with self.app.recorder.datastore.transaction(commit=True) as cur:
                # The row lock serialises instances and greenthreads catching up together.
                cur.execute(f"SELECT position FROM {self.schema}.projection_position "
                            "WHERE name = %s FOR UPDATE", (self.name,))
                position = cur.fetchone()["position"]
                # Read on this same connection: taking a second one from the pool while
                # holding this one could deadlock greenthreads when the pool runs dry.
                cur.execute(f"SELECT notification_id, originator_id, originator_version, "
                            f"topic, state FROM {self.app.recorder.events_table_name} "
                            "WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
                            (position, self.BATCH))
                notifications = [Notification(id=row["notification_id"],
                                              originator_id=row["originator_id"],
                                              originator_version=row["originator_version"],
                                              topic=row["topic"], state=bytes(row["state"]))
                                 for row in cur.fetchall()]
                if not notifications:
                    return applied
                for notification in notifications:
                    event = self.app.mapper.to_domain_event(notification)
                    self.apply(cur, event, notification.id)
                cur.execute(f"UPDATE {self.schema}.projection_position SET position = %s "
                            "WHERE name = %s", (notifications[-1].id, self.name))
                applied += len(notifications)
        return applied

    def apply(self, cur, event, position):
        raise NotImplementedError
