"""Replay verification of a service's read tables: rebuild them from the event store into
scratch tables beside the live ones, in bounded steps, then compare.

The scratch tables live in the schema `<service>_replay`, which is dropped at the end."""
STEP = 20000


def scratch(app):
    return [type(p)(app, schema=f"{app.schema}_replay") for p in app.projections.values()]


def start(app):
    schema = f"{app.schema}_replay"
    with app.recorder.datastore.transaction(commit=True) as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        cur.execute(f"CREATE SCHEMA {schema}")
    for projection in scratch(app):
        projection.create_tables()
    return {"target": app.recorder.max_notification_id()}


def step(app, limit=STEP):
    applied = sum(p.catch_up(max_events=limit) for p in scratch(app))
    positions = [p.position() for p in scratch(app)]
    return {"applied": applied, "position": min(positions) if positions else 0,
            "target": app.recorder.max_notification_id()}


def finish(app):
    """Compare each scratch table with its live twin, at the same log position."""
    differences = []
    for live, rebuilt in zip(app.projections.values(), scratch(app)):
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
        cur.execute(f"DROP SCHEMA IF EXISTS {app.schema}_replay CASCADE")
    return differences
