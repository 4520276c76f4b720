"""The campaign (评估工作): notice, cohorts in scope, milestones and rubric, as data.

Milestones are data of the campaign, not constants (DESIGN.md §1): the 2023 campaign of
notice 晋人社办函〔2023〕223号 is the default, and another can be opened from a JSON file.

So are the department's readings of the notice where it leaves one open (issue 17,
docs/rules.md): `readings.self_assessment_due` (三(一) 各市自行安排: a default date and one per
jurisdiction code), `readings.no_activity` (四(一)1: `months` of inactivity and the window's
end, 二(一) 评估前一个月), `readings.beyond_scope` (四(一)3: `people` and `share` outside the
filing scope) and `readings.extension_window` (六(四) 评估期间: `from`, null for the day the
campaign is opened, and `to`). Missing ones take the notice's defaults.
"""
import datetime
import json

from eventsourcing.domain import event

from shared.aggregate import CaseAggregate
from shared.language.identifiers import campaign_id
from shared.errors import BadInput
from shared.language.jurisdictions import CITIES, PROVINCE
from shared.language.notice import NOTICE_2023, NOTICE_2023_TITLE
from shared.language.outcomes import COHORTS
from shared.language.readings import default_readings
from services.evaluation.rubric import DEFAULT_RUBRIC, Rubric, RubricError

MILESTONES = ("self_assessment_due", "evaluation_due", "publication_due")

DEFAULT_2023 = {
    "notice": NOTICE_2023,
    "title": NOTICE_2023_TITLE,
    "cohorts": list(COHORTS),
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
    milestones = {k: v.isoformat() for k, v in dates.items()}
    return {"notice": spec["notice"], "title": spec["title"], "cohorts": sorted(cohorts),
            "milestones": milestones, "evaluated_through_year": int(through),
            "rubric": rubric.to_dict(),
            "readings": validate_readings(spec.get("readings"), milestones, source)}


def _date_field(value, source, column, allow_none=False):
    if value is None and allow_none:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise BadInput(f"{column} must be a date YYYY-MM-DD" + (" or null" if allow_none else ""),
                       file=source, column=column)


def _number(value, source, column, low, high, integer=False):
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise BadInput(f"{column} must be a {'whole ' if integer else ''}number from {low} to "
                       f"{high}", file=source, column=column)
    return value


def validate_readings(readings, milestones, source="campaign"):
    """The campaign's readings of the notice, each checked, the notice's defaults filled in;
    BadInput naming the field (readings.<name>.<setting>)."""
    merged = default_readings(milestones)
    if readings is None:
        return merged
    if not isinstance(readings, dict):
        raise BadInput("readings must be a JSON object", file=source, column="readings")
    for name, value in readings.items():
        column = f"readings.{name}"
        if name not in merged:
            raise BadInput(f"unknown reading {name!r} (known: {', '.join(merged)})",
                           file=source, column=column)
        if not isinstance(value, dict) or set(value) - set(merged[name]):
            raise BadInput(f"{column} takes {', '.join(merged[name])}", file=source,
                           column=column)
        merged[name] = {**merged[name], **value}
    sa = merged["self_assessment_due"]
    sa["default"] = _date_field(sa["default"], source, "readings.self_assessment_due.default")
    if not isinstance(sa["by_jurisdiction"], dict):
        raise BadInput("by_jurisdiction maps jurisdiction codes to dates", file=source,
                       column="readings.self_assessment_due.by_jurisdiction")
    for code, day in sa["by_jurisdiction"].items():
        column = f"readings.self_assessment_due.by_jurisdiction.{code}"
        if code != PROVINCE and code not in CITIES:
            raise BadInput(f"unknown jurisdiction {code!r}", file=source, column=column)
        sa["by_jurisdiction"][code] = _date_field(day, source, column)
    na = merged["no_activity"]
    na["months"] = _number(na["months"], source, "readings.no_activity.months", 1, 120, True)
    na["window_ends"] = _date_field(na["window_ends"], source, "readings.no_activity.window_ends")
    bs = merged["beyond_scope"]
    bs["people"] = _number(bs["people"], source, "readings.beyond_scope.people", 1, 10**6, True)
    bs["share"] = _number(bs["share"], source, "readings.beyond_scope.share", 0, 1)
    ext = merged["extension_window"]
    ext["from"] = _date_field(ext["from"], source, "readings.extension_window.from", True)
    ext["to"] = _date_field(ext["to"], source, "readings.extension_window.to")
    if ext["from"] and ext["from"] > ext["to"]:
        raise BadInput("the extension window must end after it starts", file=source,
                       column="readings.extension_window")
    return merged


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
                 evaluated_through_year: int, rubric: dict, readings: dict = None):
        self.notice = notice
        self.title = title
        self.cohorts = cohorts
        self.milestones = milestones
        self.evaluated_through_year = evaluated_through_year
        self.rubric = rubric
        # Decisions reads them from this event (campaigns opened earlier: the defaults).
        self.readings = readings or default_readings(milestones)

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
                "readings": self.readings, "rubric_version": self.rubric["version"]}
