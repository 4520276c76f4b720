"""The registry's answer to a refused external fact (issue 12): the message still goes to
the dead-letter queue, and a `Refusal.Recorded` event, published on the bus and kept in
the replayable log, tells its publisher why, under its own CloudEvents `source`."""
import uuid

from eventsourcing.domain import event

from shared.aggregate import CaseAggregate

REFUSAL_NAMESPACE = uuid.UUID("6f1f2a5e-2023-4223-9a1e-0000000000de")


def refusal_id(source, message_id):
    """One refusal per refused message: a redelivery of it meets the first."""
    return uuid.uuid5(REFUSAL_NAMESPACE, f"{source}\n{message_id}")


class Refusal(CaseAggregate):
    @staticmethod
    def create_id(source, refused_id, **_):
        return refusal_id(source, refused_id)

    @event("Recorded")
    def __init__(self, source: str, refused_id: str, refused_type: str, sequence: str,
                 reason: str):
        self.reason = reason
