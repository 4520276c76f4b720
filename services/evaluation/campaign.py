"""The campaign (评估工作): notice, cohorts in scope, milestones and rubric, as data.

Milestones are data of the campaign, not constants (DESIGN.md §1): the 2023 campaign of
notice 晋人社办函〔2023〕223号 is the default, and another can be opened from a JSON file.
"""
import datetime
import json

from eventsourcing.domain import event

from shared.aggregate import CaseAggregate
from shared.application import campaign_id
from shared.errors import BadInput
from services.evaluation.rubric import DEFAULT_RUBRIC, Rubric, RubricError

MILESTONES = ("self_assessment_due", "evaluation_due", "publication_due")

DEFAULT_2023 = {
    "notice": "晋人社办函〔2023〕223号",
    "title": "关于组织对全省职业技能等级认定评价机构开展评估的通知",
    "cohorts": [2020, 2021],
    "milestones": {"self_assessment_due": "2023-08-31", "evaluation_due": "2023-09-30",
                   "publication_due": "2023-10-31"},
    # 二(一): activity "自公布备案资质起至评估前一个月"; by year, the last complete year.
    "evaluated_through_year": 2022,
    "rubric": DEFAULT_RUBRIC.to_dict(),
}


def validate(spec, source="campaign"):
    """A campaign spec as JSON-safe data, checked; BadInput naming the field."""
    if not isinstance(spec, dict):
        raise BadInput("a campaign is a JSON object", file=source)
    for key in ("notice", "title", "cohorts", "milestones"):
        if key not in spec:
            raise BadInput(f"missing field {key!r}", file=source, column=key)
    for key in ("notice", "title"):
        if not isinstance(spec[key], str) or not spec[key].strip():
            raise BadInput(f"{key} must be a non-empty text", file=source, column=key)
    cohorts = spec["cohorts"]
    if not (isinstance(cohorts, list) and cohorts and
            all(isinstance(c, int) and not isinstance(c, bool) for c in cohorts)):
        raise BadInput("cohorts must be a non-empty list of years", file=source, column="cohorts")
    dates = {}
    for name in MILESTONES:
        try:
            dates[name] = datetime.date.fromisoformat(spec["milestones"][name])
        except (KeyError, TypeError, ValueError):
            raise BadInput(f"milestone {name} must be a date YYYY-MM-DD", file=source,
                           column=f"milestones.{name}")
    if not dates["self_assessment_due"] <= dates["evaluation_due"] <= dates["publication_due"]:
        raise BadInput("milestones must be in order: self-assessment, evaluation, publication",
                       file=source, column="milestones")
    try:
        rubric = Rubric.from_dict(spec.get("rubric") or DEFAULT_RUBRIC.to_dict())
    except (RubricError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"invalid rubric: {exc}", file=source, column="rubric")
    through = spec.get("evaluated_through_year", dates["self_assessment_due"].year - 1)
    if not isinstance(through, int) or isinstance(through, bool):
        raise BadInput("evaluated_through_year must be a year", file=source,
                       column="evaluated_through_year")
    return {"notice": spec["notice"], "title": spec["title"], "cohorts": sorted(cohorts),
            "milestones": {k: v.isoformat() for k, v in dates.items()},
            "evaluated_through_year": int(through), "rubric": rubric.to_dict()}


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return validate(json.load(f), source=str(path))
    except json.JSONDecodeError as exc:
        raise BadInput(f"not JSON: {exc}", file=str(path), row=exc.lineno)


class Campaign(CaseAggregate):
    @staticmethod
    def create_id(notice, **_):
        return campaign_id(notice)

    @event("Opened")
    def __init__(self, notice: str, title: str, cohorts: list, milestones: dict,
                 evaluated_through_year: int, rubric: dict):
        self.notice = notice
        self.title = title
        self.cohorts = cohorts
        self.milestones = milestones
        self.evaluated_through_year = evaluated_through_year
        self.rubric = rubric

    @event("RubricChanged")
    def change_rubric(self, rubric: dict):
        self.rubric = rubric

    def milestone(self, name):
        return datetime.date.fromisoformat(self.milestones[name])

    def next_milestone(self, today):
        for name in MILESTONES:
            if today <= self.milestone(name):
                return {"name": name, "due": self.milestones[name]}
        return None

    def to_dict(self):
        return {"notice": self.notice, "title": self.title, "cohorts": self.cohorts,
                "milestones": self.milestones,
                "evaluated_through_year": self.evaluated_through_year,
                "rubric_version": self.rubric["version"]}
