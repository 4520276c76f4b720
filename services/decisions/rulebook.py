"""The rules of notice 晋人社办函〔2023〕223号, pure and versioned (DESIGN.md §1, "The rules").

`decide(facts)` turns what is known about one in-scope institution into a verdict. It
does no I/O and reads no clock: the decisions service gathers the facts, calls it again
whenever a fact changes (and on each business date for facts that change with time), and
records the verdict with `RULEBOOK_VERSION`, so a verdict can always be re-derived and
explained from the facts it was made on. docs/rules.md goes through it clause by clause.

Where the notice leaves a reading open, the reading is the department's: it is campaign
data (`Readings`, set when the campaign is opened, the notice's defaults otherwise), and
every verdict records the settings it was made with. Rulebook 2023.2 (issue 17) reads:

- 四(一)1 自备案以来连续两年未开展: over the notice's own window, 二(一) "自公布备案资质起至
  评估前一个月" (from the filing's publication date to a month before the evaluation). Activity
  is known per 年度, so a known-inactive stretch is a run of years without activity, cut
  to the window; the rule fires when such a stretch covers `months` (24) whole months. A
  partial filing year counts for the months it has in the window, not as a year. Unknown
  activity (None) never fires it. Rulebook 2023.1 counted a partial year as a whole year.
- 四(一)3 严重超出备案范围: activity outside the filing scope is serious from a number of
  people (assessed or certified, whichever is more) or a share of all people assessed.
- 六(二) 无故拒绝参加评估: an act of the jurisdiction, recorded as a finding; or, when the
  jurisdiction's own self-assessment deadline (三(一): 各市自行安排) has passed with no
  self-assessment and no accepted excuse, automatic until the institution is evaluated on
  site (scored), unless the jurisdiction recorded the refusal.
- 六(四) 评估期间,备案时间已到期的: filings expiring from the campaign's opening to the
  province's publication.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable, Iterable, Mapping

from shared.dates import add_months
from shared.language.clauses import (  # noqa: F401  (the rulebook's vocabulary)
    TERMINATE, RECTIFY, PASS, CLASSES, NO_ACTIVITY, FALSE_MATERIALS, BEYOND_SCOPE,
    FORGED_CANDIDATE_MATERIALS, EXAM_MISCONDUCT, CERTIFICATES_WITHOUT_EVALUATION,
    RESULT_FAIL, REFUSED_EVALUATION, AUDIT_NOT_RECTIFIED, REGISTRATION_PROBLEM,
    RESULT_BELOW_STANDARD, RECTIFICATION, EXTENSION, TERMINATE_CLAUSES, RECTIFY_CLAUSES,
    FINDING_CLAUSES, CLAUSES, Clause, parse_clause)
from shared.language.outcomes import (  # noqa: F401  (the rulebook's vocabulary)
    RENEWAL_COHORT, CONTINUING_COHORT, COHORTS, GRADE_PASS, GRADE_BELOW_STANDARD,
    GRADE_FAIL, GRADES, TERMINATED, RENEWAL_WITHHELD, SUSPENDED, RENEWAL_AGREED, NORMAL,
    RENEWED, RESUMED, OUTCOMES, AFTER_RECTIFICATION)

RULEBOOK_VERSION = "2023.2"
# Verdicts of these versions can be re-derived by this code (2023.1 read 四(一)1 by years).
REDERIVABLE = ("2023.2",)
_OUTCOMES, _AFTER_RECTIFICATION = OUTCOMES, AFTER_RECTIFICATION

def default_readings(milestones: Mapping[str, str]) -> dict:
    """The notice's own readings, from the campaign's milestones (docs/rules.md)."""
    due = date.fromisoformat(milestones["self_assessment_due"])
    return {
        # 三(一) 各市属评价机构自查自评工作由各市自行安排; 五(一) 8月底完成.
        "self_assessment_due": {"default": due.isoformat(), "by_jurisdiction": {}},
        # 二(一) 至评估前一个月: the evaluation starts after the self-assessment month.
        "no_activity": {"months": 24,
                        "window_ends": (due.replace(day=1) - timedelta(days=1)).isoformat()},
        # 四(一)3: people assessed or certified outside the scope, count or share.
        "beyond_scope": {"people": 20, "share": 0.2},
        # 六(四) 评估期间: from the campaign's opening (None: the day it was opened) to the
        # province's publication.
        "extension_window": {"from": None, "to": milestones["publication_due"]},
    }


def readings_with_defaults(readings: Mapping[str, Any] | None,
                           milestones: Mapping[str, str]) -> dict:
    """`readings` as set for a campaign, each missing one at the notice's default."""
    merged = default_readings(milestones)
    for name, value in (readings or {}).items():
        if name in merged and isinstance(value, Mapping):
            merged[name] = {**merged[name], **value}
    return merged


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
            raise ValueError(f"the 2023 rules apply to the 2020 and 2021 cohorts, not {self.cohort!r}")
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


@dataclass(frozen=True)
class Rule:
    clause: str
    klass: str
    fires: Callable[[Facts], bool]


def _finding(code: str) -> Callable[[Facts], bool]:
    return lambda f: code in f.findings


# The table of DESIGN.md §1, in its order; explanations cite clauses in this order.
RULES: tuple[Rule, ...] = (
    Rule(NO_ACTIVITY, TERMINATE, lambda f: f.inactive_stretch() is not None),
    Rule(FALSE_MATERIALS, TERMINATE, _finding(FALSE_MATERIALS)),
    Rule(BEYOND_SCOPE, TERMINATE, lambda f: f.seriously_out_of_scope or BEYOND_SCOPE in f.findings),
    Rule(FORGED_CANDIDATE_MATERIALS, TERMINATE, _finding(FORGED_CANDIDATE_MATERIALS)),
    Rule(EXAM_MISCONDUCT, TERMINATE, _finding(EXAM_MISCONDUCT)),
    Rule(CERTIFICATES_WITHOUT_EVALUATION, TERMINATE, _finding(CERTIFICATES_WITHOUT_EVALUATION)),
    Rule(RESULT_FAIL, TERMINATE, lambda f: f.grade == GRADE_FAIL),
    # Recorded by the jurisdiction; or automatic after its deadline, until the institution
    # is evaluated on site (a grade) or excused.
    Rule(REFUSED_EVALUATION, TERMINATE,
         lambda f: REFUSED_EVALUATION in f.findings or (
             f.self_assessment_due_passed and not f.self_assessed and not f.excused
             and f.grade is None)),
    Rule(AUDIT_NOT_RECTIFIED, RECTIFY, _finding(AUDIT_NOT_RECTIFIED)),
    Rule(REGISTRATION_PROBLEM, RECTIFY,
         lambda f: f.legal_registration_expired or f.annual_report_problem),
    Rule(RESULT_BELOW_STANDARD, RECTIFY, lambda f: f.grade == GRADE_BELOW_STANDARD),
)


@dataclass(frozen=True)
class Verdict:
    """`clauses`: every clause of the winning class that fired, in table order.
    `also_fired`: clauses of lower classes that fired too (a terminated institution
    with an expired registration), kept for explanation and in case a terminate
    finding is later withdrawn. A pass has no clauses. Undecided: klass and outcome None.
    """

    klass: str | None
    outcome: str | None
    clauses: tuple[str, ...] = ()
    also_fired: tuple[str, ...] = ()
    rulebook_version: str = RULEBOOK_VERSION

    @property
    def decided(self) -> bool:
        return self.klass is not None

    def to_dict(self) -> dict:
        return {"klass": self.klass, "outcome": self.outcome, "clauses": list(self.clauses),
                "also_fired": list(self.also_fired), "rulebook_version": self.rulebook_version}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Verdict":
        return cls(d["klass"], d["outcome"], tuple(d.get("clauses") or ()),
                   tuple(d.get("also_fired") or ()), d["rulebook_version"])


def outcome_label(klass: str, cohort: int) -> str:
    try:
        return _OUTCOMES[(klass, cohort)]
    except KeyError:
        raise ValueError(f"no outcome for class {klass!r} in cohort {cohort!r}") from None


def fired(facts: Facts) -> tuple[str, ...]:
    """Every clause that fires on these facts, in table order."""
    return tuple(r.clause for r in RULES if r.fires(facts))


def decide(facts: Facts) -> Verdict:
    """Terminate wins over rectify, rectify over pass; a pass needs a grade."""
    hits = fired(facts)
    terminate = tuple(c for c in hits if CLAUSES[c].klass == TERMINATE)
    rectify = tuple(c for c in hits if CLAUSES[c].klass == RECTIFY)
    if terminate:
        return Verdict(TERMINATE, outcome_label(TERMINATE, facts.cohort), terminate, rectify)
    if rectify:
        # Decided before scoring when e.g. the registration has expired: the verdict is
        # recomputed when the score arrives and may still become terminate.
        return Verdict(RECTIFY, outcome_label(RECTIFY, facts.cohort), rectify)
    if facts.grade is None:
        return Verdict(None, None)
    return Verdict(PASS, outcome_label(PASS, facts.cohort))


def verdict_for(facts: Facts) -> Verdict:
    """The case's verdict as it now stands: the evaluation's score is needed for any
    verdict but termination (a verdict recorded before the score would only be revised
    when it arrives). Undecided otherwise, which also withdraws an earlier verdict whose
    grounds are gone (a finding withdrawn, a self-assessment that was on time after all)."""
    verdict = decide(facts)
    if facts.grade is None and verdict.klass != TERMINATE:
        return Verdict(None, None)
    return verdict


def after_rectification(cohort: int, passed: bool, rectified: Iterable[str] = ()) -> Verdict:
    """The re-decision of 四(二): renewed/resumed if the rectification passed, else
    terminated (a missed deadline counts as failed). `rectified` are the clauses that
    put the institution under rectification; they are kept in `also_fired`.
    """
    if cohort not in COHORTS:
        raise ValueError(f"the 2023 rules apply to the 2020 and 2021 cohorts, not {cohort!r}")
    rectified = set(rectified)
    unknown = sorted(rectified - set(RECTIFY_CLAUSES))
    if unknown:
        raise ValueError(f"not a rectify clause: {', '.join(unknown)}")
    before = tuple(c for c in RECTIFY_CLAUSES if c in rectified)
    if passed:
        return Verdict(PASS, _AFTER_RECTIFICATION[cohort], (RECTIFICATION,), before)
    return Verdict(TERMINATE, TERMINATED, (RECTIFICATION,), before)


def rectification_deadline(decided_on: date) -> date:
    """Last day to rectify (inclusive): two calendar months from the decision."""
    return add_months(decided_on, 2)


def extension_end(filing_valid_until: date) -> date:
    """Last day (inclusive) certification may continue under 六(四) after the filing expired."""
    return add_months(filing_valid_until, 2)


def in_extension(filing_valid_until: date, on: date) -> bool:
    """Whether `on` falls in the 六(四) extension: after expiry, up to extension_end."""
    return filing_valid_until < on <= extension_end(filing_valid_until)


def explain(facts: Facts, verdict: Verdict) -> list[str]:
    """Bilingual lines: the outcome, then one line per clause, with the facts behind it."""
    if not verdict.decided:
        return ["未决:尚无评分,且无终止或整改情形 / Undecided: not scored yet, and no "
                "terminate or rectify clause applies"
                + f" (rulebook {verdict.rulebook_version})"]
    lines = [f"结论:{verdict.outcome}({facts.cohort}年度备案)/ Outcome: {verdict.outcome} "
             f"({verdict.klass}, {facts.cohort} cohort; rulebook {verdict.rulebook_version})"]
    for code in verdict.clauses:
        line = _clause_line(code, facts)
        if code == RECTIFICATION:
            line += (": 整改通过 / rectification passed" if verdict.klass == PASS else
                     ": 整改未通过或逾期未提交 / rectification failed or not submitted by the deadline")
        lines.append(line)
    # After a rectification the lower clauses are what led to it, not concurrent hits.
    note = ("(整改事由 / reason for rectification)" if RECTIFICATION in verdict.clauses
            else "(同时适用 / also applies)")
    for code in verdict.also_fired:
        lines.append(_clause_line(code, facts) + note)
    if verdict.klass == PASS and not verdict.clauses:
        lines.append(f"无终止或整改情形,评估结果{facts.grade} / No terminate or rectify clause "
                     f"applies; evaluation result {facts.grade}")
    return lines


def describe_readings(readings: Mapping[str, Any]) -> list[str]:
    """One line per reading of the notice the campaign set, naming the setting."""
    sa, na = readings["self_assessment_due"], readings["no_activity"]
    bs, ext = readings["beyond_scope"], readings["extension_window"]
    by = ", ".join(f"{j} {d}" for j, d in sorted(sa["by_jurisdiction"].items()))
    return [
        f"六(二) 自查自评截止 / self-assessment due: {sa.get('applied') or sa['default']}"
        f" (campaign setting self_assessment_due: default {sa['default']}"
        + (f"; {by}" if by else "") + "); 逾期未自评且未经现场评估视为拒绝参加评估 / "
        "missing it without excuse counts as refusal until evaluated on site",
        f"四(一)1 连续两年未开展 / two years without activity: {na['months']} whole months "
        f"from the filing's publication to {na['window_ends']} (campaign setting no_activity)",
        f"四(一)3 严重超出备案范围 / seriously beyond scope: {bs['people']} people or "
        f"{bs['share']:.0%} of those assessed outside the scope (campaign setting beyond_scope)",
        f"六(四) 评估期间到期 / expiring during the evaluation: {ext['from'] or 'campaign opening'}"
        f" to {ext['to']} (campaign setting extension_window)",
    ]


def _clause_line(code: str, facts: Facts) -> str:
    c = CLAUSES[code]
    line = f"{c.code} {c.zh} / {c.en}"
    detail = _detail(code, facts)
    return f"{line}: {detail}" if detail else line


def _detail(code: str, facts: Facts) -> str:
    if code == NO_ACTIVITY and facts.filed_on and facts.activity_window_ends and (
            stretch := facts.inactive_stretch()):
        return (f"{stretch[0]}至{stretch[1]}无认定活动,满{facts.inactive_months}个月 / no "
                f"activity from {stretch[0]} to {stretch[1]}, {facts.inactive_months} whole "
                f"months (window {facts.filed_on} to {facts.activity_window_ends}; campaign "
                f"setting no_activity)")
    if code == NO_ACTIVITY and (pair := facts.inactive_years()):
        return (f"{pair[0]}、{pair[1]}年无认定活动 / no activity in {pair[0]} and {pair[1]} "
                f"(filed {facts.filed_year}, evaluated through {facts.evaluated_through_year})")
    if code in (RESULT_FAIL, RESULT_BELOW_STANDARD):
        return f"评估结果{facts.grade} / evaluation result {facts.grade}"
    if code == REFUSED_EVALUATION:
        if REFUSED_EVALUATION in facts.findings:
            return "属地记录拒绝参加评估 / refusal recorded by the jurisdiction"
        due = ((facts.readings or {}).get("self_assessment_due") or {}).get("applied")
        return ("自查自评期满未提交且无正当理由,亦未经现场评估 / no self-assessment by the "
                "jurisdiction's deadline, no accepted excuse, not evaluated on site"
                + (f" (campaign setting self_assessment_due: {due})" if due else ""))
    if code == REGISTRATION_PROBLEM:
        parts = []
        if facts.legal_registration_expired:
            parts.append("法人登记证明已过期 / legal-person registration expired")
        if facts.annual_report_problem:
            parts.append("年度报告合规性问题 / annual-report compliance problem")
        return "; ".join(parts)
    if code == BEYOND_SCOPE:
        parts = []
        if facts.seriously_out_of_scope:
            threshold = (facts.readings or {}).get("beyond_scope")
            parts.append("认定记录严重超出备案范围 / activity recorded seriously outside the "
                         "filing scope" + (f" (campaign setting beyond_scope: "
                                           f"{threshold['people']} people or "
                                           f"{threshold['share']:.0%} of those assessed)"
                                           if threshold else ""))
        if BEYOND_SCOPE in facts.findings:
            parts.append("评估人员认定 / evaluator finding")
        return "; ".join(parts)
    if code in FINDING_CLAUSES:
        return "评估人员认定 / evaluator finding"
    return ""


def rederive(basis: str, facts: Facts, rectified: Iterable[str] = ()) -> Verdict:
    """The verdict a recorded decision must have, from what it recorded: its basis, its
    facts and (after a rectification) the clauses that were being rectified."""
    if basis == "rules":
        return verdict_for(facts)
    if basis == "rescore":
        return after_rectification(facts.cohort, decide(facts).klass == PASS, rectified)
    if basis == "deadline":
        return after_rectification(facts.cohort, False, rectified)
    if basis == "cured":  # the reason went away (a renewed registration) in its period
        return after_rectification(facts.cohort, True, rectified)
    raise ValueError(f"unknown basis {basis!r}")
