"""The decisions' Case aggregate in memory: verdicts, revisions and deadlines, each of
which fires once however often the sweep calls it."""
import datetime

import pytest
from hypothesis import given, strategies as st

from shared.language.outcomes import COHORTS
from shared.metadata import caused_by
from services.decisions.domain import CLOSED, RECTIFYING, Campaign, Case
from tests import factories

D = datetime.date


@pytest.fixture(autouse=True)
def cause():
    with caused_by("test", "system"):
        yield


def campaign():
    return Campaign(notice="n", cohorts=list(COHORTS),
                    milestones={"self_assessment_due": "2023-08-31",
                                "evaluation_due": "2023-09-30",
                                "publication_due": "2023-10-31"},
                    evaluated_through_year=2022, opened_on="2023-08-28")


def filed(cohort=2021, **kwargs):
    row = factories.institution(1, cohort=cohort, **kwargs)
    case = Case(row.uscc)
    case.note_filing(row.to_dict(), "e-filed")
    case.note_self_assessment(True, {"activity_years": [2021, 2022], "out_of_scope": [],
                                     "seriously_out_of_scope": False, "filed_year": cohort,
                                     "evaluated_through_year": 2022}, "e-sa")
    return case


def score(case, total, grade, kind="initial"):
    case.note_score({"kind": kind, "total": total, "grade": grade, "rubric_version": "2023.1",
                     "evaluated_on": "2023-09-20"}, f"e-score-{kind}")


def test_below_standard_rectifies_with_a_deadline_then_terminates_once():
    case, c = filed(), campaign()
    score(case, 72, "不达标")
    case.reconsider(D(2023, 9, 20), c)
    assert (case.phase, case.verdict["outcome"], case.deadline) == (
        RECTIFYING, "暂停评价活动", "2023-11-20")
    assert case.rectification_deadline_passed(D(2023, 11, 20), c) is None  # last day
    assert case.rectification_deadline_passed(D(2023, 11, 21), c).outcome == "终止备案"
    version = case.version
    assert case.rectification_deadline_passed(D(2023, 12, 1), c) is None
    assert case.version == version and case.phase == CLOSED


def test_a_rescore_after_rectification_passes_or_fails_it():
    for total, grade, outcome in ((88, "合格", "恢复评价活动"), (70, "不达标", "终止备案")):
        case, c = filed(), campaign()
        score(case, 72, "不达标")
        case.reconsider(D(2023, 9, 20), c)
        case.note_rectification("2023-11-01", "e-rect")
        score(case, total, grade, kind="rescore")
        verdict = case.reconsider(D(2023, 11, 2), c)
        assert (verdict.outcome, verdict.clauses) == (outcome, ("四(二)",))
        assert case.phase == CLOSED


def test_a_verdict_whose_grounds_go_is_withdrawn():
    case, c = filed(), campaign()
    case.note_finding("四(一)5#1", "四(一)5", True, "e-f")
    assert case.reconsider(D(2023, 9, 1), c).outcome == "终止备案"  # before any score
    case.note_finding("四(一)5#1", "四(一)5", False, "e-w")
    assert case.reconsider(D(2023, 9, 2), c).decided is False
    assert case.verdict["outcome"] is None


def test_no_self_assessment_terminates_after_the_milestone_unless_excused():
    for excused, outcome in ((False, "终止备案"), (True, None)):
        row = factories.institution(2, cohort=2020)
        case, c = Case(row.uscc), campaign()
        case.note_filing(row.to_dict(), "e")
        if excused:
            case.note_excuse("illness", "e-x")
        assert case.self_assessment_due_passed(D(2023, 8, 31), c) is None
        case.self_assessment_due_passed(D(2023, 9, 1), c)
        assert (case.verdict or {}).get("outcome") == outcome


def test_an_expiring_filing_is_extended_two_months_once_and_ends_unless_renewed():
    case, c = filed(valid_until=D(2023, 9, 15)), campaign()
    assert case.extend_expired_filing(D(2023, 9, 15), c) is None
    assert case.extend_expired_filing(D(2023, 9, 16), c) == D(2023, 11, 15)
    assert case.extend_expired_filing(D(2023, 9, 17), c) is None
    assert case.end_extension(D(2023, 11, 15)) is None
    assert case.end_extension(D(2023, 11, 16)) is False
    assert case.extension["ended"] == "ended" and case.end_extension(D(2024, 1, 1)) is None


@given(calls=st.lists(st.sampled_from(["deadline", "self", "extend", "end"]), max_size=12),
       days=st.lists(st.integers(0, 200), min_size=12, max_size=12))
def test_the_sweep_may_call_anything_any_number_of_times(calls, days):
    """Whatever the order and repetition of the sweep's commands, each deadline is
    recorded at most once."""
    with caused_by("test", "system"):
        case, c = filed(valid_until=D(2023, 9, 15)), campaign()
        score(case, 72, "不达标")
        case.reconsider(D(2023, 9, 20), c)
        for call, day in zip(calls, days):
            today = D(2023, 9, 20) + datetime.timedelta(days=day)
            {"deadline": lambda: case.rectification_deadline_passed(today, c),
             "self": lambda: case.self_assessment_due_passed(today, c),
             "extend": lambda: case.extend_expired_filing(today, c),
             "end": lambda: case.end_extension(today)}[call]()
        names = [type(e).__name__ for e in case.collect_events()]
        assert names.count("DeadlinePassed") <= 1
        assert names.count("FilingExtended") <= 1
        assert names.count("ExtensionEnded") <= 1


def test_an_older_version_of_a_fact_arriving_late_changes_nothing():
    """Messages overtake each other; the latest version of each fact wins."""
    from shared.metadata import about_fact
    case = filed()
    assert case.is_newer("finding:x", 7)
    with about_fact("finding:x", 7):
        case.note_finding("x", "四(一)5", False, "e-withdrawn")  # version 7 withdraws it
    assert not case.is_newer("finding:x", 6)  # the recording (version 6) comes late
    assert case.is_newer("finding:x", 8) and case.is_newer("finding:y", 1)
    assert case.is_newer("anything", None)  # external facts carry no version


def test_a_rectification_submitted_in_time_waits_for_its_rescore():
    case, c = filed(), campaign()
    score(case, 72, "不达标")
    case.reconsider(D(2023, 9, 20), c)
    case.note_rectification("2023-11-19", "e-rect")
    case.note_rectification("2023-12-01", "e-rect-again")  # the first one counts
    assert case.rectification_deadline_passed(D(2023, 12, 5), c) is None
    score(case, 86, "合格", kind="rescore")
    assert case.reconsider(D(2023, 12, 6), c).outcome == "恢复评价活动"
