"""Rules at the edges (issue 17) and no-op verdicts (issue 11), on the decisions' Case in
memory. Each reproduction of the issue is a test here; `receive` is what the service does
with an upstream fact, `advance` what the sweep does on a business date."""
import datetime

import pytest
from hypothesis import given, settings, strategies as st

from shared.metadata import caused_by
from services.decisions import rulebook
from shared.language.clauses import NO_ACTIVITY
from shared.language.outcomes import COHORTS
from services.decisions.domain import CLOSED, DECIDED, RECTIFYING, Campaign, Case
from tests import factories

D = datetime.date
NOTICE_MILESTONES = {"self_assessment_due": "2023-08-31", "evaluation_due": "2023-09-30",
                     "publication_due": "2023-10-31"}


@pytest.fixture(autouse=True)
def cause():
    with caused_by("test", "system"):
        yield


def campaign(readings=None):
    return Campaign(notice="n", cohorts=list(COHORTS), milestones=NOTICE_MILESTONES,
                    evaluated_through_year=2022, opened_on="2023-08-28", readings=readings)


def filing(n=1, cohort=2021, **kwargs):
    return factories.institution(n, cohort=cohort, **kwargs).to_dict()


def derived(years=(2021, 2022), out_of_scope=()):
    return {"activity_years": list(years), "out_of_scope": list(out_of_scope),
            "seriously_out_of_scope": False, "filed_year": 2021,
            "evaluated_through_year": 2022}


def opened(c, cohort=2021, on=D(2023, 8, 28), **kwargs):
    """A case filed and self-assessed in time."""
    row = filing(cohort=cohort, **kwargs)
    case = Case(row["uscc"])
    case.receive(lambda k: k.note_filing(row, "e-filed"), on, c)
    case.receive(lambda k: k.note_self_assessment(True, derived(), "e-sa", on.isoformat(), 80),
                 on, c)
    return case


def score(case, c, on, total, grade, kind="initial"):
    return case.receive(lambda k: k.note_score(
        {"kind": kind, "total": total, "grade": grade, "rubric_version": "2023.1",
         "evaluated_on": on.isoformat()}, f"e-score-{kind}-{on}"), on, c)


def legal(case, c, on, status, until):
    return case.receive(lambda k: k.note_legal_status(status, until, f"e-legal-{on}"), on, c)


def rectify(case, c, submitted_on, recorded_on):
    """A rectification with 提交日期 `submitted_on`, recorded on business date `recorded_on`."""
    return case.receive(lambda k: k.note_rectification(submitted_on, "e-r", recorded_on),
                        D.fromisoformat(recorded_on), c)


def state(case):
    return (case.verdict or {}).get("outcome"), list((case.verdict or {}).get("clauses", [])), \
        case.deadline


def decided_count(case):
    return sum(type(e).__name__ == "Decided" for e in case.collect_events())


# -- the four reproductions at the top of the issue ---------------------------------------

def test_a_new_reason_to_rectify_gets_its_own_two_months():
    """不达标 09-20 (to 11-20), revised 合格 09-25, registration reported expired 12-01: two
    months from 12-01, not the 11-20 that had passed (main: 2023-11-20, terminated 11-21)."""
    c = campaign()
    case = opened(c)
    score(case, c, D(2023, 9, 20), 72, "不达标")
    assert state(case) == ("暂停评价活动", ["四(二)3"], "2023-11-20")
    score(case, c, D(2023, 9, 25), 85, "合格", kind="revised")
    assert state(case) == ("正常评价", [], None)
    legal(case, c, D(2023, 12, 1), "expired", "2023-11-30")
    assert state(case) == ("暂停评价活动", ["四(二)2"], "2024-02-01")
    case.advance(D(2023, 12, 2), c)
    assert case.phase == RECTIFYING and state(case)[0] == "暂停评价活动"


def test_a_termination_finding_terminates_a_case_closed_after_rectification():
    c = campaign()
    case = opened(c)
    score(case, c, D(2023, 9, 20), 72, "不达标")
    rectify(case, c, "2023-11-01", "2023-11-01")
    score(case, c, D(2023, 11, 5), 88, "合格", kind="rescore")
    assert (state(case)[0], case.phase) == ("恢复评价活动", CLOSED)
    case.receive(lambda k: k.note_finding("四(一)5#1", "四(一)5", True, "e-f"),
                 D(2023, 11, 20), c)
    assert state(case)[:2] == ("终止备案", ["四(一)5"])
    assert case.verdict["klass"] == "terminate"


def test_a_lapsing_registration_changes_the_verdict_on_the_first_day_after_whatever_arrives():
    """Valid until 09-20: rectify from 09-21, by the sweep alone, and the same verdict with
    deadline when an unrelated excuse arrives on 10-05 before any sweep ran (main: the
    case stayed 正常评价 until the excuse flipped it)."""
    results = []
    for with_excuse in (False, True):
        c = campaign()
        case = opened(c, legal_valid_until=D(2023, 9, 20))
        score(case, c, D(2023, 9, 15), 85, "合格")
        assert state(case) == ("正常评价", [], None)
        case.advance(D(2023, 9, 20), c)
        assert state(case) == ("正常评价", [], None)
        if with_excuse:
            case.receive(lambda k: k.note_excuse("说明", "e-x"), D(2023, 10, 5), c)
        else:
            case.advance(D(2023, 9, 21), c)
            assert state(case) == ("暂停评价活动", ["四(二)2"], "2023-11-21")
            case.advance(D(2023, 10, 5), c)
        results.append((state(case), case.decided_on))
    assert results[0] == results[1] == (("暂停评价活动", ["四(二)2"], "2023-11-21"), "2023-09-21")


def test_a_rectification_after_the_deadline_does_not_count_even_if_rescored_before_the_sweep():
    c = campaign()
    case = opened(c)
    score(case, c, D(2023, 9, 20), 72, "不达标")
    rectify(case, c, "2023-12-15", "2023-12-15")
    score(case, c, D(2023, 12, 16), 90, "合格", kind="rescore")
    assert state(case)[:2] == ("终止备案", ["四(二)"])
    assert case.decided_on == "2023-11-21"


def test_a_rectification_dated_before_the_decision_does_not_count():
    c = campaign()
    case = opened(c)
    score(case, c, D(2023, 9, 20), 72, "不达标")
    rectify(case, c, "2023-01-01", "2023-10-01")
    assert case.counted_rectification() is None
    score(case, c, D(2023, 10, 5), 90, "合格", kind="rescore")
    assert state(case)[0] == "暂停评价活动"  # still waiting for a rectification in time
    case.advance(D(2023, 11, 21), c)
    assert state(case)[:2] == ("终止备案", ["四(二)"])


@pytest.mark.parametrize("cohort, label", [(2020, "延续备案"), (2021, "恢复评价活动")])
def test_a_registration_renewed_during_rectification_goes_through_the_rectified_path(
        cohort, label):
    c = campaign()
    case = opened(c, cohort=cohort)
    score(case, c, D(2023, 9, 15), 85, "合格")
    legal(case, c, D(2023, 9, 20), "expired", "2023-09-01")
    assert case.phase == RECTIFYING and case.deadline == "2023-11-20"
    legal(case, c, D(2023, 10, 10), "valid", "2028-10-09")
    assert state(case) == (label, ["四(二)"], None)
    assert case.verdict["also_fired"] == ["四(二)2"] and case.phase == CLOSED
    # and the rederivation of that verdict agrees
    assert rulebook.rederive("cured", rulebook.Facts(cohort=cohort), ["四(二)2"]).outcome == label


def test_a_renewal_after_the_deadline_comes_too_late():
    c = campaign()
    case = opened(c)
    score(case, c, D(2023, 9, 15), 85, "合格")
    legal(case, c, D(2023, 9, 20), "expired", "2023-09-01")
    legal(case, c, D(2023, 12, 1), "valid", "2028-11-30")
    assert state(case)[:2] == ("终止备案", ["四(二)"]) and case.decided_on == "2023-11-21"


# -- rectification periods --------------------------------------------------------------

def test_a_later_different_reason_opens_its_own_period_and_the_same_reason_keeps_its_own():
    c = campaign()
    case = opened(c)
    score(case, c, D(2023, 9, 20), 72, "不达标")
    score(case, c, D(2023, 9, 25), 71, "不达标", kind="revised")
    assert case.deadline == "2023-11-20"  # the same reason keeps its period
    legal(case, c, D(2023, 10, 10), "expired", "2023-10-01")
    assert case.periods == {"四(二)3": {"opened_on": "2023-09-20", "deadline": "2023-11-20"},
                            "四(二)2": {"opened_on": "2023-10-10", "deadline": "2023-12-10"}}
    assert state(case)[1] == ["四(二)2", "四(二)3"]


def test_a_case_closed_after_rectification_gets_a_new_period_for_a_new_reason():
    c = campaign()
    case = opened(c)
    score(case, c, D(2023, 9, 20), 72, "不达标")
    rectify(case, c, "2023-10-20", "2023-10-20")
    score(case, c, D(2023, 10, 25), 90, "合格", kind="rescore")
    assert case.phase == CLOSED
    legal(case, c, D(2023, 12, 31), "expired", "2023-12-01")
    assert state(case) == ("暂停评价活动", ["四(二)2"], "2024-02-29")


# -- no-op verdicts (issue 11) ----------------------------------------------------------

def test_the_same_facts_again_record_no_verdict():
    c = campaign()
    case = opened(c)
    score(case, c, D(2023, 9, 20), 72, "不达标")
    case.collect_events()
    score(case, c, D(2023, 9, 21), 72, "不达标", kind="revised")  # a redelivered re-run
    score(case, c, D(2023, 9, 22), 74, "不达标", kind="revised")  # same verdict, same deadline
    assert decided_count(case) == 0
    score(case, c, D(2023, 9, 23), 85, "合格", kind="revised")
    assert decided_count(case) == 1


# -- 六(二) as an act of the jurisdiction ------------------------------------------------

def unassessed(c, n=7, city="140100", cohort=2021):
    row = filing(n, cohort=cohort, city=city)
    case = Case(row["uscc"])
    case.receive(lambda k: k.note_filing(row, "e-filed"), D(2023, 8, 28), c)
    return case


def test_each_jurisdiction_has_its_own_self_assessment_deadline():
    c = campaign({"self_assessment_due": {"by_jurisdiction": {"140100": "2023-09-15"}}})
    taiyuan, datong = unassessed(c, 7, "140100"), unassessed(c, 8, "140200")
    for case in (taiyuan, datong):
        case.advance(D(2023, 9, 10), c)
    assert state(taiyuan)[0] is None
    assert state(datong)[:2] == ("终止备案", ["六(二)"]) and datong.decided_on == "2023-09-01"
    # Taiyuan's institution hands in on 09-10, after the province's 08-31 but in time for
    # its city: evaluation called it late, decisions judges by the city's date.
    taiyuan.receive(lambda k: k.note_self_assessment(False, derived(), "e-sa", "2023-09-10"),
                    D(2023, 9, 10), c)
    taiyuan.advance(D(2023, 9, 20), c)
    assert state(taiyuan)[0] is None and not taiyuan.self_assessment_missed


def test_automatic_non_participation_is_withdrawn_by_an_evaluation_on_site():
    c = campaign()
    case = unassessed(c)
    case.advance(D(2023, 9, 1), c)
    assert state(case)[:2] == ("终止备案", ["六(二)"])
    score(case, c, D(2023, 9, 20), 95, "合格")
    assert state(case) == ("正常评价", [], None)


def test_a_refusal_recorded_by_the_jurisdiction_stands_after_scoring():
    c = campaign()
    case = unassessed(c)
    case.receive(lambda k: k.note_finding("六(二)#1", "六(二)", True, "e-f"), D(2023, 9, 5), c)
    score(case, c, D(2023, 9, 20), 95, "合格")
    assert state(case)[:2] == ("终止备案", ["六(二)"])


# -- 四(一)1 over the real window -------------------------------------------------------

@pytest.mark.parametrize("filed, active, fires", [
    ("2021-06-01", {2023}, False),        # the issue's case: a partial year is not a year
    ("2021-12-10", {2023}, False),        # the sample's late-2021 filings
    ("2021-06-01", set(), True),          # 2021-06-01 .. 2023-07-31: 26 months
    ("2021-08-01", set(), True),          # exactly 24 months to 2023-07-31
    ("2021-08-02", set(), False),
    ("2020-01-01", {2022, 2023}, True),   # 2020 and 2021, whole
    ("2020-01-02", {2022, 2023}, False),  # a day short of 24 months
    ("2020-05-01", {2021}, False),        # activity in between
])
def test_no_activity_counts_whole_months_in_the_window(filed, active, fires):
    f = rulebook.Facts(cohort=2021, grade="合格", activity_years=frozenset(active),
                       filed_year=int(filed[:4]), filed_on=filed,
                       activity_window_ends="2023-07-31", self_assessed=True)
    assert (NO_ACTIVITY in rulebook.decide(f).clauses) is fires


def test_no_activity_months_and_window_are_campaign_settings():
    c = campaign({"no_activity": {"months": 12, "window_ends": "2022-12-31"}})
    f = opened(c).facts(D(2023, 9, 1), c)
    assert (f.inactive_months, f.activity_window_ends) == (12, "2022-12-31")


# -- 四(一)3 threshold ------------------------------------------------------------------

@pytest.mark.parametrize("rows, total, serious", [
    ([{"assessed": 1, "certified": 1}], 500, False),      # one certificate is not serious
    ([{"assessed": 900, "certified": 0}], 1000, True),    # 900 assessed outside is
    ([{"assessed": 19, "certified": 0}], 1000, False),
    ([{"assessed": 20, "certified": 0}], 1000, True),
    ([{"assessed": 5, "certified": 5}], 20, True),        # a quarter of everyone assessed
    ([{"assessed": 5, "certified": 5}], None, False),     # share unknown: count only
    ([], 100, False),
])
def test_beyond_scope_threshold(rows, total, serious):
    assert rulebook.seriously_beyond_scope(rows, total, {"people": 20, "share": 0.2}) is serious


def test_beyond_scope_reads_the_campaign_threshold():
    c = campaign({"beyond_scope": {"people": 1, "share": 1}})
    case = opened(c)
    case.receive(lambda k: k.note_self_assessment(
        True, derived(out_of_scope=[{"year": 2022, "occupation": "x", "level": 3,
                                     "assessed": 1, "certified": 1}]), "e-sa2", "2023-08-29",
        81), D(2023, 8, 29), c)
    score(case, c, D(2023, 9, 20), 85, "合格")
    assert state(case)[:2] == ("终止备案", ["四(一)3"])
    decided = [e for e in case.collect_events() if type(e).__name__ == "Decided"][-1]
    assert "1 people" in " ".join(rulebook.explain(rulebook.Facts.from_dict(decided.facts),
                                                   rulebook.Verdict.from_dict(case.verdict)))


# -- 六(四) window ------------------------------------------------------------------------

@pytest.mark.parametrize("valid_until, extended", [
    (D(2023, 8, 27), False), (D(2023, 8, 28), True), (D(2023, 10, 31), True),
    (D(2023, 11, 1), False), (D(2025, 3, 1), False),
])
def test_extension_only_for_filings_expiring_between_opening_and_publication(valid_until,
                                                                             extended):
    c = campaign()
    case = opened(c, valid_until=valid_until)
    case.advance(valid_until + datetime.timedelta(days=1), c)
    assert (case.extension is not None) is extended


def test_extension_window_is_a_campaign_setting():
    c = campaign({"extension_window": {"from": "2023-08-01", "to": "2023-12-31"}})
    case = opened(c, valid_until=D(2023, 8, 27))
    case.advance(D(2023, 9, 1), c)
    assert case.extension == {"valid_until": "2023-08-27", "until": "2023-10-27", "ended": None}


# -- the property: same facts, same date, same verdict ----------------------------------

FACTS = {
    "score-72": lambda k: k.note_score({"kind": "initial", "total": 72, "grade": "不达标",
                                        "rubric_version": "2023.1", "evaluated_on": "x"},
                                       "e-s"),
    "score-85": lambda k: k.note_score({"kind": "initial", "total": 85, "grade": "合格",
                                        "rubric_version": "2023.1", "evaluated_on": "x"},
                                       "e-s"),
    "finding-audit": lambda k: k.note_finding("四(二)1#1", "四(二)1", True, "e-f"),
    "legal-lapses-1010": lambda k: k.note_legal_status("valid", "2023-10-10", "e-l"),
}
NOISE = {
    "excuse": lambda k: k.note_excuse("说明", "e-x"),
    "old-activity": lambda k: k.note_activity(2019, 0, "e-a"),
    "finding-withdrawn": lambda k: k.note_finding("none#1", "四(一)2", False, "e-w"),
}
START = D(2023, 9, 1)


def run(arrivals, sweeps, end):
    """`arrivals`: (day offset, fact name) in order; `sweeps`: day offsets the sweep ran."""
    c = campaign()
    case = opened(c, legal_valid_until=D(2026, 1, 1))
    events = sorted([(d, 0, name) for d, name in arrivals] + [(d, 1, None) for d in sweeps],
                    key=lambda e: e[:2])
    for day, _, name in events:
        today = START + datetime.timedelta(days=day)
        if name is None:
            case.advance(today, c)
        else:
            note = FACTS.get(name) or NOISE[name]
            case.receive(note, today, c)
    case.advance(end, c)
    return state(case), case.phase


@settings(max_examples=150, deadline=None)
@given(facts=st.lists(st.tuples(st.integers(0, 120), st.sampled_from(sorted(FACTS))),
                      max_size=4, unique_by=lambda t: t[1]),
       noise=st.lists(st.tuples(st.integers(0, 150), st.sampled_from(sorted(NOISE))),
                      max_size=4),
       sweeps=st.lists(st.integers(0, 150), max_size=10),
       end=st.integers(0, 150))
def test_same_facts_and_same_date_give_the_same_verdict_whatever_arrives_between(
        facts, noise, sweeps, end):
    """Facts arriving on their days; unrelated events and sweeps on any days in between (or
    none): on the last day the verdict, its clauses and its deadline are the same."""
    with caused_by("test", "system"):
        today = START + datetime.timedelta(days=end)
        facts = [(d, n) for d, n in facts if d <= end]
        # An excuse is not unrelated once the self-assessment is done: it changes nothing.
        baseline = run(facts, [], today)
        noisy = run(facts + [(d, n) for d, n in noise if d <= end],
                    [d for d in sweeps if d <= end], today)
        assert noisy == baseline


def test_the_property_holds_for_the_issues_example():
    """Registration valid until 09-20, an unrelated excuse on 10-05: same as no excuse."""
    with caused_by("test", "system"):
        facts = [(0, "score-85"), (5, "legal-lapses-1010")]
        assert run(facts, [], D(2023, 10, 20)) == run(facts + [(34, "excuse")], [],
                                                       D(2023, 10, 20))
        assert run(facts, [], D(2023, 10, 20))[0][0] == "暂停评价活动"


def test_phase_names():
    assert DECIDED == "decided"


# -- evaluation refuses a rectification outside its period, naming the cell -------------

@pytest.mark.parametrize("submitted_on, today, message", [
    ("2023-09-19", D(2023, 10, 1), "before the decision of 2023-09-20"),
    ("2023-11-21", D(2023, 11, 20), "after the rectification deadline 2023-11-20"),
    ("2023-11-01", D(2023, 10, 1), "later than today's business date"),
])
def test_a_rectification_outside_its_period_is_refused_naming_the_cell(submitted_on, today,
                                                                         message):
    from services.evaluation.forms import RectificationRow
    from services.evaluation.rectification import check_periods
    from shared.errors import BadInput
    rows = [RectificationRow(2, "U1", "ok", "2023-10-01"),
            RectificationRow(3, "U2", "整改报告", submitted_on)]
    windows = {"U1": {"opened_on": "2023-09-20", "deadline": "2023-11-20"},
               "U2": {"opened_on": "2023-09-20", "deadline": "2023-11-20"}}
    check_periods("r.xlsx", rows[:1], windows, D(2023, 10, 1))
    with pytest.raises(BadInput) as refused:
        check_periods("r.xlsx", rows, windows, today)
    assert (refused.value.file, refused.value.row, refused.value.column) == (
        "r.xlsx", 3, "提交日期") and message in refused.value.message
    with pytest.raises(BadInput, match="no open rectification period"):
        check_periods("r.xlsx", rows[:1], {"U1": None}, D(2023, 10, 1))
    with pytest.raises(BadInput, match="deadline 2023-11-20 has passed"):
        check_periods("r.xlsx", rows[:1], windows, D(2023, 11, 21))


# -- the readings as campaign data --------------------------------------------------------

def test_the_default_campaign_carries_the_notices_readings():
    from services.evaluation import campaign as campaign_module
    spec = campaign_module.validate(campaign_module.DEFAULT_2023)
    assert spec["readings"] == {
        "self_assessment_due": {"default": "2023-08-31", "by_jurisdiction": {}},
        "no_activity": {"months": 24, "window_ends": "2023-07-31"},
        "beyond_scope": {"people": 20, "share": 0.2},
        "extension_window": {"from": None, "to": "2023-10-31"}}
    assert Campaign(notice="n", cohorts=list(COHORTS), milestones=spec["milestones"],
                    evaluated_through_year=2022, opened_on="2023-08-28").readings == \
        spec["readings"]  # a campaign noted before issue 17 reads the same defaults


@pytest.mark.parametrize("readings, column", [
    ({"nonsense": {}}, "readings.nonsense"),
    ({"no_activity": {"months": 0}}, "readings.no_activity.months"),
    ({"no_activity": {"weeks": 3}}, "readings.no_activity"),
    ({"beyond_scope": {"share": 1.5}}, "readings.beyond_scope.share"),
    ({"self_assessment_due": {"by_jurisdiction": {"999999": "2023-09-10"}}},
     "readings.self_assessment_due.by_jurisdiction.999999"),
    ({"self_assessment_due": {"by_jurisdiction": {"140100": "9月10日"}}},
     "readings.self_assessment_due.by_jurisdiction.140100"),
    ({"extension_window": {"from": "2023-12-01"}}, "readings.extension_window"),
])
def test_bad_readings_are_refused_naming_the_setting(readings, column):
    from services.evaluation import campaign as campaign_module
    from shared.errors import BadInput
    with pytest.raises(BadInput) as refused:
        campaign_module.validate({**campaign_module.DEFAULT_2023, "readings": readings},
                                 source="c.json")
    assert (refused.value.file, refused.value.column) == ("c.json", column)


def test_a_rectification_before_the_decision_of_a_new_reason_does_not_count_for_it():
    """The window is that of the current reasons, not of a period that has ended."""
    c = campaign()
    case = opened(c)
    score(case, c, D(2023, 9, 20), 72, "不达标")
    score(case, c, D(2023, 9, 25), 85, "合格", kind="revised")
    legal(case, c, D(2023, 12, 1), "expired", "2023-11-30")
    assert case.rectification_window() == ("2023-12-01", "2024-02-01")
    rectify(case, c, "2023-10-01", "2023-12-05")
    assert case.counted_rectification() is None
    rectify(case, c, "2023-12-04", "2023-12-05")
    assert case.counted_rectification()["submitted_on"] == "2023-12-04"
