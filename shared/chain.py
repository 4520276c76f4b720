"""The hash chain of an event stream: each event's link covers its content and the link of
the event before it in the same stream, keyed (HMAC-SHA256 over canonical JSON) with the
history key, which lives outside the database (PINGGU_HISTORY_KEY_FILE; docs/security.md).

Without the key, an event edited in the database cannot be given a link that verifies, even
with every later link recomputed. A link names the key that made it (`<key id>:<hex>`), so
the key can be rotated: history written under a retired key verifies while that key stays
listed in the key file after the current one.
"""
import datetime
import hashlib
import hmac
import uuid

GENESIS = ""
_KEYS = {}  # key id -> key; filled from the configuration on first use


def configure(keys, current):
    """Use these keys (key id -> bytes), `current` to make new links."""
    _KEYS.clear()
    _KEYS.update(keys)
    _KEYS[None] = current


def _keys():
    if not _KEYS:
        from shared import config
        loaded = config.load()
        configure(loaded.history_keys, loaded.history_key_id)
    return _KEYS


def content(event):
    """What the link covers: the event's type, identity, time and every field, the link
    itself excepted."""
    from shared.integration import dumps
    fields = {k: v for k, v in event.__dict__.items() if k != "meta"}
    # Every event's identity and time, written as dumps' default would write them but
    # without a call back for each (issue 14: audit verify's cost): the same text.
    if isinstance(fields.get("originator_id"), uuid.UUID):
        fields["originator_id"] = str(fields["originator_id"])
    if isinstance(fields.get("timestamp"), datetime.datetime):
        fields["timestamp"] = fields["timestamp"].isoformat()
    meta = {k: v for k, v in (event.meta or {}).items() if k != "hash"}
    return dumps({"type": f"{type(event).__module__}:{type(event).__qualname__}",
                  "fields": fields, "meta": meta})


def link(previous, event, key_id=None):
    return link_text(previous, content(event), key_id)


def link_text(previous, text, key_id=None):
    """The link of an event whose `content` is `text` (audit verify computes the text
    from the stored record without building the event: issue 14)."""
    keys = _keys()
    key_id = key_id or keys[None]
    # hmac.digest: the one-shot form, computed in C (issue 14: audit verify's cost).
    digest = hmac.digest(keys[key_id], (previous + "\n" + text).encode(),
                         hashlib.sha256).hex()
    return f"{key_id}:{digest}"


def matches(previous, event, recorded):
    """Whether `recorded` is the link of `event` after `previous`, under the key it names
    (an unkeyed or unknown-key link never matches)."""
    return matches_text(previous, None, recorded, event)


def matches_text(previous, text, recorded, event=None):
    """`matches` for an event whose content is `text` (or, text None, for `event`)."""
    key_id, sep, _ = (recorded or "").partition(":")
    if not sep or key_id not in _keys():
        return False
    if text is None:
        text = content(event)
    return hmac.compare_digest(recorded, link_text(previous, text, key_id))


def verify_stream(events):
    """The first problem in one stream's events (in version order), or None."""
    previous, expected_version = GENESIS, 1
    for event in events:
        if event.originator_version != expected_version:
            return (event.originator_version,
                    f"version {expected_version} is missing (next is {event.originator_version})")
        recorded = (event.meta or {}).get("hash")
        if not matches(previous, event, recorded):
            return (event.originator_version, "hash does not match the event's content")
        previous, expected_version = recorded, expected_version + 1
    return None
