"""The base of every service's aggregates: each event carries its cause (shared.metadata)."""
from typing import Any

from eventsourcing.domain import Aggregate


class CaseAggregate(Aggregate):
    """An aggregate whose events record who and what caused them."""

    class Event(Aggregate.Event):
        meta: dict

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def _create(cls, event_class, *, id=None, **kwargs: Any):
        from shared import metadata
        kwargs.setdefault("meta", metadata.current())
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class, **kwargs: Any) -> None:
        from shared import metadata
        kwargs.setdefault("meta", metadata.current())
        super().trigger_event(event_class, **kwargs)
