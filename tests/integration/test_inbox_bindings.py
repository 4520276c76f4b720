"""The decisions' inbox gets only the evaluation's events it reads (issue 14), also where
the inbox was declared by an earlier version with the wildcard bindings."""
import json

from kombu import Connection

from shared import bus


def waiting(config, service):
    with Connection(config.amqp_uri_for(service)) as connection:
        queue = bus.inbox_queue(config, service, [])(connection.default_channel)
        return queue.queue_declare(passive=True).message_count


def publish(cluster, routing_key):
    cluster.publish("evaluation", routing_key, json.dumps({"type": routing_key}))


def test_an_inbox_bound_before_is_unbound_from_what_decisions_does_not_read(environment):
    config, cluster = environment
    with Connection(config.amqp_uri_for("decisions")) as connection:
        # As an earlier version declared it.
        bus.inbox_queue(config, "decisions", ["evaluation.CaseFile.#", "evaluation.Campaign.#"])(
            connection.default_channel).declare()
        publish(cluster, "evaluation.CaseFile.Opened")
        assert waiting(config, "decisions") == 1
        connection.default_channel.queue_purge("decisions.inbox")
        bus.declare_topology(connection, config)
    publish(cluster, "evaluation.CaseFile.Opened")
    publish(cluster, "evaluation.Campaign.RubricChanged")
    assert waiting(config, "decisions") == 0
    publish(cluster, "evaluation.CaseFile.Scored")
    publish(cluster, "evaluation.Campaign.Opened")
    assert waiting(config, "decisions") == 2
    with Connection(config.amqp_uri_for("decisions")) as connection:
        connection.default_channel.queue_purge("decisions.inbox")
