"""Each service's application on eventsourcing's in-memory store (issue 12): commands and
the inbound translation run without PostgreSQL or RabbitMQ, since the projections' SQL and
the inbox wiring live in modules of their own."""
import datetime
import itertools
import uuid

import pytest
from hypothesis import given, settings, strategies as st

from shared import contracts, integration
from shared.metadata import caused_by
from services.registry.application import Registry
from services.registry.refusals import refusal_id
from tests import factories

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
ROW = factories.institution(1)
_sequence = itertools.count(1)


def registry():
    app = Registry(env=MEMORY)
    with caused_by("province", "province"):
        app.import_roster([ROW.to_dict()])
    return app


def external(kind, data, source="/hr/legal-registry", sequence=None):
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
            "type": f"pinggu.external.{kind}.v1",
            "sequence": str(sequence or next(_sequence)), "data": data}


def legal(status, reported_on, until=None, uscc=ROW.uscc):
    return external("LegalRegistration", {"uscc": uscc, "status": status,
                                          "reported_on": reported_on,
                                          "legal_valid_until": until})


def receive(app, envelope):
    with caused_by("system", "system"):
        return app.on_upstream(envelope)


def test_registry_records_an_external_fact_once():
    app = registry()
    envelope = legal("expired", "2023-09-01", "2023-06-30")
    assert receive(app, envelope) is True
    assert receive(app, envelope) is False  # the same (source, sequence)
    assert app.case(ROW.uscc)["legal_status"] == {
        "status": "expired", "legal_valid_until": "2023-06-30", "reported_on": "2023-09-01",
        "source": "/hr/legal-registry"}


def test_a_redelivery_is_dropped_by_its_tracking_even_where_handling_it_would_now_fail():
    """The position is not looked up before handling (issue 14): a redelivery is found by
    its tracking row, whether its events would be refused or its handler fails."""
    app = registry()
    envelope = legal("expired", "2023-09-01", "2023-06-30")
    assert receive(app, envelope) is True
    head = app.recorder.max_notification_id()
    position = integration.position_of(envelope)

    def fails(processing_event):
        raise RuntimeError("the state has moved on")
    with caused_by("system", "system"):
        assert app.process_upstream(envelope["source"], position, fails) is False
        with pytest.raises(RuntimeError):  # not a redelivery: the failure stands
            app.process_upstream(envelope["source"], position + 1, fails)
    assert receive(app, envelope) is False
    assert app.recorder.max_notification_id() == head


REPORTS = st.lists(st.tuples(
    st.sampled_from(["valid", "expired", "annual-report-problem"]),
    st.dates(datetime.date(2023, 1, 1), datetime.date(2023, 12, 31)).map(str),
    st.sampled_from([None, "2023-06-30", "2028-06-30"])), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(reports=REPORTS, order=st.randoms())
def test_the_newest_legal_report_wins_whatever_the_arrival_order(reports, order):
    arrivals = list(reports)
    order.shuffle(arrivals)
    app = registry()
    for status, reported_on, until in arrivals:
        receive(app, legal(status, reported_on, until))
    newest = max(reports, key=lambda r: (r[1], r[0], r[2] or ""))
    current = app.case(ROW.uscc)["legal_status"]
    assert (current["reported_on"], current["status"], current["legal_valid_until"] or "") \
        == (newest[1], newest[0], newest[2] or "")


@pytest.mark.parametrize("envelope,reason", [
    (legal("valid", "2023-09-01", uscc="914403001922038217"), "invalid USCC"),
    (legal("吊销", "2023-09-01"), "unknown status"),
    (legal("valid", "2023-9-1"), "reported_on: expected a date"),
    (legal("valid", "2023-09-01", uscc="91110000710925462X"), "is not filed"),
    (external("CertificationActivity", {"uscc": ROW.uscc, "year": "2022", "rows": []}),
     "year: expected an integer"),
])
def test_a_refused_fact_is_dead_lettered_and_its_publisher_told_why(envelope, reason):
    app = registry()
    with pytest.raises(integration.PoisonMessage, match=reason):
        receive(app, envelope)
    refusal = app.repository.get(refusal_id(envelope["source"], envelope["id"]))
    assert reason in refusal.reason
    with pytest.raises(integration.PoisonMessage):
        receive(app, envelope)  # redelivered: refused again, told once
    published = [integration.to_cloudevent("registry", n.id, app.mapper.to_domain_event(n))
                 for n in app.recorder.select_notifications(1, 100)]
    refusals = [e for e in published if e["type"] == "pinggu.registry.Refusal.Recorded.v1"]
    assert len(refusals) == 1 and refusals[0]["data"]["refused_id"] == envelope["id"]
    assert contracts.read(refusals[0]).source == envelope["source"]
    assert app.case(ROW.uscc)["legal_status"] is None


# -- the four applications chained through their integration events, in memory ------------
def published(app, service, after=0):
    """The CloudEvents the outbox would publish from `app`, after position `after`."""
    return [integration.to_cloudevent(service, n.id, app.mapper.to_domain_event(n))
            for n in app.recorder.select_notifications(after + 1, 10_000)]


TODAY = datetime.date(2023, 8, 28)  # before the self-assessment deadline (六(二))


@pytest.fixture
def upstream():
    """The registry's and the evaluation's events of one case, as their outboxes would
    publish them: filed, the campaign opened, the case file opened, a 四(一)5 finding."""
    from services.evaluation import campaign as campaign_module
    from services.evaluation.application import Evaluation
    from shared.application import case_id
    evaluation = Evaluation(env=MEMORY)
    with caused_by("province", "province", business_date=TODAY):
        evaluation.open_campaign(campaign_module.validate(campaign_module.DEFAULT_2023))
    filed = published(registry(), "registry")
    with caused_by("system", "system", business_date=TODAY):
        for envelope in filed:
            assert evaluation.on_upstream(envelope) is True
            assert evaluation.on_upstream(envelope) is False  # a redelivery
        case = evaluation.repository.get(case_id(ROW.uscc))
        case.record_finding("四(一)5", "组织考试作弊，现场核查属实", TODAY.isoformat())
        evaluation.save(case)
    return {"filed": filed, "evaluation": published(evaluation, "evaluation")}


def test_evaluation_opens_a_case_file_from_the_registry_in_memory(upstream):
    assert [e["type"] for e in upstream["evaluation"]] == [
        "pinggu.evaluation.Campaign.Opened.v1", "pinggu.evaluation.CaseFile.Opened.v1",
        "pinggu.evaluation.CaseFile.FindingRecorded.v1"]
    opened = contracts.read(upstream["evaluation"][1])
    assert (opened.uscc, opened.filing.jurisdiction) == (ROW.uscc, ROW.jurisdiction)


def decide(upstream):
    from services.decisions.application import Decisions
    decisions = Decisions(env=MEMORY)
    with caused_by("system", "system", business_date=TODAY):
        # The campaign first, as its inbox would have it; then the facts.
        for envelope in upstream["evaluation"][:1] + upstream["filed"] + \
                upstream["evaluation"][1:]:
            decisions.on_upstream(envelope, TODAY)
    return [e for e in published(decisions, "decisions")
            if e["type"] == "pinggu.decisions.Case.Decided.v1"]


def test_decisions_decide_on_the_facts_noted_in_memory(upstream):
    (decided,) = decide(upstream)
    verdict = contracts.read(decided)
    assert (verdict.verdict.klass, verdict.verdict.outcome, verdict.verdict.clauses) == (
        "terminate", "终止备案", ["四(一)5"])
    assert verdict.inputs["findings"]["四(一)5#1"]["event"] == upstream["evaluation"][2]["id"]


def test_notices_keep_the_publication_row_in_memory(upstream):
    from services.notices.application import Notices
    from shared.application import case_id
    notices = Notices(env=MEMORY)
    with caused_by("system", "system", business_date=TODAY):
        for envelope in upstream["filed"] + decide(upstream):
            assert notices.on_upstream(envelope) is True
    entry = notices.repository.get(case_id(ROW.uscc))
    assert (entry.filing["name"], entry.verdict["outcome"], entry.verdict["basis"]) == (
        ROW.name, "终止备案", "rules")
    assert (entry.entry()["class"], entry.entry()["clauses"]) == ("terminate", ["四(一)5"])


ACTIVITY_REPORTS = st.lists(st.tuples(
    st.dates(datetime.date(2023, 1, 1), datetime.date(2023, 3, 31)).map(str),
    st.integers(0, 3)), min_size=1, max_size=5)


@settings(max_examples=30, deadline=None)
@given(reports=ACTIVITY_REPORTS, order=st.randoms())
def test_the_newest_activity_report_of_a_year_wins_whatever_the_arrival_order(reports, order):
    def envelope(reported_on, certified):
        return external("CertificationActivity", {
            "uscc": ROW.uscc, "year": 2022, "reported_on": reported_on,
            "rows": [{"occupation": "6-18-02-04", "level": 4, "certified": certified}]})
    arrivals = list(reports)
    order.shuffle(arrivals)
    app = registry()
    for reported_on, certified in arrivals:
        receive(app, envelope(reported_on, certified))
    newest = max(reports)  # by date, then by the rows (here: the number certified)
    assert app.case(ROW.uscc)["activity"]["2022"] == [
        {"occupation": "6-18-02-04", "level": 4, "certified": newest[1]}]


def test_the_outbox_sends_the_cloudevent_consumers_read():
    """The outbox serialises each event once (integration.cloudevent_message); what it sends
    is the CloudEvent to_cloudevent describes, id and type included."""
    import json
    app = registry()
    for notification in app.recorder.select_notifications(1, 10):
        event = app.mapper.to_domain_event(notification)
        event_id, kind, body = integration.cloudevent_message("registry", notification.id,
                                                              event)
        expected = integration.to_cloudevent("registry", notification.id, event)
        assert json.loads(body) == expected
        assert (event_id, kind) == (expected["id"], expected["type"])


def test_an_event_is_decoded_once_for_its_readers_and_only_as_that_event(monkeypatch):
    """Issue 14: the outbox and then the projections read the same new events from the
    log; the second takes the first one's decoding, and only for the same event."""
    import dataclasses
    from shared import application
    app = Registry(env=MEMORY)
    with caused_by("province", "province"):
        app.import_roster([factories.institution(n).to_dict() for n in (1, 2, 3)])
    first, second, third = app.recorder.select_notifications(1, 3)
    assert first.originator_id != second.originator_id
    decoded = app.decoded(first)
    assert app.decoded(first) is decoded
    assert decoded.__dict__ == app.mapper.to_domain_event(first).__dict__
    # Another event at that position (a log rebuilt under a running process) is decoded.
    other = dataclasses.replace(second, id=first.id)
    assert app.decoded(other).originator_id == second.originator_id
    monkeypatch.setattr(application, "DECODED_HELD", 2)
    app.decoded(second), app.decoded(third)
    assert list(app._decoded) == [second.id, third.id]
