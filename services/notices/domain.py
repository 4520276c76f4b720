"""The notices' aggregates: each case as the publications list it, and each notice.

A notice, once published, is never changed: its rendered page, data and attachment are
in its own event. A correction is a new notice that names the one it corrects.
"""
import uuid

from eventsourcing.domain import event

from shared.aggregate import CaseAggregate, ordered_per_case


@ordered_per_case
class Entry(CaseAggregate):
    """One institution as the publications list it."""

    @event("Opened")
    def __init__(self, uscc: str):
        self.uscc = uscc
        self.filing = None
        self.verdict = None
        self.published_in = []

    # Each event carries the publication row it results in, so the read table is a plain
    # upsert of the latest row.
    def receive_filing(self, filing, source_event):
        self._filing_received(filing=filing, source_event=source_event,
                              row=row_of(self.uscc, filing, self.verdict))

    @event("FilingReceived")
    def _filing_received(self, filing: dict, source_event: str, row):
        self.filing = filing

    def receive_verdict(self, verdict, source_event):
        self._verdict_received(verdict=verdict, source_event=source_event,
                               row=row_of(self.uscc, self.filing, verdict))

    @event("VerdictReceived")
    def _verdict_received(self, verdict: dict, source_event: str, row):
        self.verdict = verdict

    def publish(self, notice_id, number, entry):
        self._published(uscc=self.uscc, notice_id=notice_id, number=number, entry=entry)

    @event("PublishedInNotice")
    def _published(self, uscc: str, notice_id: str, number: str, entry: dict):
        self.published_in.append({"notice_id": notice_id, "number": number, "entry": entry})

    def entry(self):
        return row_of(self.uscc, self.filing, self.verdict)

    def to_dict(self):
        return {"uscc": self.uscc, "entry": self.entry(),
                "published_in": [{k: p[k] for k in ("notice_id", "number")}
                                 for p in self.published_in]}


def row_of(uscc, filing, verdict):
    """The case as a publication row, or None until both filing and a verdict are known
    (a withdrawn verdict, class None, leaves the case open again)."""
    if verdict is None or filing is None or verdict["class"] is None:
        return None
    return {"uscc": uscc, "name": filing["name"], "category": filing["category"],
            "level": filing["level"], "jurisdiction": filing["jurisdiction"],
            "cohort": filing["cohort"], "class": verdict["class"],
            "outcome": verdict["outcome"], "clauses": verdict["clauses"],
            "deadline": verdict["deadline"], "decided_on": verdict["decided_on"],
            "total": verdict.get("total"), "grade": verdict.get("grade"),
            "basis": verdict.get("basis"), "facts_grade": verdict.get("facts_grade")}


NOTICE_NAMESPACE = uuid.UUID("6f1f2a5e-2023-4223-9a1e-0000000000a0")


def notice_id(sequence):
    """Notice N has one id: two publishers racing for the same N meet on it."""
    return uuid.uuid5(NOTICE_NAMESPACE, f"notice-{sequence}")


class Notice(CaseAggregate):
    @staticmethod
    def create_id(sequence, **_):
        return notice_id(sequence)

    @event("Published")
    def __init__(self, sequence: int, number: str, title: str, published_on: str,
                 corrects, entries: list, html: str, data: dict, xlsx: bytes,
                 kind: str = "results", affects: list = ()):
        self.sequence = sequence
        self.number = number
        self.title = title
        self.published_on = published_on
        self.corrects = corrects
        self.entries = entries
        self.html = html
        self.data = data
        self.xlsx = xlsx
        self.kind = kind  # results, rectification or correction (followups.KINDS)
        self.affects = list(affects)  # the earlier notices whose rows this one follows
