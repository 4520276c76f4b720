"""The rules of notice 晋人社办函〔2023〕223号, pure and versioned (DESIGN.md §1, "The rules").

`decide(facts)` turns what is known about one in-scope institution into a verdict. It
does no I/O and reads no clock: the decisions service gathers the facts, calls it again
whenever a fact changes, and records the verdict with `RULEBOOK_VERSION`, so a verdict
can always be re-derived and explained from the facts it was made on.

Interpretation of 四(一)1 (自备案以来连续两年未开展职业技能等级评价工作): activity is
known per 年度 (the self-assessment form reports by year). The rule fires when there are
two consecutive years Y, Y+1, both without activity, with
    filed_year <= Y  and  Y + 1 <= evaluated_through_year.
The filing year counts even though it is partial: the notice applies the rule to the
2021 cohort too, and with yearly data 2021–2022 are the only two years it could ever
look at before the 2023 campaign. `evaluated_through_year` is the last year the
evaluation covers; the campaign sets it (for 2023: 2022, the last complete year; the
notice's window ends a month before evaluation, so the campaign year itself is partial
and would make a quiet first half-year count as a whole year). Activity outside the
window neither fires nor prevents the rule. Unknown activity (None) never fires it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Mapping

from shared.dates import add_months

RULEBOOK_VERSION = "2023.1"

TERMINATE = "terminate"
RECTIFY = "rectify"
PASS = "pass"
CLASSES = (TERMINATE, RECTIFY, PASS)  # precedence: the first that fires wins

# Grades as the rubric (services.evaluation.rubric) names them; repeated here so the
# decisions service does not import another service's code.
GRADE_PASS = "合格"
GRADE_BELOW_STANDARD = "不达标"
GRADE_FAIL = "不合格"
GRADES = (GRADE_PASS, GRADE_BELOW_STANDARD, GRADE_FAIL)

COHORTS = (2020, 2021)

# Clause codes, as the notice numbers them.
NO_ACTIVITY = "四(一)1"
FALSE_MATERIALS = "四(一)2"
BEYOND_SCOPE = "四(一)3"
FORGED_CANDIDATE_MATERIALS = "四(一)4"
EXAM_MISCONDUCT = "四(一)5"
CERTIFICATES_WITHOUT_EVALUATION = "四(一)6"
RESULT_FAIL = "四(一)7"
REFUSED_EVALUATION = "六(二)"
AUDIT_NOT_RECTIFIED = "四(二)1"
REGISTRATION_PROBLEM = "四(二)2"
RESULT_BELOW_STANDARD = "四(二)3"
RECTIFICATION = "四(二)"  # the re-decision after the two-month rectification
EXTENSION = "六(四)"  # two-month extension of an expired filing; not a verdict class

TERMINATE_CLAUSES = (NO_ACTIVITY, FALSE_MATERIALS, BEYOND_SCOPE, FORGED_CANDIDATE_MATERIALS,
                     EXAM_MISCONDUCT, CERTIFICATES_WITHOUT_EVALUATION, RESULT_FAIL,
                     REFUSED_EVALUATION)
RECTIFY_CLAUSES = (AUDIT_NOT_RECTIFIED, REGISTRATION_PROBLEM, RESULT_BELOW_STANDARD)
# Recorded by evaluators with evidence (the findings form); the rest are derived.
FINDING_CLAUSES = (FALSE_MATERIALS, BEYOND_SCOPE, FORGED_CANDIDATE_MATERIALS,
                   EXAM_MISCONDUCT, CERTIFICATES_WITHOUT_EVALUATION, AUDIT_NOT_RECTIFIED)

# Outcome labels (四(三)).
TERMINATED = "终止备案"
RENEWAL_WITHHELD = "暂时不予延续备案"
SUSPENDED = "暂停评价活动"
RENEWAL_AGREED = "同意延续备案"
NORMAL = "正常评价"
RENEWED = "延续备案"
RESUMED = "恢复评价活动"

_OUTCOMES = {
    (TERMINATE, 2020): TERMINATED, (TERMINATE, 2021): TERMINATED,
    (RECTIFY, 2020): RENEWAL_WITHHELD, (RECTIFY, 2021): SUSPENDED,
    (PASS, 2020): RENEWAL_AGREED, (PASS, 2021): NORMAL,
}
_AFTER_RECTIFICATION = {2020: RENEWED, 2021: RESUMED}


@dataclass(frozen=True)
class Clause:
    code: str
    klass: str | None  # None: not a verdict clause (四(二) re-decision, 六(四) extension)
    zh: str
    en: str


CLAUSES: dict[str, Clause] = {c.code: c for c in (
    Clause(NO_ACTIVITY, TERMINATE, "自备案以来连续两年未开展职业技能等级评价工作",
           "no certification activity in two consecutive years since filing"),
    Clause(FALSE_MATERIALS, TERMINATE, "备案申请中故意提供虚假承诺、虚假资料",
           "false commitments or materials in the filing application"),
    Clause(BEYOND_SCOPE, TERMINATE, "严重超出备案范围开展评价工作",
           "evaluation seriously beyond the filing scope"),
    Clause(FORGED_CANDIDATE_MATERIALS, TERMINATE, "为参评人员或协助参评人员伪造申报资料或证件,或纵容参评人员违规报名",
           "forging, or helping forge, candidates' materials; conniving at irregular registration"),
    Clause(EXAM_MISCONDUCT, TERMINATE, "考场秩序混乱,有组织舞弊",
           "disorderly examinations, organised cheating"),
    Clause(CERTIFICATES_WITHOUT_EVALUATION, TERMINATE, "未经评价直接颁发证书或伪造虚假成绩颁发证书",
           "certificates issued without evaluation, or on forged results"),
    Clause(RESULT_FAIL, TERMINATE, "评估结果不合格", "evaluation result 不合格 (fail)"),
    Clause(REFUSED_EVALUATION, TERMINATE, "无故拒绝参加评估,取消备案资质",
           "refused to take part in the evaluation without good reason"),
    Clause(AUDIT_NOT_RECTIFIED, RECTIFY, "对涉及审计提出问题整改不到位",
           "audit findings not properly rectified"),
    Clause(REGISTRATION_PROBLEM, RECTIFY, "法人登记证明不在有效期内,或年度报告中存在影响法人资质合规性问题",
           "legal-person registration expired, or compliance problems in the annual reports "
           "of 民政/市场监管"),
    Clause(RESULT_BELOW_STANDARD, RECTIFY, "评估结果不达标准", "evaluation result 不达标 (below standard)"),
    Clause(RECTIFICATION, None, "限期2个月内完成整改,再视情况决定是否准予延续备案或恢复评价活动",
           "rectify within two months, then renewal/resumption or termination"),
    Clause(EXTENSION, None, "备案时间已到期的,认定工作可暂时延续2个月",
           "an expired filing may continue certification for two months"),
)}


def parse_clause(text: str) -> str:
    """A clause code as typed in a form: Chinese input methods give full-width
    parentheses (四\uff08一\uff095) and cells pick up blanks, so both are normalised."""
    if not isinstance(text, str):
        raise ValueError(f"expected a clause code such as 四(一)5, got {text!r}")
    code = "".join(text.split()).replace("\uff08", "(").replace("\uff09", ")")
    if code not in CLAUSES:
        raise ValueError(f"unknown clause {text!r} (known: {', '.join(CLAUSES)})")
    return code


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

    def inactive_years(self) -> tuple[int, int] | None:
        """The first two consecutive years without activity in the window, if any."""
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
    Rule(NO_ACTIVITY, TERMINATE, lambda f: f.inactive_years() is not None),
    Rule(FALSE_MATERIALS, TERMINATE, _finding(FALSE_MATERIALS)),
    Rule(BEYOND_SCOPE, TERMINATE, lambda f: f.seriously_out_of_scope or BEYOND_SCOPE in f.findings),
    Rule(FORGED_CANDIDATE_MATERIALS, TERMINATE, _finding(FORGED_CANDIDATE_MATERIALS)),
    Rule(EXAM_MISCONDUCT, TERMINATE, _finding(EXAM_MISCONDUCT)),
    Rule(CERTIFICATES_WITHOUT_EVALUATION, TERMINATE, _finding(CERTIFICATES_WITHOUT_EVALUATION)),
    Rule(RESULT_FAIL, TERMINATE, lambda f: f.grade == GRADE_FAIL),
    Rule(REFUSED_EVALUATION, TERMINATE,
         lambda f: f.self_assessment_due_passed and not f.self_assessed and not f.excused),
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


def _clause_line(code: str, facts: Facts) -> str:
    c = CLAUSES[code]
    line = f"{c.code} {c.zh} / {c.en}"
    detail = _detail(code, facts)
    return f"{line}: {detail}" if detail else line


def _detail(code: str, facts: Facts) -> str:
    if code == NO_ACTIVITY and (pair := facts.inactive_years()):
        return (f"{pair[0]}、{pair[1]}年无认定活动 / no activity in {pair[0]} and {pair[1]} "
                f"(filed {facts.filed_year}, evaluated through {facts.evaluated_through_year})")
    if code in (RESULT_FAIL, RESULT_BELOW_STANDARD):
        return f"评估结果{facts.grade} / evaluation result {facts.grade}"
    if code == REFUSED_EVALUATION:
        return "自查自评期满未提交且无正当理由 / no self-assessment by the milestone, no accepted excuse"
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
            parts.append("认定记录超出备案范围 / activity recorded outside the filing scope")
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
    raise ValueError(f"unknown basis {basis!r}")
