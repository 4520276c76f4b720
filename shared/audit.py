"""What operators answer a dispute with, for any service's event store: a case's events
as history, the case as it stood on a date, and the verification of the hash chains."""
import datetime

from eventsourcing.persistence import StoredEvent

from shared import chain

# Events per step (one RPC): fewer round trips, each step still well under a second or
# two of the service's time (issue 14).
CHAIN_BATCH = 20000


def describe(service, event):
    """One event as the history lists it."""
    from shared.integration import event_id
    meta = dict(event.meta or {})
    data = {k: v for k, v in event.__dict__.items()
            if k not in ("originator_id", "originator_version", "timestamp", "meta")}
    return {"service": service, "type": type(event).__qualname__,
            "event_id": event_id(service, event.originator_id, event.originator_version),
            "version": event.originator_version, "recorded_at": event.timestamp.isoformat(),
            "business_date": meta.get("business_date"), "actor": meta.get("actor"),
            "role": meta.get("role"), "caused_by": meta.get("causation_id"),
            "call_id": meta.get("call_id"), "command_id": meta.get("command_id"),
            "hash": meta.get("hash"), "data": data}


def history(app, aggregate_id):
    return [describe(app.schema, e) for e in app.events.get(aggregate_id)]


def as_of(app, aggregate_id, day):
    """The aggregate as it stood at the end of `day` (a business date): rebuilt from the
    longest run of its events recorded on or before that day, or None."""
    version = 0
    for event in app.events.get(aggregate_id):
        business_date = (event.meta or {}).get("business_date")
        if business_date and datetime.date.fromisoformat(business_date) > day:
            break
        version = event.originator_version
    return app.repository.get(aggregate_id, version=version) if version else None


def verify_chains(app, token=None, limit=CHAIN_BATCH):
    """Check the hash chains of up to `limit` events from `token` on, in stream order.

    Resumable: the token says where the previous step stopped, and the last stream's
    state, so a national store is checked in bounded steps. Returns (problems, token,
    done, checked)."""
    token = token or {"after": None, "prev": chain.GENESIS, "expected": 1}
    table = app.recorder.events_table_name
    where, params = "", []
    if token["after"]:
        where, params = "WHERE (originator_id, originator_version) > (%s::uuid, %s)", \
            list(token["after"])
    with app.recorder.datastore.transaction(commit=False) as cur:
        # A plain cursor of eventsourcing's connection: tuples cost less than DictRows.
        with cur.pg_cursor.connection.cursor() as plain:
            plain.execute(f"SELECT originator_id, originator_version, topic, state FROM "
                          f"{table} {where} ORDER BY originator_id, originator_version "
                          "LIMIT %s", [*params, limit])
            rows = plain.fetchall()
    problems = []
    current = token["after"][0] if token["after"] else None
    prev, expected = token["prev"], token["expected"]
    to_event = app.mapper.to_domain_event
    for originator_id, version, topic, state in rows:
        stream = str(originator_id)
        if stream != current:
            current, prev, expected = stream, chain.GENESIS, 1
        event = to_event(StoredEvent(originator_id=originator_id, originator_version=version,
                                     topic=topic, state=bytes(state)))
        where_found = {"service": app.schema, "case": stream, "position": version}
        recorded = (event.meta or {}).get("hash")
        if version != expected:
            # After a gap the chain cannot be checked across it; it resumes from here.
            problems.append({**where_found, "problem": f"version {expected} is missing "
                             f"(deleted?); next is {version}"})
        elif not chain.matches(prev, event, recorded):
            # Under the key the link names: history linked before a rotation verifies.
            problems.append({**where_found, "problem": "content does not match its hash "
                             "(altered?)"})
        prev, expected = recorded or "", version + 1
    next_token = {"after": [current, expected - 1], "prev": prev, "expected": expected} \
        if rows else token
    return problems, next_token, len(rows) < limit, len(rows)
