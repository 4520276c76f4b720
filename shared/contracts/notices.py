"""The notices' published events (docs/events.md, "notices"): each case's publication row
and the province's notices (通告) of 四(三)'s results, rectification results and
corrections."""
from shared.contracts.base import Date, absent, event, shape


@shape
class NoticeRef:
    id: str
    number: str


@shape
class EntryFiling:
    uscc: str
    name: str
    category: str
    level: str
    jurisdiction: str
    cohort: int


@event("pinggu.notices.Entry.Opened.v1", "notices.Entry.Opened",
       summary="The notices service received its first fact about a case.")
class EntryOpened:
    uscc: str


@event("pinggu.notices.Entry.FilingReceived.v1", "notices.Entry.FilingReceived",
       summary="A filing was received; the case's publication row with it.")
class FilingReceived:
    filing: EntryFiling
    source_event: str
    row: dict | None


@event("pinggu.notices.Entry.VerdictReceived.v1", "notices.Entry.VerdictReceived",
       summary="A verdict was received; the case's publication row with it.")
class VerdictReceived:
    verdict: dict  # class, outcome, clauses, deadline, decided_on, rulebook_version, ...
    source_event: str
    row: dict | None


@event("pinggu.notices.Entry.PublishedInNotice.v1", "notices.Entry.PublishedInNotice",
       summary="A case was listed in a published notice.")
class PublishedInNotice:
    uscc: str
    notice_id: str
    number: str
    entry: dict


@event("pinggu.notices.Notice.Published.v1", "notices.Notice.Published",
       summary="A notice (通告) was published: results, rectification results or correction.")
class NoticePublished:
    sequence: int
    number: str
    title: str
    published_on: Date
    corrects: NoticeRef | None
    entries: list[dict]
    html: str
    data: dict
    xlsx: str  # base64
    kind: str = absent()  # results, rectification, correction; absent: results
    affects: list[NoticeRef] = absent()
