"""The notices' aggregate: what the publications will say of one case."""
from eventsourcing.domain import event

from shared.aggregate import CaseAggregate
from shared.application import case_id


class Entry(CaseAggregate):
    """One case as the publications list it: the latest verdict received from decisions."""

    @staticmethod
    def create_id(uscc):
        return case_id(uscc)

    @event("Opened")
    def __init__(self, uscc: str):
        self.uscc = uscc
        self.verdict = None

    @event("VerdictReceived")
    def receive_verdict(self, verdict: dict, source_event: str):
        self.verdict = verdict
