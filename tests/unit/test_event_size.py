"""No event larger than MAX_EVENT_BYTES is committed (issue 13): a 700 MB report became an
event over RabbitMQ's 128 MB message limit, which the outbox would retry forever."""
import pytest
from eventsourcing.domain import event

from shared import application
from shared.aggregate import CaseAggregate
from shared.application import ServiceApplication
from shared.errors import BadInput
from shared.metadata import caused_by


class Report(CaseAggregate):
    @event("Submitted")
    def __init__(self, text: str):
        self.text = text


class Store(ServiceApplication):
    name = "reports"


def test_an_event_over_the_limit_is_refused_before_commit(monkeypatch):
    monkeypatch.setattr(application, "MAX_EVENT_BYTES", 10_000)
    app = Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with caused_by("tester", "system"):
        small = Report("整改" * 100)
        app.save(small)
        big = Report("整改" * 10_000)
        with pytest.raises(BadInput, match="more than the limit"):
            app.save(big)
    assert app.repository.get(small.id).text == small.text
    assert app.recorder.max_notification_id() == 1  # nothing of the big one recorded
