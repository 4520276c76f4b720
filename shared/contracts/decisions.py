"""The decisions' published events (docs/events.md, "decisions"): each upstream fact noted,
the verdicts of 四(一)/四(二)/四(三) and 六(二), the deadlines swept, the 六(四) extensions."""
from shared.contracts.base import Date, absent, event, shape
from shared.contracts.registry import Filing


@shape
class Verdict:
    """klass terminate/rectify/pass or null (withdrawn); outcome the label of 四(三)."""
    klass: str | None
    outcome: str | None
    clauses: list[str]
    also_fired: list[str]
    rulebook_version: str


@event("pinggu.decisions.Campaign.Noted.v1", "decisions.Campaign.Noted",
       summary="The decisions service noted an opened campaign.")
class CampaignNoted:
    notice: str
    cohorts: list[int]
    milestones: dict
    evaluated_through_year: int
    opened_on: Date
    readings: dict | None = absent()


@event("pinggu.decisions.Case.Opened.v1", "decisions.Case.Opened",
       summary="The first upstream fact about a case arrived.")
class CaseOpened:
    uscc: str


@event("pinggu.decisions.Case.FilingNoted.v1", "decisions.Case.FilingNoted",
       summary="A filing was noted.")
class FilingNoted:
    filing: Filing
    source_event: str


@event("pinggu.decisions.Case.LegalStatusNoted.v1", "decisions.Case.LegalStatusNoted",
       summary="A legal-registration status was noted (四(二)2).")
class LegalStatusNoted:
    status: str
    legal_valid_until: Date | None
    source_event: str


@event("pinggu.decisions.Case.ActivityNoted.v1", "decisions.Case.ActivityNoted",
       summary="A year's reported certification activity was noted (四(一)1).")
class ActivityNoted:
    year: int
    certified: int
    source_event: str


@event("pinggu.decisions.Case.SelfAssessmentNoted.v1", "decisions.Case.SelfAssessmentNoted",
       summary="A self-assessment was noted (六(二), 四(一)1, 四(一)3).")
class SelfAssessmentNoted:
    on_time: bool
    derived: dict
    source_event: str
    submitted_on: Date | None = absent()  # absent before issue 17
    assessed_total: int | None = absent()


@event("pinggu.decisions.Case.ScoreNoted.v1", "decisions.Case.ScoreNoted",
       summary="A score was noted (四(一)7, 四(二)3).")
class ScoreNoted:
    score: dict  # kind, total, grade, rubric_version, evaluated_on
    source_event: str


@event("pinggu.decisions.Case.FindingNoted.v1", "decisions.Case.FindingNoted",
       summary="A finding was noted, active or withdrawn.")
class FindingNoted:
    finding_id: str
    clause: str
    active: bool
    source_event: str


@event("pinggu.decisions.Case.ExcuseNoted.v1", "decisions.Case.ExcuseNoted",
       summary="An accepted excuse was noted (六(二)).")
class ExcuseNoted:
    reason: str
    source_event: str


@event("pinggu.decisions.Case.RectificationNoted.v1", "decisions.Case.RectificationNoted",
       summary="A submitted rectification was noted.")
class RectificationNoted:
    submitted_on: Date
    source_event: str
    recorded_on: Date | None = absent()  # absent before issue 17


@event("pinggu.decisions.Case.Decided.v1", "decisions.Case.Decided",
       summary="An in-scope case's verdict changed.")
class Decided:
    uscc: str
    verdict: Verdict
    facts: dict  # docs/events.md, "facts"
    inputs: dict  # docs/events.md, "inputs"
    decided_on: Date
    deadline: Date | None
    phase: str  # undecided, decided, rectifying, closed
    revises: Verdict | None
    basis: str = absent()  # rules, rescore, deadline, cured; absent in early verdicts
    periods: dict | None = absent()  # {clause: {opened_on, deadline}}


@event("pinggu.decisions.Case.DeadlinePassed.v1", "decisions.Case.DeadlinePassed",
       summary="A deadline passed: legal-registration, self-assessment or rectification.")
class DeadlinePassed:
    kind: str
    due: Date


@event("pinggu.decisions.Case.FilingExtended.v1", "decisions.Case.FilingExtended",
       summary="An expired filing is extended while the campaign runs (六(四)).")
class FilingExtended:
    valid_until: Date
    until: Date


@event("pinggu.decisions.Case.ExtensionEnded.v1", "decisions.Case.ExtensionEnded",
       summary="A 六(四) extension ended.")
class ExtensionEnded:
    renewed: bool
    until: Date
