"""The outbox publishes committed events in order and resumes after a crash, with one
publisher at a time; an upstream event is applied exactly once; projections resume."""
import datetime
import json

import pytest
from kombu import Connection, Queue, binding

from shared import bus, integration
from shared.application import case_id
from shared.metadata import caused_by
from shared.outbox import Outbox
from services.registry.application import Filings, Registry
from services.evaluation.application import Evaluation
from tests import factories


@pytest.fixture(scope="module")
def registry(environment):
    config, _ = environment
    app = Registry(config)
    app.attach_projections([Filings])
    yield app
    app.close()


def file(app, *numbers):
    rows = [factories.institution(n).to_dict() for n in numbers]
    with caused_by("province", "province", business_date=datetime.date(2023, 8, 28)):
        app.import_roster(rows)
    return rows


def listen(config):
    """A queue bound to every registry event, as another HR system would subscribe."""
    connection = Connection(config.amqp_uri_for("notices"))  # a reader of registry.#
    queue = Queue("notices.test-listener", bindings=[binding(bus.events_exchange(config),
                                                     routing_key="registry.#")],
                  exclusive=True)
    bus.declare_exchange(connection, config)
    queue(connection.channel()).declare()
    return connection, queue


def drain(connection, queue):
    bodies = []
    channel = connection.channel()
    bound = queue(channel)
    while (message := bound.get(no_ack=True)) is not None:
        bodies.append(json.loads(message.body))
    return bodies


def test_the_outbox_publishes_in_order_and_resumes_after_a_crash(environment, registry):
    config, _ = environment
    connection, queue = listen(config)
    try:
        rows = file(registry, 7001, 7002, 7003)
        outbox = Outbox(registry, config)
        assert outbox.publish_pending() >= 3
        first = drain(connection, queue)
        assert [e["data"]["filing"]["uscc"] for e in first][-3:] == [r["uscc"] for r in rows]
        assert all(e["specversion"] == "1.0" and e["source"] == "/pinggu/registry"
                   for e in first)

        # A crash after publishing and before recording the position: the next publisher
        # sends the same events again, with the same ids.
        file(registry, 7004)
        outbox.publish(outbox.pending())  # and the process dies before recording it
        outbox.close()
        again = Outbox(registry, config)
        assert again.publish_pending() == 1
        second = drain(connection, queue)
        assert len(second) == 2 and second[0]["id"] == second[1]["id"]
        assert again.publish_pending() == 0
        again.close()
    finally:
        connection.release()


def test_a_batch_is_one_message_per_event_confirmed_once_in_order(environment, registry):
    """Issue 14: the batch goes out before the confirms are awaited, but each event is
    still its own CloudEvent message, in the log's order."""
    config, _ = environment
    outbox = Outbox(registry, config)
    outbox.publish_pending()  # what earlier tests left
    connection, queue = listen(config)
    waits = []
    try:
        rows = file(registry, *range(7100, 7160))
        real_wait = outbox._wait_for_confirms
        outbox._wait_for_confirms = lambda: (waits.append(outbox._sent), real_wait())
        assert outbox.publish_pending() == 60
        assert len(waits) == 1  # one wait for the whole batch
        assert outbox._confirmed == outbox._sent
        bodies = drain(connection, queue)
        assert [e["data"]["filing"]["uscc"] for e in bodies] == [r["uscc"] for r in rows]
        assert len({e["id"] for e in bodies}) == 60
        assert outbox.position() == registry.recorder.max_notification_id()
    finally:
        outbox.close()
        connection.release()


def test_a_nacked_batch_is_not_recorded_and_goes_again(environment, registry):
    config, _ = environment
    outbox = Outbox(registry, config)
    try:
        outbox.publish_pending()
        before = outbox.position()
        file(registry, 7200, 7201)
        outbox._connect()
        real_ack = outbox._on_ack
        outbox._channel.events["basic_ack"].discard(real_ack)
        outbox._channel.events["basic_ack"].add(outbox._on_nack)  # the broker says no
        with pytest.raises(Exception):
            outbox.publish_pending()
        assert outbox.position() == before
        assert outbox.publish_pending() == 2  # a fresh channel: sent again, confirmed
        assert outbox.position() == before + 2
    finally:
        outbox.close()


def test_only_one_outbox_publishes_at_a_time(environment, registry):
    config, _ = environment
    one, two = Outbox(registry, config), Outbox(registry, config)
    try:
        assert one.is_leader()
        assert not two.is_leader()
        file(registry, 7010)
        assert two.publish_pending() == 0
        one.close()  # the leader goes: its lock goes with its connection
        # (once PostgreSQL has ended that backend, which is not instant on a busy machine)
        from tests.support import wait_for
        wait_for(two.is_leader, timeout=10, interval=0.05, what="the second outbox to lead")
        assert two.publish_pending() == 1
    finally:
        one.close()
        two.close()


def test_an_upstream_event_is_applied_exactly_once(environment, registry):
    config, _ = environment
    evaluation = Evaluation(config)
    try:
        rows = file(registry, 7020)
        notification = registry.recorder.select_notifications(
            registry.recorder.max_notification_id(), 1)[0]
        envelope = integration.to_cloudevent("registry", notification.id,
                                             registry.mapper.to_domain_event(notification))
        with caused_by("system", "system"):
            assert evaluation.on_upstream(envelope) is True
            assert evaluation.on_upstream(envelope) is False  # a redelivery
        events = list(evaluation.events.get(case_id(rows[0]["uscc"])))
        assert [type(e).__name__ for e in events] == ["Opened"]
        assert events[0].meta["actor"] == "system"
    finally:
        evaluation.close()


def test_a_projection_resumes_where_it_stopped_and_applies_each_event_once(environment,
                                                                          registry):
    file(registry, 7030, 7031)
    projection = registry.projections["filings"]
    projection.catch_up()
    assert projection.position() == registry.recorder.max_notification_id()
    file(registry, 7032)
    assert projection.catch_up(max_events=1) == 1
    assert projection.catch_up() == 0
    with registry.recorder.datastore.transaction(commit=False) as cur:
        cur.execute("SELECT count(*) AS n FROM registry.filings_current")
        rows = cur.fetchone()["n"]
        cur.execute("SELECT count(*) AS n FROM registry.registry_events "
                    "WHERE topic LIKE '%%.Filed'")
        assert rows == cur.fetchone()["n"]


def test_a_filing_change_that_overtakes_the_filing_is_not_undone_by_it(environment, registry):
    """Messages reordered on the way (concurrent workers, retries): the later version of
    the filing wins, whichever arrives last."""
    config, _ = environment
    evaluation = Evaluation(config)
    try:
        row = factories.institution(7040)
        file(registry, 7040)
        changed = dict(row.to_dict(), name="改名后的学校")
        with caused_by("province", "province"):
            registry.import_roster([changed])
        envelopes = [integration.to_cloudevent("registry", n.id, registry.mapper.to_domain_event(n))
                     for n in registry.recorder.select_notifications(1, 10000)
                     if n.originator_id == case_id(row.uscc)]
        assert [e["caseversion"] for e in envelopes] == [1, 2]
        with caused_by("system", "system"):
            for envelope in reversed(envelopes):
                evaluation.on_upstream(envelope)
        assert evaluation.repository.get(case_id(row.uscc)).filing["name"] == "改名后的学校"
    finally:
        evaluation.close()


def _envelopes(registry, numbers):
    file(registry, *numbers)
    return [integration.to_cloudevent("registry", n.id, registry.mapper.to_domain_event(n))
            for n in registry.recorder.select_notifications(
                registry.recorder.max_notification_id() - len(numbers) + 1, len(numbers))]


def _handle_together(app, envelopes):
    """Each envelope on a green thread of its own, as nameko's inbox workers run."""
    import eventlet

    def handle(envelope):
        with caused_by("system", "system"):
            return app.on_upstream(envelope)
    threads = [eventlet.spawn(handle, envelope) for envelope in envelopes]
    return [t.wait() for t in threads]


def test_upstream_events_handled_together_are_committed_together_exactly_once(environment,
                                                                               registry):
    from shared.group_commit import GroupCommit
    config, _ = environment
    evaluation = Evaluation(config)
    evaluation.group_commit = GroupCommit(evaluation)
    try:
        envelopes = _envelopes(registry, [7300 + k for k in range(6)])
        before = evaluation.recorder.max_notification_id()
        assert _handle_together(evaluation, envelopes) == [True] * 6
        assert (evaluation.group_commit.groups, evaluation.group_commit.grouped) == (1, 6)
        assert evaluation.recorder.max_notification_id() == before + 6
        for envelope in envelopes:
            uscc = envelope["data"]["filing"]["uscc"]
            assert evaluation.repository.get(case_id(uscc)).filing["uscc"] == uscc
            assert evaluation.recorder.has_tracking_id(envelope["source"],
                                                       integration.position_of(envelope))
        # Redelivered, together again: nothing is recorded twice.
        assert _handle_together(evaluation, envelopes) == [False] * 6
        assert evaluation.recorder.max_notification_id() == before + 6
    finally:
        evaluation.close()


def test_a_conflict_in_a_group_falls_back_to_each_message_alone(environment, registry):
    """The same message twice in one group (a redelivery racing the first delivery): the
    group's transaction fails whole, each is recorded alone, the copy is dropped."""
    from shared.group_commit import GroupCommit
    config, _ = environment
    evaluation = Evaluation(config)
    evaluation.group_commit = GroupCommit(evaluation)
    try:
        envelopes = _envelopes(registry, [7400, 7401])
        before = _event_rows(evaluation)
        results = _handle_together(evaluation, [envelopes[0], envelopes[0], envelopes[1]])
        assert sorted(results) == [False, True, True]
        assert evaluation.group_commit.groups == 0
        # (The failed group leaves a gap in the notification ids; readers skip gaps.)
        assert _event_rows(evaluation) == before + 2
    finally:
        evaluation.close()


def _event_rows(app):
    with app.recorder.datastore.transaction(commit=False) as cur:
        cur.execute(f"SELECT count(*) AS n FROM {app.recorder.events_table_name}")
        return cur.fetchone()["n"]
