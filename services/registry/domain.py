"""The registry's aggregate: one institution's filing (备案)."""
from eventsourcing.domain import event

from shared.aggregate import CaseAggregate, ordered_per_case
from shared.application import case_id


@ordered_per_case
class Institution(CaseAggregate):
    """A filed institution. `filing` is the roster row as JSON-safe data (RosterRow.to_dict)."""

    @staticmethod
    def create_id(filing):
        return case_id(filing["uscc"])

    @event("Filed")
    def __init__(self, filing: dict):
        self.filing = filing
        self.legal_status = None
        self.activity = {}

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

    # -- facts from other provincial HR systems ----------------------------------------
    def report_legal_status(self, status, legal_valid_until, reported_on, source):
        current = self.legal_status
        # The report date too: a newer report of the same status is what later, older
        # reports are ordered against (facts.supersedes).
        new = {"status": status, "legal_valid_until": legal_valid_until,
               "reported_on": reported_on}
        if current and {k: current[k] for k in new} == new:
            return False
        self._legal_status_reported(uscc=self.uscc, status=status,
                                    legal_valid_until=legal_valid_until,
                                    reported_on=reported_on, source=source)
        return True

    @event("LegalStatusReported")
    def _legal_status_reported(self, uscc: str, status: str, legal_valid_until,
                               reported_on: str, source: str):
        self.legal_status = {"status": status, "legal_valid_until": legal_valid_until,
                             "reported_on": reported_on, "source": source}

    def report_activity(self, year, rows, source, reported_on=None):
        if self.activity.get(str(year)) == rows and \
                self.activity_reported_on(year) == reported_on:
            return False
        self._activity_reported(uscc=self.uscc, year=year, rows=rows, source=source,
                                reported_on=reported_on)
        return True

    def activity_reported_on(self, year):
        """The report date of the year's recorded activity (None: a file, or not given)."""
        return self.__dict__.get("_activity_dates", {}).get(str(year))

    @event("ActivityReported")
    def _activity_reported(self, uscc: str, year: int, rows: list, source: str,
                           reported_on: str = None):
        self.activity[str(year)] = rows
        self.__dict__.setdefault("_activity_dates", {})[str(year)] = reported_on
