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
                if self.meta.get("fact"):
                    aggregate.__dict__.setdefault("_fact_versions", {})[self.meta["fact"]] = \
                        self.meta.get("upstream_version")
            return aggregate

    class Created(Event, Aggregate.Created):
        pass

    @staticmethod
    def create_id(uscc=None, **_):
        """An institution's aggregate has the case's id, the same in every service."""
        import uuid
        from shared.application import case_id
        return case_id(uscc) if uscc else uuid.uuid4()

    def is_newer(self, key, upstream_version):
        """Whether an upstream event about fact `key` is newer than the one applied last.

        Messages can overtake each other (concurrent workers, retries, a re-driven
        dead letter); the latest version of each fact wins, and an older one that arrives
        late changes nothing."""
        if upstream_version is None:
            return True
        seen = self.__dict__.get("_fact_versions", {}).get(key)
        return seen is None or upstream_version > seen

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


def ordered_per_case(cls):
    """Class decorator for the aggregate of a case (its id is the case's): its events need
    keep their order only with the same case's events (events.md, Delivery guarantees),
    so the outbox may put one in a batch of its type opened before other cases' events.
    The events of any other aggregate (a campaign, an operator, a notice) keep their
    place: a later event may depend on them."""
    from eventsourcing.domain import DomainEvent
    for value in vars(cls).values():
        if isinstance(value, type) and issubclass(value, DomainEvent) and \
                value.__qualname__.startswith(f"{cls.__name__}."):
            value.case_ordered = True
    return cls

