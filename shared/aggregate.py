"""The base of every service's aggregates: each event carries its cause (shared.metadata)
and a link of its stream's hash chain (shared.chain), so a row altered or deleted directly
in the database is found by `pinggu audit verify`."""
from typing import Any

from eventsourcing.domain import Aggregate

from shared import chain, metadata


class CaseAggregate(Aggregate):
    """An aggregate whose events record who and what caused them, chained by hash."""

    class Event(Aggregate.Event):
        meta: dict

        def mutate(self, aggregate):
            aggregate = super().mutate(aggregate)
            if aggregate is not None:
                aggregate._chain_head = self.meta.get("hash", "")
            return aggregate

    class Created(Event, Aggregate.Created):
        pass

    @staticmethod
    def create_id(uscc=None, **_):
        """An institution's aggregate has the case's id, the same in every service."""
        import uuid
        from shared.application import case_id
        return case_id(uscc) if uscc else uuid.uuid4()

    @classmethod
    def _create(cls, event_class, *, id=None, **kwargs: Any):
        kwargs.setdefault("meta", metadata.current())
        aggregate = super()._create(event_class, id=id, **kwargs)
        aggregate._link(chain.GENESIS)
        return aggregate

    def trigger_event(self, event_class, **kwargs: Any) -> None:
        kwargs.setdefault("meta", metadata.current())
        previous = getattr(self, "_chain_head", chain.GENESIS)
        super().trigger_event(event_class, **kwargs)
        self._link(previous)

    def _link(self, previous):
        # The event is frozen but its meta dict is not: the hash is set once, before the
        # event is stored, and covers everything else the event holds.
        new_event = self._pending_events[-1]
        new_event.meta["hash"] = chain.link(previous, new_event)
        self._chain_head = new_event.meta["hash"]
