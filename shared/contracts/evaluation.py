"""The evaluation's published events (docs/events.md, "evaluation"): the campaign (三, 五),
self-assessments (附件1), scores (附件2, 二's eight areas), findings (四(一)2-6, 四(二)1),
accepted excuses (六(二)) and rectifications (四(二))."""
from shared.contracts.base import Date, Number, absent, event
from shared.contracts.registry import Filing


@event("pinggu.evaluation.Campaign.Opened.v1", "evaluation.Campaign.Opened",
       summary="A campaign was opened (the notice, cohorts, milestones, rubric, readings).")
class CampaignOpened:
    notice: str
    title: str
    cohorts: list[int]
    milestones: dict  # self_assessment_due, evaluation_due, publication_due: dates
    evaluated_through_year: int
    rubric: dict
    readings: dict | None = absent()  # absent in campaigns opened before issue 17


@event("pinggu.evaluation.Campaign.RubricChanged.v1", "evaluation.Campaign.RubricChanged",
       summary="An open campaign's rubric got a new version.")
class RubricChanged:
    rubric: dict


@event("pinggu.evaluation.CaseFile.Opened.v1", "evaluation.CaseFile.Opened",
       summary="The evaluation learnt of a filing.")
class CaseFileOpened:
    uscc: str
    filing: Filing


@event("pinggu.evaluation.CaseFile.FilingUpdated.v1", "evaluation.CaseFile.FilingUpdated",
       summary="A later version of a known case's filing.")
class FilingUpdated:
    filing: Filing


@event("pinggu.evaluation.CaseFile.SelfAssessed.v1", "evaluation.CaseFile.SelfAssessed",
       summary="An institution's self-assessment (附件1) was submitted.")
class SelfAssessed:
    uscc: str
    staff: dict  # {assessors, supervisors, experts}
    self_score: Number | None
    activity: list[dict]  # {year, occupation, level, assessed, passed, certified, row_number}
    submitted_on: Date | None
    on_time: bool
    derived: dict  # docs/events.md, "derived activity"


@event("pinggu.evaluation.CaseFile.Scored.v1", "evaluation.CaseFile.Scored",
       summary="A score sheet (附件2) row was recorded.")
class Scored:
    uscc: str
    kind: str  # initial, rescore, revised
    areas: dict  # {area short name: number}
    total: Number
    grade: str  # 合格, 不达标, 不合格
    rubric_version: str
    rubric: dict
    evaluator: str
    evaluated_on: Date


@event("pinggu.evaluation.CaseFile.FindingRecorded.v1", "evaluation.CaseFile.FindingRecorded",
       summary="A finding under 四(一)2-6 or 四(二)1 was recorded with its evidence.")
class FindingRecorded:
    uscc: str
    finding_id: str
    clause: str
    evidence: str
    recorded_on: Date


@event("pinggu.evaluation.CaseFile.FindingWithdrawn.v1", "evaluation.CaseFile.FindingWithdrawn",
       summary="An active finding was withdrawn.")
class FindingWithdrawn:
    uscc: str
    finding_id: str
    clause: str
    reason: str


@event("pinggu.evaluation.CaseFile.ExcuseAccepted.v1", "evaluation.CaseFile.ExcuseAccepted",
       summary="A reason for a missing or late self-assessment was accepted (六(二)).")
class ExcuseAccepted:
    uscc: str
    reason: str


@event("pinggu.evaluation.CaseFile.RectificationSubmitted.v1",
       "evaluation.CaseFile.RectificationSubmitted",
       summary="A rectification (整改) was submitted.")
class RectificationSubmitted:
    uscc: str
    report: str
    submitted_on: Date
    after_score: int
