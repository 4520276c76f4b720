"""The table of DESIGN.md §1 (notice 四、六): which clause fires on which facts, how the
classes rank (terminate over rectify over pass, 四), the outcome per cohort (四(三)), the
re-decision after a rectification (四(二)) and the 六(四) extension.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Mapping

from shared.dates import add_months
from shared.language.clauses import (
    AUDIT_NOT_RECTIFIED, BEYOND_SCOPE, CERTIFICATES_WITHOUT_EVALUATION, CLAUSES,
    EXAM_MISCONDUCT, FALSE_MATERIALS, FORGED_CANDIDATE_MATERIALS, NO_ACTIVITY, PASS,
    RECTIFICATION, RECTIFY, RECTIFY_CLAUSES, REFUSED_EVALUATION, REGISTRATION_PROBLEM,
    RESULT_BELOW_STANDARD, RESULT_FAIL, TERMINATE)
from shared.language.outcomes import (
    AFTER_RECTIFICATION, COHORTS, GRADE_BELOW_STANDARD, GRADE_FAIL, OUTCOMES, TERMINATED)
from services.decisions.rulebook.facts import Facts

RULEBOOK_VERSION = "2023.2"
# Verdicts of these versions can be re-derived by this code (2023.1 read 四(一)1 by years).
REDERIVABLE = ("2023.2",)


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
        return OUTCOMES[(klass, cohort)]
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
        raise ValueError(f"the 2023 rules apply to the cohorts {COHORTS}, not {cohort!r}")
    rectified = set(rectified)
    unknown = sorted(rectified - set(RECTIFY_CLAUSES))
    if unknown:
        raise ValueError(f"not a rectify clause: {', '.join(unknown)}")
    before = tuple(c for c in RECTIFY_CLAUSES if c in rectified)
    if passed:
        return Verdict(PASS, AFTER_RECTIFICATION[cohort], (RECTIFICATION,), before)
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
