"""The registry's published events (docs/events.md, "registry"): the filings (备案) of the
institutions in scope of 一 and the facts other HR systems report about them (四(二)2
legal registration, 四(一)1 certification activity)."""
from shared.contracts.base import Date, absent, event, shape


@shape
class ScopeItem:
    """An occupation of the filing scope (备案范围) and the levels 1-5 it may certify."""
    occupation: str
    levels: list[int]


@shape
class Filing:
    """A filing as the roster gives it, with the derived cohort and jurisdiction."""
    uscc: str
    name: str
    category: str
    level: str
    city: str | None
    published_on: Date
    valid_until: Date
    scope: list[ScopeItem]
    legal_valid_until: Date | None
    cohort: int
    jurisdiction: str


@shape
class ActivityRow:
    """Certificates issued in a year for one occupation code and level."""
    occupation: str
    level: int
    certified: int


@event("pinggu.registry.Institution.Filed.v1", "registry.Institution.Filed",
       summary="An institution not filed before was recorded from the roster.")
class InstitutionFiled:
    filing: Filing


@event("pinggu.registry.Institution.FilingChanged.v1", "registry.Institution.FilingChanged",
       summary="A roster row differs from the institution's current filing.")
class FilingChanged:
    filing: Filing
    changes: dict  # {field: [old, new]}


@event("pinggu.registry.Institution.LegalStatusReported.v1",
       "registry.Institution.LegalStatusReported",
       summary="The legal-person registration status was reported (四(二)2).")
class LegalStatusReported:
    uscc: str
    status: str
    legal_valid_until: Date | None
    reported_on: Date
    source: str


@event("pinggu.registry.Institution.ActivityReported.v1",
       "registry.Institution.ActivityReported",
       summary="One year's certification activity was reported (四(一)1).")
class ActivityReported:
    uscc: str
    year: int
    rows: list[ActivityRow]
    source: str
    reported_on: Date | None = absent()  # the external report's date; absent before


@event("pinggu.registry.Refusal.Recorded.v1", "registry.Refusal.Recorded",
       summary="An external fact was refused (and dead-lettered): why, for its publisher.")
class RefusalRecorded:
    source: str  # the refused message's source: the publisher reads its own
    refused_id: str  # the refused message's CloudEvent id
    refused_type: str
    sequence: str
    reason: str
