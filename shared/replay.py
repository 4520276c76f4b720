"""Replay verification of a service's read tables: rebuild them from the event store into
scratch tables beside the live ones, in bounded steps, then compare.

Each run has a scratch schema of its own, `<service>_replay_<run>`, with a run id the
service chooses: `start` creates it (and never drops anything), `finish` drops it. Two
runs, or an auditor's run beside an operator's, never touch each other's tables, and
no caller can name a schema to drop.

Issue 14: a rebuild applies its events in transactions of `BATCH` events, five times the
projections' own: fewer reads of the rows a batch touches, fewer and larger upserts (in
process 15-30 % less CPU of a rebuild, its PostgreSQL's too; through the CLI, with the
RPCs and the verdicts' re-run, a few per cent of the services' and a tenth of PostgreSQL's:
bench/verify_in_process.py)."""
import contextlib
import gc
import re
import uuid

from shared.errors import BadInput

STEP = 20000
# Events per transaction of a rebuild. Such a transaction sits idle for as long as
# decoding and applying the batch take, which on a loaded machine outlived eventsourcing's
# idle-in-transaction timeout (5 s) at 20,000 events: it is raised for these transactions
# alone (they write only the run's own tables).
BATCH = 10000
IDLE_ALLOWED = "120s"
_RUN = re.compile(r"[0-9a-f]{16}")


def _schema(app, run):
    if not isinstance(run, str) or not _RUN.fullmatch(run):
        raise BadInput(f"not a replay run id: {str(run)[:40]!r}")
    return f"{app.schema}_replay_{run}"


def scratch(app, run):
    schema = _schema(app, run)
    return [type(p)(app, schema=schema) for p in app.projections.values()]


def start(app):
    run = uuid.uuid4().hex[:16]
    with app.recorder.datastore.transaction(commit=True) as cur:
        cur.execute(f"CREATE SCHEMA {_schema(app, run)}")
    for projection in scratch(app, run):
        projection.create_tables()
    return {"target": app.recorder.max_notification_id(), "run": run}


def step(app, run, limit=STEP):
    _exists(app, run)
    with _collector_paused():
        applied = sum(_rebuild(p, limit) for p in scratch(app, run))
    positions = [p.position() for p in scratch(app, run)]
    return {"applied": applied, "position": min(positions) if positions else 0,
            "target": app.recorder.max_notification_id()}


def _rebuild(projection, limit):
    """`Projection.catch_up` of a scratch projection, in transactions of `BATCH` events,
    each allowed to sit idle for longer, and committed without waiting for the write-ahead
    log's flush (the tables are the run's own, dropped when it finishes: a commit lost in a
    crash loses only a step of a run, whose tables and position stay consistent). Its
    events are decoded by the mapper, not through `app.decoded`: old events, which the
    outbox never decoded, and which would push out of it those it did. Returns how many
    events were applied (at least `limit`, unless the log ends first)."""
    return projection.catch_up(
        limit, batch=BATCH, decode=projection.app.mapper.to_domain_event,
        settings={"idle_in_transaction_session_timeout": IDLE_ALLOWED,
                  "synchronous_commit": "off"})


@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector off while a step applies its events (issue 14): the
    decoded events and rows of each batch made it run again and again, scanning all that
    a step holds: about a fifth of a rebuild's CPU. They hold no cycles (reference counting
    frees them); whatever else a step leaves is collected once it is back on."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _exists(app, run):
    with app.recorder.datastore.transaction(commit=False) as cur:
        cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
                    (_schema(app, run),))
        if cur.fetchone() is None:
            raise BadInput(f"no replay run {run} (finished, or never started)")


def finish(app, run):
    """Compare each scratch table with its live twin, at the same log position."""
    differences = []
    _exists(app, run)
    for live, rebuilt in zip(app.projections.values(), scratch(app, run)):
        for _ in range(3):  # the live tables move on if the service is busy: catch both up
            live.catch_up()
            rebuilt.catch_up()
            if live.position() == rebuilt.position():
                break
        for live_table, scratch_table in zip(live.table_names(), rebuilt.table_names()):
            with app.recorder.datastore.transaction(commit=False) as cur:
                for a, b, side in ((live_table, scratch_table, "only in the live table"),
                                   (scratch_table, live_table, "only in the rebuilt table")):
                    cur.execute(f"SELECT count(*) AS n FROM (SELECT * FROM {a} EXCEPT ALL "
                                f"SELECT * FROM {b}) d")
                    n = cur.fetchone()["n"]
                    if n:
                        cur.execute(f"SELECT row_to_json(d)::text AS row FROM (SELECT * FROM "
                                    f"{a} EXCEPT ALL SELECT * FROM {b}) d LIMIT 3")
                        differences.append({"service": app.schema, "table": live_table,
                                            "rows": n, "side": side,
                                            "examples": [r["row"] for r in cur.fetchall()]})
    with app.recorder.datastore.transaction(commit=True) as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {_schema(app, run)} CASCADE")
    return differences
