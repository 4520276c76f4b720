"""Integration events: a service's committed domain events as CloudEvents 1.0 JSON.

The type of each event is versioned (`pinggu.<service>.<Aggregate>.<Event>.v<N>`) and its data
is built through the type's contract (shared/contracts), whose JSON Schema is published at
`dataschema` (docs/schemas/, served by the portal at /schemas/<type>.json); docs/events.md
says what each field means.

One AMQP message carries one CloudEvent (structured mode, `application/cloudevents+json`)
or, when a service's outbox has several events of the same type in a row, all of them as one
JSON array (batched mode, `application/cloudevents-batch+json`): the broker then routes,
stores and confirms one message for up to BATCH_EVENTS events (issue 14). A consumer reads
both; `unpack` gives the envelopes of either.

`sequence` is the event's position in its service's log, zero-padded to SEQUENCE_DIGITS so
that it orders as text as it does as a number (the CloudEvents sequence extension compares
strings); `parse` still accepts any decimal string or number, as external publishers send.
"""
import datetime
import decimal
import json
import uuid

from shared import contracts

SPECVERSION = "1.0"
TYPE_PREFIX = "pinggu"
EVENT_NAMESPACE = uuid.UUID("6f1f2a5e-2023-4223-9a1e-0000000000e7")
SEQUENCE_DIGITS = 20  # a bigint's positions, 19 digits, and one to spare
CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
# Events in one batched message at most: a consumer's prefetch holds a bounded amount.
BATCH_EVENTS = 100


class PoisonMessage(Exception):
    """A message no retry can ever process: it goes to the dead-letter queue at once."""


def event_id(service, originator_id, originator_version):
    """Deterministic, so a re-published event carries the id it had the first time."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{service}/{originator_id}/{originator_version}"))


def event_name(domain_event):
    return type(domain_event).__qualname__  # e.g. "Institution.Filed"


def routing_key_of(kind):
    """'pinggu.registry.Institution.Filed.v1' -> 'registry.Institution.Filed'."""
    return kind.split(".", 1)[1].rsplit(".", 1)[0]


def _json_default(obj):
    if isinstance(obj, (datetime.date, datetime.datetime)):
        return obj.isoformat()
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        import base64
        return base64.b64encode(obj).decode()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(obj):
    return json.dumps(obj, default=_json_default, ensure_ascii=False, sort_keys=True)


def _envelope(service, position, domain_event):
    meta = getattr(domain_event, "meta", {}) or {}
    name = event_name(domain_event)
    version = getattr(type(domain_event), "schema_version", 1)
    kind = f"{TYPE_PREFIX}.{service}.{name}.v{version}"
    data = contracts.data_of(kind, domain_event)
    envelope = {
        "specversion": SPECVERSION,
        "id": event_id(service, domain_event.originator_id, domain_event.originator_version),
        "source": f"/pinggu/{service}",
        "type": kind,
        "subject": str(domain_event.originator_id),
        "time": domain_event.timestamp.isoformat(),
        "datacontenttype": "application/json",
        "dataschema": contracts.schema_url(kind),
        # Extensions (lower-case alphanumerics, per the spec).
        "sequence": format_sequence(position),
        "caseid": str(domain_event.originator_id),
        "caseversion": domain_event.originator_version,
        "actor": meta.get("actor"),
        "actorrole": meta.get("role"),
        "causationid": meta.get("causation_id"),
        "campaign": meta.get("campaign"),
        "businessdate": meta.get("business_date"),
        "data": data,
    }
    return envelope


def to_cloudevent(service, position, domain_event):
    """The CloudEvent of a committed domain event, as a consumer reads it (JSON types)."""
    return json.loads(dumps(_envelope(service, position, domain_event)))


def cloudevent_message(service, position, domain_event):
    """(id, type, JSON text) of the CloudEvent, serialised once for the outbox."""
    envelope = _envelope(service, position, domain_event)
    return envelope["id"], envelope["type"], dumps(envelope)


def batch_body(texts):
    """The batched-mode body of several serialised CloudEvents: a JSON array of them."""
    return "[" + ",".join(texts) + "]"


def unpack(body):
    """The CloudEvents a message body carries: a list of one (structured mode) or of many
    (batched mode), each still to be checked by `parse`. PoisonMessage if the body is
    neither a JSON object nor a non-empty JSON array."""
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise PoisonMessage(f"not JSON: {exc}")
    if isinstance(body, list):
        if not body:
            raise PoisonMessage("an empty batch")
        return body
    return [body]


def format_sequence(position):
    return f"{int(position):0{SEQUENCE_DIGITS}d}"


def parse(body):
    """Check an incoming message is a CloudEvent we can process; PoisonMessage if not."""
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise PoisonMessage(f"not JSON: {exc}")
    if not isinstance(body, dict):
        raise PoisonMessage("not a JSON object")
    for field in ("specversion", "id", "source", "type", "sequence", "data"):
        if field not in body:
            raise PoisonMessage(f"missing CloudEvents attribute {field!r}")
    if body["specversion"] != SPECVERSION:
        raise PoisonMessage(f"unsupported specversion {body['specversion']!r}")
    try:
        int(body["sequence"])
    except (TypeError, ValueError):
        raise PoisonMessage(f"sequence is not a position: {body['sequence']!r}")
    if not isinstance(body["data"], dict):
        raise PoisonMessage("data is not an object")
    if not isinstance(body["source"], str) or not isinstance(body["type"], str):
        raise PoisonMessage("source and type must be strings")
    return body


def check_origin(envelope, routing_key):
    """A message claims to come from a pinggu service only on that service's routing keys
    and types; other systems publish on `external.` keys under their own sources. So no
    outside publisher can pass for a service, nor spend a service's positions, which the
    consumers' exactly-once tracking trusts. (Broker topic permissions should keep other
    systems to `external.*` as well.)"""
    source, kind = envelope["source"], envelope["type"]
    if source.startswith("/pinggu/"):
        service = source.split("/")[2]
        if not (routing_key.startswith(f"{service}.") and kind.startswith(f"pinggu.{service}.")):
            raise PoisonMessage(f"{source} may not publish {kind} on {routing_key}")
    elif not (routing_key.startswith("external.") and kind.startswith("pinggu.external.")):
        raise PoisonMessage(f"{source} may only publish pinggu.external.* on external.* keys")


def check_publisher(envelope, routing_key, user_id, config):
    """The broker vouches for `user_id` (it refuses a message whose user_id is not the
    publishing connection's user); the publisher must own what the message claims: a
    service its own routing keys and source, an HR system `external.` keys only. A message
    without a user_id (or of an account not of this deployment) is refused too."""
    owner = config.owner_of(user_id)
    if owner is None:
        raise PoisonMessage(f"published by {user_id or 'an unnamed user'}, not a pinggu "
                            "account: refused")
    claimed = envelope["source"].split("/")[2] if envelope["source"].startswith("/pinggu/") \
        else "external"
    allowed = "external" if owner.startswith("hr-") else owner
    if claimed != allowed or not routing_key.startswith(f"{allowed}."):
        raise PoisonMessage(f"{user_id} may not publish {envelope['type']} on {routing_key}")


def typed(envelope):
    """The envelope's data read through its type's contract (shared/contracts), or None for
    a type without one (ignored, as consumers ignore what they do not know). Data that does
    not fit is a PoisonMessage naming the field: no retry can make it fit."""
    try:
        return contracts.read(envelope)
    except contracts.ContractError as exc:
        raise PoisonMessage(f"{envelope['type']}: {exc}")


def position_of(envelope):
    return int(envelope["sequence"])


def short_type(envelope):
    """'pinggu.registry.Institution.Filed.v1' -> 'registry.Institution.Filed'."""
    return routing_key_of(envelope["type"])
