"""The AsyncAPI 3.0 document of the bus (docs/asyncapi.yaml), built from the contracts and
the topology: the topic exchange pinggu.events with one channel per routing key, the
services' inboxes, and the replayable stream integrators read from (docs/integration.md).
"""
import json
import re

from shared import contracts, integration
from shared.bus import INBOXES

EXCHANGE = "pinggu.events"
STREAM = "pinggu.events.log"
ENVELOPE_REQUIRED = ["specversion", "id", "source", "type", "sequence", "data"]


def _message_name(type_name):
    return type_name.removeprefix("pinggu.").replace(".", "_")


def _channel_name(routing_key):
    return routing_key.replace(".", "_")


def _message(type_name, contract):
    external = type_name.startswith("pinggu.external.")
    sequence = {"type": ["string", "integer"],
                "description": "the position in the source's log; pinggu's own events "
                               "zero-pad it to 20 digits so it orders as text"}
    event = {
        "type": "object",
        "required": ENVELOPE_REQUIRED,
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string"},
            "source": {"type": "string"} if external else {
                "const": f"/pinggu/{type_name.split('.')[1]}"},
            "type": {"const": type_name},
            "sequence": sequence,
            "dataschema": {"const": contracts.schema_url(type_name)},
            "data": {"$ref": f"./schemas/{type_name}.json"},
        },
    }
    return {
        "name": type_name,
        "title": type_name,
        "summary": contract.SUMMARY,
        "contentType": "application/cloudevents+json",
        "payload": {
            "description": "content type application/cloudevents+json: one CloudEvent; "
                           "application/cloudevents-batch+json: a JSON array of up to "
                           f"{integration.BATCH_EVENTS} of them, all of this type, in the "
                           "log's order",
            "oneOf": [event, {"type": "array", "items": event, "minItems": 1,
                              "maxItems": integration.BATCH_EVENTS}],
        },
        "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": type_name,
                              "bindingVersion": "0.3.0"}},
    }


def document():
    exchange = {"name": EXCHANGE, "type": "topic", "durable": True, "autoDelete": False,
                "vhost": "/"}
    channels, operations, messages = {}, {}, {}
    for type_name, contract in contracts.all_events().items():
        message = _message_name(type_name)
        messages[message] = _message(type_name, contract)
        channel = _channel_name(contract.ROUTING_KEY)
        channels[channel] = {
            "address": contract.ROUTING_KEY,
            "description": f"Routing key {contract.ROUTING_KEY} on the exchange {EXCHANGE}.",
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": exchange,
                                  "bindingVersion": "0.3.0"}},
        }
        external = type_name.startswith("pinggu.external.")
        operations[f"{'publishExternal' if external else 'publish'}_{message}"] = {
            "action": "receive" if external else "send",
            "summary": ("Another HR system publishes it (as its hr-* account); the registry "
                        "consumes it from registry.inbox." if external else
                        f"Published by the {type_name.split('.')[1]} service's outbox."),
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}],
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": "0.3.0"}},
        }
    for service, keys in INBOXES.items():
        channels[f"{service}_inbox"] = {
            "address": f"{service}.inbox",
            "description": f"The {service} service's inbox (quorum queue, delivery limit 5, "
                           f"dead letters to {service}.dead-letter), bound to "
                           + ", ".join(keys) + ".",
            "bindings": {"amqp": {"is": "queue", "queue": {
                "name": f"{service}.inbox", "durable": True, "exclusive": False,
                "autoDelete": False, "vhost": "/"}, "bindingVersion": "0.3.0"}},
        }
    channels["stream"] = {
        "address": STREAM,
        "description": "The replayable log: a stream queue (x-queue-type stream) bound to "
                       f"{EXCHANGE} with '#', holding every event for its retention "
                       "(PINGGU_STREAM_MAX_AGE, PINGGU_STREAM_MAX_BYTES). hr-* accounts may "
                       "read it from any offset (x-stream-offset: first, a number, a time).",
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
        "bindings": {"amqp": {"is": "queue", "queue": {
            "name": STREAM, "durable": True, "exclusive": False, "autoDelete": False,
            "vhost": "/"}, "bindingVersion": "0.3.0"}},
    }
    operations["readStream"] = {
        "action": "receive",
        "summary": "An integrator reads the whole history (docs/integration.md).",
        "channel": {"$ref": "#/channels/stream"},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "pinggu integration events",
            "version": "1.1.0",
            "description": "The events pinggu publishes on RabbitMQ and the facts it consumes "
                           "from other provincial HR systems. A message is one CloudEvent 1.0 in "
                           "structured JSON mode, or several of one type as a JSON array "
                           "(batched mode, application/cloudevents-batch+json); each "
                           "event's data is described by the JSON "
                           "Schema at its dataschema (docs/schemas/). Generated by "
                           "`python -m shared.contracts.generate`: do not edit.",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {"broker": {"host": "127.0.0.1:5672", "protocol": "amqp",
                               "protocolVersion": "0.9.1",
                               "description": "PINGGU_AMQP_URI of the deployment"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render():
    """YAML (block style) of the document; scalars are JSON-quoted, which YAML reads."""
    lines = ["# Generated by `python -m shared.contracts.generate` from shared/contracts: "
             "do not edit."]
    _emit(document(), 0, lines)
    return "\n".join(lines) + "\n"


def _scalar(value):
    return json.dumps(value, ensure_ascii=False)


def _key(key):
    return key if re.fullmatch(r"\$?[A-Za-z_][A-Za-z0-9_]*", key) else _scalar(key)


def _emit(value, indent, lines):
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_key(key)}:")
                _emit(item, indent + 1, lines)
            else:
                lines.append(f"{pad}{_key(key)}: {_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub = []
                _emit(item, indent + 1, sub)
                lines.append(f"{pad}- {sub[0].strip()}")
                lines.extend(sub[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
