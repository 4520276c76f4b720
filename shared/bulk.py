"""Loading many aggregates in one round trip (issue 14): a file's rows or a batch of
upstream events name hundreds of cases, and loading each with its own query costs a round
trip apiece. The result is what `repository.get` would give, one aggregate at a time.
"""
from eventsourcing.persistence import StoredEvent

# PostgreSQL takes an array of any length, but a very long one makes one huge result: a
# nation's roster is loaded in slices of this many aggregates.
SLICE = 5000


def load_many(app, aggregate_ids):
    """{aggregate id: aggregate or None} for every id given (None: no such aggregate)."""
    ids = list(dict.fromkeys(aggregate_ids))
    found = dict.fromkeys(ids)
    if not ids:
        return found
    table = getattr(app.recorder, "events_table_name", None)
    if table is None:  # the in-memory store of the unit tests: one at a time is fine there
        for aggregate_id in ids:
            found[aggregate_id] = app.get_or_none(aggregate_id)
        return found
    by_text = {str(i): i for i in ids}
    for start in range(0, len(ids), SLICE):
        chunk = [str(i) for i in ids[start:start + SLICE]]
        with app.recorder.datastore.transaction(commit=False) as cur:
            cur.execute(f"SELECT originator_id, originator_version, topic, state FROM {table} "
                        "WHERE originator_id = ANY(%s::uuid[]) "
                        "ORDER BY originator_id, originator_version", (chunk,))
            rows = cur.fetchall()
        streams = {}
        for row in rows:
            streams.setdefault(by_text[str(row["originator_id"])], []).append(row)
        for aggregate_id, stream in streams.items():
            found[aggregate_id] = aggregate_of(app, stream)
    return found


def aggregate_of(app, rows):
    """The aggregate one stream of stored events' rows makes (originator_id,
    originator_version, topic, state; in order), or None if there are none."""
    aggregate = None
    for row in rows:  # as project_aggregate, without its per-event type checks
        stored = StoredEvent(originator_id=row["originator_id"],
                             originator_version=row["originator_version"],
                             topic=row["topic"], state=bytes(row["state"]))
        aggregate = app.mapper.to_domain_event(stored).mutate(aggregate)
    return aggregate
