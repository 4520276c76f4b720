import json
import re
from datetime import date

import pytest
from hypothesis import given, strategies as st

from services.decisions import rulebook as rb
from services.decisions.rulebook import (
    RULEBOOK_VERSION, Facts, Verdict, after_rectification, decide, explain, extension_end,
    in_extension, rectification_deadline,
)
from services.evaluation import rubric
from shared.language import clauses as lc, outcomes
from shared.language.clauses import (
    CLAUSES, FINDING_CLAUSES, RECTIFY_CLAUSES, TERMINATE_CLAUSES, parse_clause)
from shared.language.outcomes import COHORTS
RECTIFY_LABEL = {2020: "暂时不予延续备案", 2021: "暂停评价活动"}
PASS_LABEL = {2020: "同意延续备案", 2021: "正常评价"}


def clean(cohort, **kw):
    """An institution that is active every year, self-assessed and scored 合格."""
    base = dict(cohort=cohort, grade="合格", filed_year=cohort,
                activity_years=frozenset(range(cohort, 2024)), evaluated_through_year=2022,
                self_assessed=True, self_assessment_due_passed=True)
    base.update(kw)
    return Facts(**base)


def test_clause_constants():
    assert TERMINATE_CLAUSES == ("四(一)1", "四(一)2", "四(一)3", "四(一)4", "四(一)5",
                                 "四(一)6", "四(一)7", "六(二)")
    assert RECTIFY_CLAUSES == ("四(二)1", "四(二)2", "四(二)3")
    # Issue 17: the jurisdiction records a refusal (六(二)) as a finding.
    assert set(FINDING_CLAUSES) == {"四(一)2", "四(一)3", "四(一)4", "四(一)5", "四(一)6", "六(二)",
                                    "四(二)1"}
    assert lc.EXTENSION == "六(四)" and CLAUSES["六(四)"].klass is None
    for code in TERMINATE_CLAUSES + RECTIFY_CLAUSES:
        assert CLAUSES[code].zh and CLAUSES[code].en
    # the rules table follows DESIGN.md's order
    assert tuple(r.clause for r in rb.RULES) == TERMINATE_CLAUSES + RECTIFY_CLAUSES
    assert RULEBOOK_VERSION == "2023.2"  # issue 17 changed readings


def test_grades_match_the_rubric():
    assert outcomes.GRADES == rubric.GRADES


# -- each row of the rules table, for each cohort ----------------------------------------

TERMINATE_ROWS = [
    ("四(一)1", dict(activity_years=frozenset())),
    ("四(一)2", dict(findings={"四(一)2"})),
    ("四(一)3", dict(findings={"四(一)3"})),
    ("四(一)3", dict(seriously_out_of_scope=True)),
    ("四(一)4", dict(findings={"四(一)4"})),
    ("四(一)5", dict(findings={"四(一)5"})),
    ("四(一)6", dict(findings={"四(一)6"})),
    ("四(一)7", dict(grade="不合格")),
    # Issue 17: automatic only until evaluated on site; or recorded by the jurisdiction.
    ("六(二)", dict(self_assessed=False, grade=None)),
    ("六(二)", dict(findings={"六(二)"})),
]
RECTIFY_ROWS = [
    ("四(二)1", dict(findings={"四(二)1"})),
    ("四(二)2", dict(legal_registration_expired=True)),
    ("四(二)2", dict(annual_report_problem=True)),
    ("四(二)3", dict(grade="不达标")),
]


@pytest.mark.parametrize("cohort", COHORTS)
@pytest.mark.parametrize("clause, facts", TERMINATE_ROWS)
def test_terminate_rows(cohort, clause, facts):
    v = decide(clean(cohort, **facts))
    assert (v.klass, v.outcome, v.clauses, v.also_fired) == ("terminate", "终止备案", (clause,), ())
    assert v.rulebook_version == RULEBOOK_VERSION


@pytest.mark.parametrize("cohort", COHORTS)
@pytest.mark.parametrize("clause, facts", RECTIFY_ROWS)
def test_rectify_rows(cohort, clause, facts):
    v = decide(clean(cohort, **facts))
    assert (v.klass, v.outcome, v.clauses) == ("rectify", RECTIFY_LABEL[cohort], (clause,))


@pytest.mark.parametrize("cohort", COHORTS)
def test_pass_row(cohort):
    v = decide(clean(cohort))
    assert (v.klass, v.outcome, v.clauses, v.also_fired) == ("pass", PASS_LABEL[cohort], (), ())


@pytest.mark.parametrize("cohort", COHORTS)
def test_undecided_until_scored(cohort):
    v = decide(clean(cohort, grade=None))
    assert (v.klass, v.outcome, v.clauses) == (None, None, ())
    assert not v.decided
    assert decide(Facts(cohort=cohort)) == Verdict(None, None)


def test_rectify_and_terminate_decided_before_scoring():
    assert decide(clean(2020, grade=None, legal_registration_expired=True)).klass == "rectify"
    assert decide(clean(2021, grade=None, findings={"四(一)5"})).klass == "terminate"


# -- 四(一)1: two consecutive years without activity since filing -----------------------

@pytest.mark.parametrize("filed, active, through, fires", [
    (2020, set(range(2020, 2023)), 2022, False),
    (2020, {2021}, 2022, False),          # 2020 and 2022 quiet, but not consecutive
    (2020, {2022}, 2022, True),           # 2020-2021 quiet
    (2020, {2020}, 2022, True),           # 2021-2022 quiet
    (2021, set(), 2022, True),            # the filing year counts
    (2021, {2023}, 2022, True),           # activity after the window does not undo it
    (2021, {2022}, 2022, False),
    (2021, {2021}, 2022, False),          # only 2022 quiet
    (2021, {2019, 2020}, 2022, True),     # activity before filing does not count
    (2021, set(), 2021, False),           # one year in the window is not two
    (2021, set(), 2023, True),
    (2020, {2020, 2023}, 2023, True),
])
def test_no_activity_window(filed, active, through, fires):
    f = clean(2021, filed_year=filed, activity_years=frozenset(active), evaluated_through_year=through)
    assert (lc.NO_ACTIVITY in decide(f).clauses) is fires


def test_no_activity_unknown_never_fires():
    for kw in (dict(activity_years=None), dict(filed_year=None, activity_years=frozenset()),
               dict(evaluated_through_year=None, activity_years=frozenset())):
        assert decide(clean(2020, **kw)).klass == "pass"


def test_inactive_years_reports_first_pair():
    f = clean(2020, filed_year=2020, activity_years=frozenset(), evaluated_through_year=2022)
    assert f.inactive_years() == tuple(range(2020, 2022))


# -- 六(二): non-participation ------------------------------------------------------------

@pytest.mark.parametrize("due_passed, assessed, excused, grade, fires", [
    (True, False, False, None, True),
    (True, True, False, None, False),
    (True, False, True, None, False),
    (False, False, False, None, False),  # not yet due
    (True, False, False, "合格", False),  # evaluated on site after all (issue 17)
    (True, False, False, "不合格", False),  # ... whatever the result: 四(一)7 decides then
])
def test_refused_evaluation(due_passed, assessed, excused, grade, fires):
    f = clean(2020, self_assessment_due_passed=due_passed, self_assessed=assessed,
              excused=excused, grade=grade)
    assert (lc.REFUSED_EVALUATION in decide(f).clauses) is fires


def test_a_refusal_recorded_by_the_jurisdiction_terminates_even_when_scored():
    v = decide(clean(2021, findings={"六(二)"}, grade="合格"))
    assert (v.outcome, v.clauses) == ("终止备案", ("六(二)",))


# -- precedence -------------------------------------------------------------------------

def test_terminate_wins_and_lists_everything():
    f = clean(2021, grade="不合格", findings={"四(一)5", "四(一)2", "四(二)1"},
              legal_registration_expired=True)
    v = decide(f)
    assert v.outcome == "终止备案"
    assert v.clauses == ("四(一)2", "四(一)5", "四(一)7")   # table order
    assert v.also_fired == ("四(二)1", "四(二)2")


def test_rectify_lists_all_rectify_clauses():
    v = decide(clean(2020, grade="不达标", findings={"四(二)1"}, annual_report_problem=True))
    assert v.clauses == ("四(二)1", "四(二)2", "四(二)3") and v.also_fired == ()


# -- facts validation ---------------------------------------------------------------------

@pytest.mark.parametrize("kw, msg", [
    (dict(cohort=2019), "cohort"), (dict(cohort=2022), "2022"),
    (dict(cohort=2020, grade="优秀"), "grade"),
    (dict(cohort=2020, findings={"四(一)7"}), "四(一)7"),   # derived, not a finding
    (dict(cohort=2020, findings={"六(四)"}), "六(四)"),
])
def test_facts_validation(kw, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        Facts(**kw)


def test_parse_clause():
    assert parse_clause("四(一)5") == "四(一)5"
    assert parse_clause(" 四(二) 1 ") == "四(二)1"
    with pytest.raises(ValueError, match="unknown clause"):
        parse_clause("四(一)9")


# -- hypothesis over combinations -------------------------------------------------------

facts_st = st.builds(
    Facts,
    cohort=st.sampled_from(COHORTS),
    grade=st.sampled_from((None, "合格", "不达标", "不合格")),
    findings=st.frozensets(st.sampled_from(FINDING_CLAUSES)),
    filed_year=st.one_of(st.none(), st.sampled_from(COHORTS)),
    activity_years=st.one_of(st.none(), st.frozensets(st.integers(2018, 2024))),
    evaluated_through_year=st.one_of(st.none(), st.integers(2020, 2024)),
    seriously_out_of_scope=st.booleans(),
    legal_registration_expired=st.booleans(),
    annual_report_problem=st.booleans(),
    self_assessed=st.booleans(),
    excused=st.booleans(),
    self_assessment_due_passed=st.booleans(),
)


def oracle(f):
    """The rules table restated independently of rulebook.RULES."""
    t = set(f.findings) & set(TERMINATE_CLAUSES)
    if f.inactive_years():
        t.add("四(一)1")
    if f.seriously_out_of_scope:
        t.add("四(一)3")
    if f.grade == "不合格":
        t.add("四(一)7")
    if f.self_assessment_due_passed and not (f.self_assessed or f.excused) and f.grade is None:
        t.add("六(二)")
    r = set(f.findings) & set(RECTIFY_CLAUSES)
    if f.legal_registration_expired or f.annual_report_problem:
        r.add("四(二)2")
    if f.grade == "不达标":
        r.add("四(二)3")
    return t, r


@given(facts_st)
def test_decide_matches_the_table(f):
    v = decide(f)
    t, r = oracle(f)
    if t:
        assert v.klass == "terminate" and v.outcome == "终止备案"
        assert set(v.clauses) == t and set(v.also_fired) == r
    elif r:
        assert v.klass == "rectify" and v.outcome == RECTIFY_LABEL[f.cohort]
        assert set(v.clauses) == r and v.also_fired == ()
    elif f.grade is None:
        assert (v.klass, v.outcome) == (None, None)
    else:
        assert f.grade == "合格"
        assert v.klass == "pass" and v.outcome == PASS_LABEL[f.cohort] and v.clauses == ()
    order = TERMINATE_CLAUSES + RECTIFY_CLAUSES
    assert list(v.clauses) == sorted(v.clauses, key=order.index)
    assert list(v.also_fired) == sorted(v.also_fired, key=order.index)
    assert v.rulebook_version == RULEBOOK_VERSION


@given(facts_st, st.sampled_from(FINDING_CLAUSES[:5]))
def test_any_terminate_finding_terminates_regardless(f, clause):
    g = Facts.from_dict(f.to_dict() | {"findings": sorted(f.findings | {clause})})
    v = decide(g)
    assert v.outcome == "终止备案" and clause in v.clauses


@given(facts_st)
def test_adding_a_rectify_fact_never_improves(f):
    rank = {"terminate": 0, "rectify": 1, "pass": 2, None: 3}
    worse = Facts.from_dict(f.to_dict() | {"legal_registration_expired": True})
    assert rank[decide(worse).klass] <= min(rank[decide(f).klass], 1)


@given(facts_st)
def test_round_trips_and_explanations(f):
    assert Facts.from_dict(json.loads(json.dumps(f.to_dict()))) == f
    v = decide(f)
    assert Verdict.from_dict(json.loads(json.dumps(v.to_dict()))) == v
    lines = explain(f, v)
    assert lines
    for code in v.clauses + v.also_fired:
        assert any(line.startswith(code + " ") for line in lines)


def test_explain_is_bilingual_and_cites_years():
    f = clean(2021, activity_years=frozenset(), grade="不达标", legal_registration_expired=True)
    lines = explain(f, decide(f))
    assert lines[0].startswith("结论:终止备案")
    assert any("四(一)1" in l and "2021" in l and "2022" in l and "no activity" in l for l in lines)
    assert any(l.startswith("四(二)2") and "also applies" in l for l in lines)
    assert "同意延续备案" in explain(clean(2020), decide(clean(2020)))[0]


# -- rectification and extension ----------------------------------------------------------

@pytest.mark.parametrize("cohort, label", [(2020, "延续备案"), (2021, "恢复评价活动")])
def test_after_rectification_passed(cohort, label):
    v = after_rectification(cohort, True, rectified=("四(二)3",))
    assert (v.klass, v.outcome, v.clauses, v.also_fired) == ("pass", label, ("四(二)",), ("四(二)3",))


@pytest.mark.parametrize("cohort", COHORTS)
def test_after_rectification_failed_or_missed(cohort):
    v = after_rectification(cohort, False)
    assert (v.klass, v.outcome) == ("terminate", "终止备案")


def test_after_rectification_validates():
    with pytest.raises(ValueError):
        after_rectification(2022, True)
    with pytest.raises(ValueError):
        after_rectification(2020, True, rectified=("四(一)5",))


@pytest.mark.parametrize("decided, deadline", [
    (date(2023, 10, 31), date(2023, 12, 31)),
    (date(2023, 12, 31), date(2024, 2, 29)),
    (date(2023, 10, 15), date(2023, 12, 15)),
])
def test_rectification_deadline(decided, deadline):
    assert rectification_deadline(decided) == deadline


def test_extension_end():
    assert extension_end(date(2023, 9, 30)) == date(2023, 11, 30)
    assert extension_end(date(2023, 12, 31)) == date(2024, 2, 29)
    assert not in_extension(date(2023, 9, 30), date(2023, 9, 30))
    assert in_extension(date(2023, 9, 30), date(2023, 10, 1))
    assert in_extension(date(2023, 9, 30), date(2023, 11, 30))
    assert not in_extension(date(2023, 9, 30), date(2023, 12, 1))


def test_parse_clause_accepts_full_width_parentheses_and_blanks():
    assert parse_clause("四\uff08一\uff095") == "四(一)5"
    assert parse_clause(" 四(二) 1 ") == "四(二)1"
