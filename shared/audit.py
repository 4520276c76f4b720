"""What operators answer a dispute with, for any service's event store: a case's events
as history, the case as it stood on a date, and the verification of the hash chains."""
import datetime
import json
import re

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

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
        # The id as text and the record as text (the database's encoding is UTF-8, as
        # the mapper decodes it): no UUID objects, half the bytes of bytea's hex form.
        with cur.pg_cursor.connection.cursor() as plain:
            plain.execute(f"SELECT originator_id::text, originator_version, topic, "
                          f"convert_from(state, 'UTF8') FROM {table} {where} "
                          "ORDER BY originator_id, originator_version LIMIT %s",
                          [*params, limit])
            rows = plain.fetchall()
    problems = []
    current = token["after"][0] if token["after"] else None
    prev, expected = token["prev"], token["expected"]
    contents = StoredContents(app)
    for stream, version, topic, state in rows:
        if stream != current:
            current, prev, expected = stream, chain.GENESIS, 1
        text, recorded = contents.of(stream, version, topic, state)
        if version != expected:
            # After a gap the chain cannot be checked across it; it resumes from here.
            problems.append({"service": app.schema, "case": stream, "position": version,
                             "problem": f"version {expected} is missing (deleted?); "
                                        f"next is {version}"})
        elif not chain.matches_text(prev, text, recorded):
            # Under the key the link names: history linked before a rotation verifies.
            problems.append({"service": app.schema, "case": stream, "position": version,
                             "problem": "content does not match its hash (altered?)"})
        prev, expected = recorded or "", version + 1
    next_token = {"after": [current, expected - 1], "prev": prev, "expected": expected} \
        if rows else token
    return problems, next_token, len(rows) < limit, len(rows)


# A value of eventsourcing's JSONTranscoder ({"_type_": name, "_data_": text}) as
# `integration.dumps` writes a parsed record: keys sorted, its separators. That text is
# JSON, where `{"` only opens an object (a quote inside a string is escaped), so each match
# is an object of exactly those two keys, which is what the transcoder decodes.
_TRANSCODED = re.compile(r'\{"_data_": "([^"\\]*)", "_type_": "([^"\\]*)"\}')
_UUID_HEX = re.compile(r"[0-9a-f]{32}")


class StoredContents:
    """What `chain.content` gives for a stored event, computed from its stored JSON
    without building the event (issue 14: building it and then dumping it through a
    callback per value was most of audit verify's time).

    The record is parsed by the C scanner alone and dumped, with the event's type, id and
    version, as `chain.content` dumps the event; each transcoded value left as an object
    in that text is then decoded by the mapper's own transcoding and written as
    `integration.dumps` writes it. Whatever this does not cover exactly (a record that is
    not one JSON object, a transcoded value it cannot place, an upcast class, a cipher or
    compressor, no meta or one that is not a mapping) goes through the mapper and
    `chain.content` instead, so the text, and what the chain checks, is the same."""

    def __init__(self, app):
        from json.decoder import JSONDecoder
        from shared.integration import _json_default
        self.mapper = app.mapper
        self.names = getattr(app.mapper.transcoder, "names", {})
        self.plain = not (app.mapper.cipher or app.mapper.compressor) and bool(self.names)
        self.types = {}  # topic -> "module:qualname", or None: through the mapper
        self.scan = JSONDecoder().scan_once
        self.default = _json_default
        # integration.dumps, made once (json.dumps makes an encoder per call).
        self.encode = json.encoder.c_make_encoder(
            None, _json_default, json.encoder.encode_basestring, None, ": ", ", ", True,
            False, True) if json.encoder.c_make_encoder else None

    def of(self, originator_id, version, topic, state):
        """(content text, the link recorded in the event's meta); `state` as bytes or
        as the text they decode to."""
        if self.plain and self.encode:
            try:
                found = self._fast(originator_id, version, topic, state)
            except (ValueError, TypeError, KeyError, StopIteration):
                found = None  # the mapper's own decoding says what is wrong, if anything
            if found is not None:
                return found
        event = self.mapper.to_domain_event(StoredEvent(
            originator_id=originator_id, originator_version=version, topic=topic,
            state=state.encode() if isinstance(state, str) else bytes(state)))
        return chain.content(event), (event.meta or {}).get("hash")

    def _type(self, topic):
        try:
            return self.types[topic]
        except KeyError:
            cls = resolve_topic(topic)
            self.types[topic] = None if getattr(cls, "class_version", 1) != 1 else \
                f"{cls.__module__}:{cls.__qualname__}"
            return self.types[topic]

    def _value(self, match):
        if match.group(2) == "uuid_hex" and _UUID_HEX.fullmatch(match.group(1)):
            h = match.group(1)  # str(UUID(h)), without building it
            return f'"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"'
        return json.encoder.encode_basestring(self._decoded(match.group(2), match.group(1)))

    def _decoded(self, name, data):
        """A transcoded value as `integration.dumps` writes it once decoded: a str."""
        decoded = self.names[name].decode(data)
        text = decoded if isinstance(decoded, str) else self.default(decoded)
        if not isinstance(text, str):
            raise TypeError("a transcoded value not written as a string")
        return text

    def _fast(self, originator_id, version, topic, state):
        kind = self._type(topic)
        if kind is None:
            return None
        if not isinstance(state, str):
            state = bytes(state).decode("utf8")
        fields, end = self.scan(state, 0)
        if end != len(state) or not isinstance(fields, dict) or "meta" not in fields:
            return None
        meta = fields.pop("meta") or {}
        if not isinstance(meta, dict):
            return None
        fields.pop("class_version", None)
        for key, value in fields.items():
            # The event's own values (its timestamp), in place; deeper ones below.
            if type(value) is dict and len(value) == 2 and "_type_" in value \
                    and "_data_" in value and type(value["_data_"]) is str:
                fields[key] = self._decoded(value["_type_"], value["_data_"])
        fields["originator_id"] = str(originator_id)
        fields["originator_version"] = version
        recorded = meta.pop("hash", None)  # the parsed record is ours to change
        text = "".join(self.encode({"type": kind, "fields": fields, "meta": meta}, 0))
        if '"_type_": ' in text:
            text = _TRANSCODED.sub(self._value, text)
            if '"_type_": ' in text:
                return None
        return text, recorded
