"""The registry's aggregate: one institution's filing (备案)."""
from eventsourcing.domain import event

from shared.aggregate import CaseAggregate
from shared.application import case_id


class Institution(CaseAggregate):
    """A filed institution. `filing` is the roster row as JSON-safe data (RosterRow.to_dict)."""

    @staticmethod
    def create_id(filing):
        return case_id(filing["uscc"])

    @event("Filed")
    def __init__(self, filing: dict):
        self.filing = filing

    def update_filing(self, filing):
        """Record what changed in the filing; nothing when the row is the same."""
        changes = {key: [self.filing.get(key), value] for key, value in filing.items()
                   if self.filing.get(key) != value}
        if changes:
            self._change_filing(filing=filing, changes=changes)
        return changes

    @event("FilingChanged")
    def _change_filing(self, filing: dict, changes: dict):
        self.filing = filing

    @property
    def uscc(self):
        return self.filing["uscc"]
