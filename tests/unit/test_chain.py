"""The hash chain survives the round trip through the event store, and finds tampering."""
import dataclasses

from eventsourcing.domain import event

from shared import chain
from shared.aggregate import CaseAggregate
from shared.application import ServiceApplication
from shared.metadata import caused_by


class Thing(CaseAggregate):
    @event("Made")
    def __init__(self, name: str, amount: float, tags: list):
        self.name = name

    @event("Renamed")
    def rename(self, name: str):
        self.name = name


class Store(ServiceApplication):
    name = "things"


def make_store():
    return Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_events_read_back_from_the_store_verify():
    app = make_store()
    with caused_by("tester", "system"):
        thing = Thing("a", 1.5, ["x", "y"])
        thing.rename("b")
        thing.rename("c")
        app.save(thing)
        again = app.repository.get(thing.id)
        again.rename("d")  # continues the chain from the stored head
        app.save(again)
    events = list(app.events.get(thing.id))
    assert [e.meta["hash"] != "" for e in events] == [True] * 4
    assert chain.verify_stream(events) is None


def test_an_altered_or_missing_event_is_found():
    app = make_store()
    with caused_by("tester", "system"):
        thing = Thing("a", 1.5, [])
        thing.rename("b")
        thing.rename("c")
        app.save(thing)
    events = list(app.events.get(thing.id))
    altered = dataclasses.replace(events[1], name="forged")
    assert chain.verify_stream([events[0], altered, events[2]]) == (
        2, "hash does not match the event's content")
    assert chain.verify_stream([events[0], events[2]])[0] == 3
