"""What the rules look at for one institution (rulebook 2023.2, see the package docstring):
the facts, and the pure readings that turn raw records into them (四(一)1 the inactive
stretch, 四(一)3 seriously beyond scope, 六(四) the extension window).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from shared.dates import add_months
from shared.language.clauses import FINDING_CLAUSES
from shared.language.outcomes import COHORTS, GRADES


def no_activity_stretch(filed_on: date, window_ends: date, activity_years: Iterable[int],
                        months: int) -> tuple[date, date] | None:
    """四(一)1: the first stretch of the window known to be without activity that covers
    `months` whole months, as (first day, last day); None if there is none."""
    active = set(activity_years)
    start = None
    for year in range(filed_on.year, window_ends.year + 1):
        if year in active:
            start = None
            continue
        start = start or max(filed_on, date(year, 1, 1))
        end = min(window_ends, date(year, 12, 31))
        if add_months(start, months) <= end + timedelta(days=1):
            return (start, end)
    return None


def seriously_beyond_scope(outside: Iterable[Mapping[str, int]], assessed_total: int | None,
                           threshold: Mapping[str, Any]) -> bool:
    """四(一)3 from the activity rows outside the filing scope: people (assessed or
    certified, whichever is more, per row) at or above the count, or at or above the share
    of everyone assessed."""
    people = sum(max(row.get("assessed", 0), row.get("certified", 0)) for row in outside)
    if people <= 0:
        return False
    if people >= threshold["people"]:
        return True
    return bool(assessed_total) and people / assessed_total >= threshold["share"]


def extension_applies(filing_valid_until: date, window_from: date, window_to: date) -> bool:
    """六(四) 评估期间,备案时间已到期的: the filing expires within the campaign's window."""
    return window_from <= filing_valid_until <= window_to


@dataclass(frozen=True)
class Facts:
    """What the rules look at for one institution. Defaults mean "unknown" or "none"."""

    cohort: int
    grade: str | None = None  # None: not scored yet
    findings: frozenset[str] = frozenset()  # clauses from FINDING_CLAUSES
    # 四(一)1, see the module docstring. activity_years None = activity not known.
    filed_year: int | None = None
    activity_years: frozenset[int] | None = None
    evaluated_through_year: int | None = None
    # 四(一)3 derived from activity records outside the filing scope (also a finding).
    seriously_out_of_scope: bool = False
    # 四(二)2
    legal_registration_expired: bool = False
    annual_report_problem: bool = False
    # 六(二): terminate when the milestone has passed with no self-assessment and no
    # accepted excuse. `self_assessed` means a self-assessment that counts, i.e. received
    # by the milestone; whether a late one counts is the jurisdiction's call (`excused`).
    self_assessed: bool = False
    excused: bool = False
    self_assessment_due_passed: bool = False
    # 2023.2: 四(一)1 over the real window (see the module docstring); without `filed_on`
    # and `activity_window_ends` the years up to `evaluated_through_year` are used.
    filed_on: str | None = None
    activity_window_ends: str | None = None
    inactive_months: int = 24
    # The campaign settings the facts were gathered under, for explanation only.
    readings: Mapping[str, Any] | None = None

    def __post_init__(self):
        if self.cohort not in COHORTS:
            raise ValueError(f"the 2023 rules apply to the cohorts {COHORTS}, not {self.cohort!r}")
        if self.grade is not None and self.grade not in GRADES:
            raise ValueError(f"unknown grade {self.grade!r} (expected one of {', '.join(GRADES)})")
        findings = frozenset(self.findings)
        unknown = sorted(findings - set(FINDING_CLAUSES))
        if unknown:
            raise ValueError(f"not a finding clause: {', '.join(unknown)} "
                             f"(findings are {', '.join(FINDING_CLAUSES)})")
        object.__setattr__(self, "findings", findings)
        if self.activity_years is not None:
            object.__setattr__(self, "activity_years", frozenset(self.activity_years))

    def inactive_stretch(self) -> tuple[date, date] | None:
        """四(一)1 as rulebook 2023.2 reads it: a stretch of `inactive_months` whole months
        without activity between the filing's publication and the window's end."""
        if self.activity_years is None:
            return None
        if self.filed_on is None or self.activity_window_ends is None:
            pair = self.inactive_years()
            return pair and (date(pair[0], 1, 1), date(pair[1], 12, 31))
        return no_activity_stretch(date.fromisoformat(self.filed_on),
                                   date.fromisoformat(self.activity_window_ends),
                                   self.activity_years, self.inactive_months)

    def inactive_years(self) -> tuple[int, int] | None:
        """Rulebook 2023.1's reading: two consecutive years without activity, the partial
        filing year counted as one. Kept for facts recorded without the real window."""
        if self.activity_years is None or self.filed_year is None or self.evaluated_through_year is None:
            return None
        for y in range(self.filed_year, self.evaluated_through_year):
            if y not in self.activity_years and y + 1 not in self.activity_years:
                return (y, y + 1)
        return None

    def to_dict(self) -> dict:
        return {
            "cohort": self.cohort, "grade": self.grade,
            "findings": [c for c in FINDING_CLAUSES if c in self.findings],
            "filed_year": self.filed_year,
            "activity_years": None if self.activity_years is None else sorted(self.activity_years),
            "evaluated_through_year": self.evaluated_through_year,
            "seriously_out_of_scope": self.seriously_out_of_scope,
            "legal_registration_expired": self.legal_registration_expired,
            "annual_report_problem": self.annual_report_problem,
            "self_assessed": self.self_assessed, "excused": self.excused,
            "self_assessment_due_passed": self.self_assessment_due_passed,
            "filed_on": self.filed_on, "activity_window_ends": self.activity_window_ends,
            "inactive_months": self.inactive_months,
            "readings": None if self.readings is None else dict(self.readings),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Facts":
        d = dict(d)
        d["findings"] = frozenset(d.get("findings") or ())
        if d.get("activity_years") is not None:
            d["activity_years"] = frozenset(d["activity_years"])
        return cls(**d)
