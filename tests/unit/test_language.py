"""The shared language (shared/language/, issue 12): the facts of the notice, written once."""
import uuid

import pytest
from hypothesis import given, strategies as st

from shared.language import identifiers, jurisdictions, notice, outcomes, readings
from shared.language.clauses import CLASSES, PASS, RECTIFY, TERMINATE


def test_ids_never_change():
    # Stored aggregates are found by these ids: a changed namespace would orphan them all.
    assert identifiers.case_id("52140100MJ00000001X") == \
        uuid.UUID("e6471693-8c54-5400-89d0-1216cde0c4b4")
    assert identifiers.campaign_id(notice.NOTICE_2023) == \
        uuid.UUID("4e15a2c4-bd75-55b2-8c31-5f9e695cabd7")


def test_the_application_module_gives_the_same_ids():
    from shared import application
    assert application.case_id is identifiers.case_id
    assert application.campaign_id is identifiers.campaign_id


def test_jurisdictions_are_the_province_then_its_eleven_cities():
    assert jurisdictions.JURISDICTIONS[0] == jurisdictions.PROVINCE == "140000"
    assert jurisdictions.JURISDICTIONS[1:] == tuple(sorted(jurisdictions.CITIES))
    assert len(jurisdictions.CITIES) == 11
    assert all(code.startswith("14") and code.endswith("00")
               for code in jurisdictions.JURISDICTIONS)


def test_every_class_has_an_outcome_in_every_cohort():
    assert set(outcomes.OUTCOMES) == {(k, c) for k in CLASSES for c in outcomes.COHORTS}
    assert outcomes.OUTCOMES[(TERMINATE, outcomes.RENEWAL_COHORT)] == outcomes.TERMINATED
    assert outcomes.OUTCOMES[(RECTIFY, outcomes.CONTINUING_COHORT)] == outcomes.SUSPENDED
    assert outcomes.OUTCOMES[(PASS, outcomes.RENEWAL_COHORT)] == outcomes.RENEWAL_AGREED
    assert set(outcomes.AFTER_RECTIFICATION) == set(outcomes.COHORTS)


def test_the_notice_is_cited_as_the_department_does():
    assert notice.citation() == \
        "《关于组织对全省职业技能等级认定评价机构开展评估的通知》（晋人社办函〔2023〕223号）"
    assert notice.cohort_span(outcomes.COHORTS) == "2020-2021年度"
    assert notice.cohort_span([2024]) == "2024年度"
    with pytest.raises(ValueError):
        notice.cohort_span([])


@given(st.sets(st.integers(2000, 2100), min_size=1))
def test_cohort_span_runs_from_first_to_last(years):
    span = notice.cohort_span(years)
    assert span.startswith(str(min(years))) and span.endswith(f"{max(years)}年度")


def test_default_readings_follow_the_milestones():
    milestones = {"self_assessment_due": "2023-08-31", "evaluation_due": "2023-09-30",
                  "publication_due": "2023-10-31"}
    d = readings.default_readings(milestones)
    assert d["self_assessment_due"] == {"default": "2023-08-31", "by_jurisdiction": {}}
    # 二(一) 至评估前一个月: the last day of the month before the self-assessment month.
    assert d["no_activity"] == {"months": 24, "window_ends": "2023-07-31"}
    assert d["extension_window"] == {"from": None, "to": "2023-10-31"}
    merged = readings.readings_with_defaults({"beyond_scope": {"people": 5}}, milestones)
    assert merged["beyond_scope"] == {"people": 5, "share": 0.2}
    assert merged["no_activity"] == d["no_activity"]
