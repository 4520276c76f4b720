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


def _relinked(events, link):
    """The stream with its second event edited and every link after it recomputed."""
    import hashlib  # noqa: F401 - the attacker's tool
    edited = [events[0], dataclasses.replace(events[1], name="forged"), *events[2:]]
    previous = edited[0].meta["hash"]
    result = [edited[0]]
    for e in edited[1:]:
        e = dataclasses.replace(e, meta={**e.meta, "hash": link(previous, e)})
        result.append(e)
        previous = e.meta["hash"]
    return result


def test_an_edited_event_with_recomputed_links_fails_without_the_key():
    import hashlib
    import hmac
    app = make_store()
    with caused_by("tester", "system"):
        thing = Thing("a", 1.5, [])
        thing.rename("b")
        thing.rename("c")
        app.save(thing)
    events = list(app.events.get(thing.id))
    assert events[0].meta["hash"].startswith("dev:")

    def unkeyed(previous, e):  # the chain as it was before the key (issue 10)
        return hashlib.sha256((previous + "\n" + chain.content(e)).encode()).hexdigest()

    def other_key(previous, e):  # a guessed key under the real key id
        return "dev:" + hmac.new(b"guess", (previous + "\n" + chain.content(e)).encode(),
                                 hashlib.sha256).hexdigest()
    for forge in (unkeyed, other_key):
        assert chain.verify_stream(_relinked(events, forge))[0] == 2
    # Whoever holds the key could; which is why it lives outside the database.
    assert chain.verify_stream(_relinked(events, chain.link)) is None


def test_a_rotated_key_still_verifies_what_it_linked():
    from shared import config
    app = make_store()
    try:
        with caused_by("tester", "system"):
            thing = Thing("a", 1.5, [])
            app.save(thing)
            chain.configure({"k2": b"new" * 11, "dev": config.DEV_HISTORY_KEY}, "k2")
            thing.rename("b")
            app.save(thing)
        events = list(app.events.get(thing.id))
        assert [e.meta["hash"].split(":")[0] for e in events] == ["dev", "k2"]
        assert chain.verify_stream(events) is None
        chain.configure({"k2": b"new" * 11}, "k2")  # the old key dropped: no longer verifies
        assert chain.verify_stream(events) == (1, "hash does not match the event's content")
    finally:
        chain.configure({"dev": config.DEV_HISTORY_KEY}, "dev")


def test_the_links_content_is_the_canonical_json_of_every_field_but_the_link():
    """Issue 14 writes the identity and time ready for dumps: the text must not change,
    or history linked before would no longer verify."""
    from shared.integration import dumps
    app = make_store()
    with caused_by("tester", "system"):
        thing = Thing("a", 1.5, ["x"])
        thing.rename("b")
        app.save(thing)
    for e in app.events.get(thing.id):
        fields = {k: v for k, v in e.__dict__.items() if k != "meta"}
        assert chain.content(e) == dumps({
            "type": f"{type(e).__module__}:{type(e).__qualname__}", "fields": fields,
            "meta": {k: v for k, v in e.meta.items() if k != "hash"}})
        assert '"originator_id": "' in chain.content(e)
