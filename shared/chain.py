"""The hash chain of an event stream: each event's hash covers its content and the hash of
the event before it in the same stream (SHA-256 over canonical JSON)."""
import hashlib

GENESIS = ""


def content(event):
    """What the hash covers: the event's type, identity, time and every field, the hash
    itself excepted."""
    from shared.integration import dumps
    fields = {k: v for k, v in event.__dict__.items() if k != "meta"}
    meta = {k: v for k, v in (event.meta or {}).items() if k != "hash"}
    return dumps({"type": f"{type(event).__module__}:{type(event).__qualname__}",
                  "fields": fields, "meta": meta})


def link(previous, event):
    return hashlib.sha256((previous + "\n" + content(event)).encode()).hexdigest()


def verify_stream(events):
    """The first problem in one stream's events (in version order), or None."""
    previous, expected_version = GENESIS, 1
    for event in events:
        if event.originator_version != expected_version:
            return (event.originator_version,
                    f"version {expected_version} is missing (next is {event.originator_version})")
        recorded = (event.meta or {}).get("hash")
        if recorded != link(previous, event):
            return (event.originator_version, "hash does not match the event's content")
        previous, expected_version = recorded, expected_version + 1
    return None
