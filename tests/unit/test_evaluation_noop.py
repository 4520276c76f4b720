"""No-op facts are no-ops (issue 11): a score, self-assessment, finding, rectification or
excuse handed in again exactly as recorded writes no event, so a re-sent form (an
operator's retry, a redelivered request) changes nothing downstream. In memory."""
import datetime

import pytest
from hypothesis import given, settings, strategies as st

from shared.metadata import caused_by
from shared.operators import Operator
from services.evaluation.application import Evaluation
from services.evaluation.campaign import DEFAULT_2023, Campaign
from services.evaluation.domain import CaseFile
from services.evaluation.forms import (FindingRow, RectificationRow, ScoreRow,
                                       SelfAssessmentRow)
from services.evaluation.rubric import DEFAULT_RUBRIC
from tests import factories

PROVINCE = Operator("province", "province", "140000")
TODAY = datetime.date(2023, 8, 30)


class InMemoryEvaluation(Evaluation):
    """The application on eventsourcing's in-memory store, with the campaign at hand
    (the read table that finds it is PostgreSQL's)."""

    def __init__(self):
        super().__init__(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        with caused_by("test", "system"):
            self.campaign = Campaign(**DEFAULT_2023)

    def require_campaign(self):
        return self.campaign


@pytest.fixture(autouse=True)
def cause():
    with caused_by("test", "system"):
        yield


def app_with_case(n=1):
    app = InMemoryEvaluation()
    row = factories.institution(n, cohort=2021)
    app.save(CaseFile(uscc=row.uscc, filing=row.to_dict()))
    return app, row.uscc


def events(app):
    """The names of the events recorded, in order."""
    return [n.topic.split(":", 1)[-1] for n in app.recorder.select_notifications(1, 10_000)]


def self_assessment_row(uscc, self_score=85, assessed=40, row_number=2):
    activity = [{"year": 2022, "occupation": "6-18-02-04", "level": 4, "assessed": assessed,
                 "passed": 36, "certified": 36, "row_number": row_number}]
    return SelfAssessmentRow(2, uscc, 12, 3, 5, self_score, activity)


def score_row(uscc, total, evaluated_on="2023-09-15", evaluator="评估员甲"):
    areas = factories.split_total(total)
    return ScoreRow(2, uscc, areas, DEFAULT_RUBRIC.score(areas).to_dict(), evaluator,
                    evaluated_on)


def test_the_same_score_sheet_twice_writes_one_score():
    app, uscc = app_with_case()
    first = app.submit_scores(PROVINCE, "s.xlsx", [score_row(uscc, 80)])
    before = events(app)
    again = app.submit_scores(PROVINCE, "s.xlsx", [score_row(uscc, 80)])
    assert first == {"scored": 1, "unchanged": 0}
    assert again == {"scored": 0, "unchanged": 1}
    assert events(app) == before and before.count("CaseFile.Scored") == 1


def test_a_different_score_is_a_revision_and_a_rescore_after_rectification_counts():
    app, uscc = app_with_case()
    app.submit_scores(PROVINCE, "s.xlsx", [score_row(uscc, 70)])
    assert app.submit_scores(PROVINCE, "s.xlsx", [score_row(uscc, 72)])["scored"] == 1
    # Same numbers by another evaluator or on another day: a new fact.
    assert app.submit_scores(PROVINCE, "s.xlsx", [score_row(uscc, 72, evaluator="乙")]) == {
        "scored": 1, "unchanged": 0}
    app.submit_rectifications(PROVINCE, "r.xlsx",
                              [RectificationRow(2, uscc, "整改报告", "2023-10-01")])
    # The identical score after a rectification is its re-score, recorded once.
    rescore = score_row(uscc, 72, evaluator="乙")
    assert app.submit_scores(PROVINCE, "s.xlsx", [rescore])["scored"] == 1
    assert app.submit_scores(PROVINCE, "s.xlsx", [rescore]) == {"scored": 0, "unchanged": 1}
    kinds = [s["kind"] for s in app.repository.get(CaseFile.create_id(uscc)).scores]
    assert kinds == ["initial", "revised", "revised", "rescore"]


def test_the_same_self_assessment_twice_writes_one_even_on_a_later_day():
    app, uscc = app_with_case()
    first = app.submit_self_assessments(PROVINCE, "sa.xlsx", [self_assessment_row(uscc)], TODAY)
    before = events(app)
    # Re-sent a week later, rows in another place in the sheet: the same facts.
    later = TODAY + datetime.timedelta(days=7)
    again = app.submit_self_assessments(
        PROVINCE, "sa.xlsx", [self_assessment_row(uscc, row_number=9)], later)
    assert (first["self_assessed"], first["unchanged"]) == (1, 0)
    assert (again["self_assessed"], again["unchanged"]) == (0, 1)
    assert events(app) == before
    case = app.repository.get(CaseFile.create_id(uscc))
    assert case.self_assessment["submitted_on"] == TODAY.isoformat()
    changed = app.submit_self_assessments(
        PROVINCE, "sa.xlsx", [self_assessment_row(uscc, assessed=41)], later)
    assert changed["self_assessed"] == 1


def test_findings_rectifications_and_excuses_again_are_unchanged():
    app, uscc = app_with_case()
    finding = FindingRow(2, uscc, "四(一)1", "伪造材料")
    assert app.submit_findings(PROVINCE, "f.xlsx", [finding], TODAY) == {
        "findings": 1, "unchanged": 0}
    assert app.submit_findings(PROVINCE, "f.xlsx", [finding], TODAY) == {
        "findings": 0, "unchanged": 1}
    report = RectificationRow(2, uscc, "整改报告", "2023-10-01")
    assert app.submit_rectifications(PROVINCE, "r.xlsx", [report])["rectifications"] == 1
    assert app.submit_rectifications(PROVINCE, "r.xlsx", [report]) == {
        "rectifications": 0, "unchanged": 1}
    assert app.accept_excuse(PROVINCE, uscc, "疫情")["unchanged"] is False
    before = events(app)
    assert app.accept_excuse(PROVINCE, uscc, "疫情")["unchanged"] is True
    assert events(app) == before


scores = st.lists(st.sampled_from([60, 72, 80, 95]), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(totals=scores, repeats=st.lists(st.integers(1, 3), min_size=6, max_size=6))
def test_repeating_any_submission_records_what_submitting_it_once_records(totals, repeats):
    """A sequence of score sheets, each sent 1-3 times (a redelivery), ends in the same
    case and the same events as the sequence sent once each."""
    with caused_by("test", "system"):
        once, uscc = app_with_case()
        many, _ = app_with_case()
        for total, times in zip(totals, repeats):
            once.submit_scores(PROVINCE, "s.xlsx", [score_row(uscc, total)])
            for _ in range(times):
                many.submit_scores(PROVINCE, "s.xlsx", [score_row(uscc, total)])
        case_id = CaseFile.create_id(uscc)
        assert events(once) == events(many)
        assert once.repository.get(case_id).scores == many.repository.get(case_id).scores
