"""The RabbitMQ topology: one durable topic exchange for integration events, a durable
quorum inbox per consuming service, and a dead-letter queue per service."""
from kombu import Exchange, Queue, binding

DELIVERY_LIMIT = 5

# What each service consumes. Every service declares all the inboxes when it starts, so an
# event published before its consumer first ran is queued for it, not dropped. Decisions
# is bound to the evaluation's events it reads only (services/decisions/inbound.py
# HANDLED; a unit test holds the two together): a CaseFile.Opened for every filing, which
# it ignores, cost it a delivery, a case loaded and a contract read (issue 14).
INBOXES = {
    "registry": ["external.#"],
    "evaluation": ["registry.Institution.#"],
    "decisions": ["registry.Institution.#", "evaluation.Campaign.Opened",
                  "evaluation.CaseFile.SelfAssessed", "evaluation.CaseFile.Scored",
                  "evaluation.CaseFile.FindingRecorded", "evaluation.CaseFile.FindingWithdrawn",
                  "evaluation.CaseFile.ExcuseAccepted",
                  "evaluation.CaseFile.RectificationSubmitted"],
    "notices": ["registry.Institution.Filed", "registry.Institution.FilingChanged",
                "decisions.Case.Decided"],
}
# Bindings an inbox had before and must not keep: declaring a queue adds its bindings but
# never takes one away, so an inbox declared by an earlier version is unbound from these.
RETIRED = {"decisions": ["evaluation.CaseFile.#", "evaluation.Campaign.#"]}


def events_exchange(config):
    return Exchange(config.exchange, type="topic", durable=True)


def dead_letter_exchange(config):
    return Exchange(f"{config.exchange}.dead", type="direct", durable=True)


def dead_letter_queue(config, service):
    name = f"{service}.dead-letter"
    return Queue(name, exchange=dead_letter_exchange(config), routing_key=name, durable=True)


def inbox_queue(config, service, routing_keys):
    """A quorum queue counts deliveries, so RabbitMQ itself dead-letters a message that
    keeps failing after DELIVERY_LIMIT attempts, whichever instance handled it."""
    exchange = events_exchange(config)
    return Queue(
        f"{service}.inbox",
        bindings=[binding(exchange, routing_key=key) for key in routing_keys],
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": dead_letter_exchange(config).name,
            "x-dead-letter-routing-key": f"{service}.dead-letter",
        },
    )


def declare_exchange(connection, config):
    events_exchange(config)(connection.default_channel).declare()


def declare_topology(connection, config):
    """The exchanges, and every service's inbox and dead-letter queue."""
    declare_exchange(connection, config)
    for service, keys in INBOXES.items():
        declare_dead_letters(connection, config, service)
        queue = inbox_queue(config, service, keys)(connection.default_channel)
        queue.declare()
        for key in RETIRED.get(service, ()):  # a binding that is not there: a no-op
            queue.unbind_from(events_exchange(config), routing_key=key)


def declare_dead_letters(connection, config, service):
    """Declare a consumer's dead-letter queue before its inbox, so nothing dead-lettered
    is dropped for want of a queue."""
    channel = connection.default_channel
    dead_letter_exchange(config)(channel).declare()
    dead_letter_queue(config, service)(channel).declare()


# Integration events travel as `application/cloudevents+json`, or several of one type as
# `application/cloudevents-batch+json` (a JSON array). The decoder never raises:
# an undecodable body becomes a marker that the consumer dead-letters instead of crashing
# the consumer loop.
def _loads(data):
    import json
    try:
        return json.loads(data)
    except ValueError:
        return {"__undecodable__": data if isinstance(data, str) else repr(data)}


def _register_serializer():
    import json
    from kombu.serialization import register
    register("cloudevents", json.dumps, _loads,
             content_type="application/cloudevents+json", content_encoding="utf-8")
    register("cloudevents-batch", json.dumps, _loads,
             content_type="application/cloudevents-batch+json", content_encoding="utf-8")


_register_serializer()
ACCEPT = ["json", "cloudevents", "cloudevents-batch"]
