"""audit verify computes each link's content from the stored record (issue 14): the text
must be the one `chain.content` gives for the event the mapper decodes, or history would
verify differently; records it cannot read itself go through the mapper."""
import datetime
import decimal
import uuid

import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import StoredEvent

from shared import audit, chain
from shared.aggregate import CaseAggregate
from shared.application import ServiceApplication
from shared.metadata import caused_by


class Thing(CaseAggregate):
    @event("Made")
    def __init__(self, name: str, amount: decimal.Decimal, on: datetime.date,
                 at: datetime.datetime, ref: uuid.UUID, blob: bytes, nested: dict,
                 ratio: float, tags: list):
        self.name = name

    @event("Renamed")
    def rename(self, name: str, note=None):
        self.name = name


class Store(ServiceApplication):
    name = "things"


def _stored():
    app = Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with caused_by("tester", "system", business_date=datetime.date(2023, 8, 28)):
        thing = Thing("太原\"技师\"学院\n", decimal.Decimal("85.50"), datetime.date(2023, 8, 28),
                      datetime.datetime(2023, 8, 28, 9, 30, tzinfo=datetime.timezone.utc),
                      uuid.UUID("6f1f2a5e-2023-4223-9a1e-0000000000e7"), b"\x00\xffab",
                      {"due": datetime.date(2023, 12, 31), "ids": [uuid.uuid4()],
                       "score": decimal.Decimal("1E+2"), "deep": {"k": [None, True, 1e16]}},
                      0.1, ["x", ("a", 1)])
        thing.rename("b", note={"_type_": "not a value", "n": 1})
        app.save(thing)
    return app, list(app.recorder.select_events(thing.id))


def _expected(app, stored):
    e = app.mapper.to_domain_event(stored)
    return chain.content(e), (e.meta or {}).get("hash")


def _with_state(stored, state):
    return StoredEvent(originator_id=stored.originator_id,
                       originator_version=stored.originator_version, topic=stored.topic,
                       state=state)


def test_the_content_is_the_mappers_and_read_without_it():
    app, records = _stored()
    contents = audit.StoredContents(app)
    for stored in records:
        args = (stored.originator_id, stored.originator_version, stored.topic)
        # Read without the mapper, unless a "_type_" is left that is not a value.
        assert (contents._fast(*args, stored.state) is None) == (b'"not a value"' in
                                                                 stored.state)
        assert contents.of(*args, stored.state) == _expected(app, stored)
        # As the database gives it: the id as text, the record as text.
        assert contents.of(str(stored.originator_id), *args[1:],
                           stored.state.decode()) == _expected(app, stored)
    assert chain.verify_stream([app.mapper.to_domain_event(s) for s in records]) is None


@pytest.mark.parametrize("edit", [
    lambda s: s.replace(b'"meta":', b'"mete":'),                # no meta: the mapper's error
    lambda s: b" " + s + b"\n",                                 # not compact
    lambda s: s.replace(b'{"_type_":"datetime_iso","_data_":"2023-08-28T09:30:00+00:00"}',
                        b'{"_data_":"2023-08-28T09:30:00+00:00","_type_":"datetime_iso"}'),
    lambda s: s.replace(b'"_data_":"85.50"}', b'"_data_":"85.5\\u0030"}'),  # escaped data
    lambda s: s.replace(b'"name":', b'"_type_":"x","_data_":{"a":1},"name":'),
    lambda s: s.replace(b'"meta":{', b'"meta":null,"old_meta":{'),
])
def test_records_it_does_not_read_itself_give_the_mappers_content(edit):
    app, records = _stored()
    contents = audit.StoredContents(app)
    stored = _with_state(records[0], edit(records[0].state))
    assert stored.state != records[0].state
    args = (stored.originator_id, stored.originator_version, stored.topic)
    try:
        expected = _expected(app, stored)
    except Exception as exc:  # noqa: BLE001 - whatever the mapper raises, so does audit
        with pytest.raises(type(exc)):
            contents.of(*args, stored.state)
    else:
        assert contents.of(*args, stored.state) == expected


@pytest.mark.parametrize("state", [b'{"meta":{},"at":{"_type_":"nope","_data_":"x"}}',
                                   b'{"meta":{}', b'\xff{}', b'[1]'])
def test_an_unreadable_record_fails_as_the_mapper_fails(state):
    app, records = _stored()
    stored = _with_state(records[0], state)
    with pytest.raises(Exception) as mapper:
        _expected(app, stored)
    with pytest.raises(mapper.type):
        audit.StoredContents(app).of(stored.originator_id, stored.originator_version,
                                     stored.topic, stored.state)


def test_an_altered_value_no_longer_matches_its_link():
    app, records = _stored()
    contents = audit.StoredContents(app)
    stored = records[0]
    altered = _with_state(stored, stored.state.replace(b'"85.50"', b'"95.50"'))
    text, recorded = contents.of(altered.originator_id, 1, altered.topic, altered.state)
    assert not chain.matches_text(chain.GENESIS, text, recorded)
    text, recorded = contents.of(stored.originator_id, 1, stored.topic, stored.state)
    assert chain.matches_text(chain.GENESIS, text, recorded)
