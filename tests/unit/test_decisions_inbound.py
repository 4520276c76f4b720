"""The decisions' inbox is bound to the upstream events it reads and no others (issue 14:
evaluation's CaseFile.Opened, one for every filing, was delivered to it and ignored)."""
import datetime

from shared import bus, contracts
from shared.metadata import caused_by
from services.decisions.application import Decisions
from services.decisions.inbound import HANDLED

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def routed(pattern, key):
    """Whether a topic binding `pattern` routes `key` (RabbitMQ: `*` one word, `#` any)."""
    def match(p, k):
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and p[0] in ("*", k[0]) and match(p[1:], k[1:])
    return match(pattern.split("."), key.split("."))


def bound(service, contract):
    return any(routed(p, contract.ROUTING_KEY) for p in bus.INBOXES[service])


def test_the_routing_helper_routes_as_rabbitmq_does():
    assert routed("registry.Institution.#", "registry.Institution.Filed")
    assert routed("a.*.c", "a.b.c") and not routed("a.*.c", "a.c")
    assert not routed("evaluation.CaseFile.Scored", "evaluation.CaseFile.Opened")


def test_decisions_is_bound_to_exactly_the_upstream_events_it_reads():
    delivered = {c for c in contracts.all_events().values() if bound("decisions", c)}
    assert delivered == set(HANDLED)


def test_a_type_decisions_does_not_read_is_ignored_before_its_data_is_read():
    """As an inbox bound before issue 14 still delivers them: not read (here the data
    would not even fit its contract, which would dead-letter it) and not recorded."""
    app = Decisions(env=MEMORY)
    envelope = {"specversion": "1.0", "id": "x", "source": "/pinggu/evaluation",
                "type": "pinggu.evaluation.CaseFile.Opened.v1", "sequence": "7",
                "data": {"not": "a case file"}}
    with caused_by("system", "system"):
        assert app.on_upstream(envelope, datetime.date(2023, 9, 1)) is False
    assert app.recorder.max_notification_id() in (None, 0)
