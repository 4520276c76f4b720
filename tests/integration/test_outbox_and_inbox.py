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
    """The CloudEvents waiting in `queue`, in order, whether one a message or batched."""
    return [event for _, body in drain_messages(connection, queue)
            for event in (body if isinstance(body, list) else [body])]


def drain_messages(connection, queue):
    """[(content type, decoded body)] of the messages waiting in `queue`."""
    messages = []
    bound = queue(connection.channel())
    while (message := bound.get(no_ack=True)) is not None:
        messages.append((message.content_type, json.loads(message.body)))
    return messages


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


def test_events_of_one_type_in_a_row_go_as_batched_messages_confirmed_once(environment,
                                                                          registry):
    """Issue 14: a run of events of one type is one message in CloudEvents batched mode (at
    most BATCH_EVENTS a message), an event alone is a structured-mode message; all the
    messages of a round go out before the confirms are awaited, in the log's order."""
    config, _ = environment
    outbox = Outbox(registry, config)
    outbox.publish_pending()  # what earlier tests left
    connection, queue = listen(config)
    waits = []
    try:
        count = integration.BATCH_EVENTS * 2 + 7
        rows = file(registry, *range(7600, 7600 + count))
        real_wait = outbox._wait_for_confirms
        outbox._wait_for_confirms = lambda: (waits.append(outbox._sent), real_wait())
        assert outbox.publish_pending() == count
        assert len(waits) == 1  # one wait for the whole round
        assert outbox._confirmed == outbox._sent == 3
        messages = drain_messages(connection, queue)
        assert [(kind, len(body)) for kind, body in messages] == [
            (integration.BATCH_CONTENT_TYPE, integration.BATCH_EVENTS),
            (integration.BATCH_CONTENT_TYPE, integration.BATCH_EVENTS),
            (integration.BATCH_CONTENT_TYPE, 7)]
        bodies = [event for _, body in messages for event in body]
        assert [e["data"]["filing"]["uscc"] for e in bodies] == [r["uscc"] for r in rows]
        assert len({e["id"] for e in bodies}) == count
        assert outbox.position() == registry.recorder.max_notification_id()

        file(registry, 7099)  # alone: one CloudEvent, structured mode
        assert outbox.publish_pending() == 1
        (kind, body), = drain_messages(connection, queue)
        assert kind == integration.CONTENT_TYPE and body["data"]["filing"]["uscc"] == \
            factories.institution(7099).uscc
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


def _handle_batch(app, envelopes):
    """As the inbox hands a batch to a service's worker (shared.nameko_ext.Inbox)."""
    from shared import batch

    def handle(envelope):
        with caused_by("system", "system"):
            return app.on_upstream(envelope)
    return batch.handle(app, envelopes, handle)


@pytest.fixture
def together_only(monkeypatch):
    """Fails the test if a batch falls back to handling its messages one by one."""
    from shared import batch

    def alone(handler, envelope):
        raise AssertionError("the batch was handled message by message")
    monkeypatch.setattr(batch, "_handle_alone", alone)


def test_a_batch_of_upstream_events_is_committed_together_exactly_once(environment, registry,
                                                                       together_only):
    config, _ = environment
    evaluation = Evaluation(config)
    try:
        envelopes = _envelopes(registry, [7300 + k for k in range(6)])
        before = evaluation.recorder.max_notification_id()
        assert _handle_batch(evaluation, envelopes) == ["ok"] * 6
        assert evaluation.recorder.max_notification_id() == before + 6
        for envelope in envelopes:
            uscc = envelope["data"]["filing"]["uscc"]
            assert evaluation.repository.get(case_id(uscc)).filing["uscc"] == uscc
            assert evaluation.recorder.has_tracking_id(envelope["source"],
                                                       integration.position_of(envelope))
        # Redelivered, in a batch again, the same message twice: nothing recorded twice.
        assert _handle_batch(evaluation, envelopes + envelopes[:1]) == ["ok"] * 7
        assert evaluation.recorder.max_notification_id() == before + 6
    finally:
        evaluation.close()


def test_a_message_in_a_batch_sees_what_the_ones_before_it_did(environment, registry,
                                                               together_only):
    """A filing and its change in one batch: the change applies to the case the filing
    opened, not yet committed, and the case's versions follow on."""
    config, _ = environment
    evaluation = Evaluation(config)
    try:
        row = factories.institution(7310)
        file(registry, 7310)
        with caused_by("province", "province"):
            registry.import_roster([dict(row.to_dict(), name="批内改名")])
        envelopes = [integration.to_cloudevent("registry", n.id,
                                               registry.mapper.to_domain_event(n))
                     for n in registry.recorder.select_notifications(1, 100000)
                     if n.originator_id == case_id(row.uscc)]
        assert _handle_batch(evaluation, envelopes) == ["ok", "ok"]
        case = evaluation.repository.get(case_id(row.uscc))
        assert (case.version, case.filing["name"]) == (2, "批内改名")
    finally:
        evaluation.close()


def test_a_bad_message_in_a_batch_is_isolated_and_the_others_go_through(environment,
                                                                         registry,
                                                                         monkeypatch):
    """The messages before the bad one are committed together, the bad one is handled
    alone and dead-lettered (poison), the rest go on together; each recorded once."""
    from shared import batch
    config, _ = environment
    evaluation = Evaluation(config)
    alone = []
    handle_alone = batch._handle_alone
    monkeypatch.setattr(batch, "_handle_alone",
                        lambda h, e: alone.append(e["id"]) or handle_alone(h, e))
    try:
        envelopes = _envelopes(registry, [7400, 7401, 7402, 7403])
        bad = dict(envelopes[0], id="bad", sequence="99999999",
                   data={"filing": {"uscc": "not a filing"}})
        before = _event_rows(evaluation)
        outcomes = _handle_batch(evaluation, envelopes[:2] + [bad] + envelopes[2:])
        assert [o if o == "ok" else o[0] for o in outcomes] == \
            ["ok", "ok", "poison", "ok", "ok"]
        assert "filing" in str(outcomes[2][1])  # why, for the log
        assert alone == ["bad"]
        assert _event_rows(evaluation) == before + 4
        # All again (a redelivery): nothing more is recorded.
        assert _handle_batch(evaluation, envelopes) == ["ok"] * 4
        assert _event_rows(evaluation) == before + 4
    finally:
        evaluation.close()


def _event_rows(app):
    with app.recorder.datastore.transaction(commit=False) as cur:
        cur.execute(f"SELECT count(*) AS n FROM {app.recorder.events_table_name}")
        return cur.fetchone()["n"]


def test_a_campaign_opened_earlier_in_a_batch_is_the_one_the_next_messages_see(
        environment, registry, together_only):
    """decisions reads its current campaign for every fact; a campaign opened in the same
    batch is not committed yet, and must not be missed."""
    from shared import batch
    from services.decisions.application import Cases, Decisions
    from services.evaluation import campaign
    config, _ = environment
    evaluation, decisions = Evaluation(config), Decisions(config)
    decisions.attach_projections([Cases])
    try:
        with caused_by("province", "province", business_date=datetime.date(2023, 8, 28)):
            evaluation.open_campaign(campaign.validate(campaign.DEFAULT_2023))
        opened = [n for n in evaluation.recorder.select_notifications(1, 100000)
                  if n.topic.endswith("Campaign.Opened")][0]
        envelopes = [integration.to_cloudevent("evaluation", opened.id,
                                               evaluation.mapper.to_domain_event(opened))]
        envelopes += _envelopes(registry, [7500])
        seen = []

        def handle(envelope):
            seen.append(decisions.campaign())
            with caused_by("system", "system"):
                return decisions.on_upstream(envelope, datetime.date(2023, 8, 28))
        assert decisions.campaign() is None
        assert batch.handle(decisions, envelopes, handle) == ["ok", "ok"]
        assert seen[0] is None and seen[1].notice == campaign.DEFAULT_2023["notice"]
    finally:
        evaluation.close()
        decisions.close()


def test_a_lone_event_reads_its_case_and_the_campaign_in_one_statement(environment,
                                                                      registry):
    """decisions, handling an event alone (latency at rest, issue 14), reads the case and
    the current campaign in one statement on a connection of its own: the same case and
    campaign as the two reads it replaces, and the connection opened again once lost."""
    import uuid
    from services.decisions.application import Cases, Decisions
    from services.evaluation import campaign
    config, cluster = environment
    evaluation, decisions = Evaluation(config), Decisions(config)
    decisions.attach_projections([Cases])
    try:
        nobody = uuid.uuid4()
        case, campaign_of = decisions.case_and_campaign(nobody)
        assert case is None and campaign_of() is decisions.campaign()
        with caused_by("province", "province", business_date=datetime.date(2023, 8, 28)):
            evaluation.open_campaign(campaign.validate(campaign.DEFAULT_2023))
        opened = [n for n in evaluation.recorder.select_notifications(1, 100000)
                  if n.topic.endswith("Campaign.Opened")][-1]
        with caused_by("system", "system"):
            # Noted already if an earlier test of the module handed it to decisions.
            decisions.on_upstream(integration.to_cloudevent(
                "evaluation", opened.id, evaluation.mapper.to_domain_event(opened)),
                datetime.date(2023, 8, 28))
            filed, = _envelopes(registry, [7550])
            assert decisions.on_upstream(filed, datetime.date(2023, 8, 28)) is True
        decisions.projections["cases"].catch_up()
        assert decisions.campaign() is not None
        uscc = factories.institution(7550).uscc
        case, campaign_of = decisions.case_and_campaign(case_id(uscc))
        again = decisions.get_or_none(case_id(uscc))
        assert (case.version, case.to_dict()) == (again.version, again.to_dict())
        assert campaign_of() is decisions.campaign()
        assert campaign_of().notice == campaign.DEFAULT_2023["notice"]
        case, campaign_of = decisions.case_and_campaign(nobody)
        assert case is None and campaign_of() is decisions.campaign()
        lost = decisions._reader.get_backend_pid()
        cluster.sql("SELECT pg_terminate_backend(%s)", (lost,))
        case, _ = decisions.case_and_campaign(case_id(uscc))
        assert case.version == again.version
        assert decisions._reader.get_backend_pid() != lost
    finally:
        evaluation.close()
        decisions.close()


def test_a_leader_whose_lock_went_with_its_connection_publishes_nothing(environment,
                                                                       registry):
    """The leader checks its lock with the read of what is pending, on the lock's own
    connection (issue 14): once that session is gone, so is the lock, and another
    instance publishes instead."""
    config, cluster = environment
    one, two = Outbox(registry, config), Outbox(registry, config)
    try:
        one.publish_pending()  # what earlier tests left
        assert one.leading and not two.is_leader()
        cluster.sql("SELECT pg_terminate_backend(%s)", (one._lock_conn.get_backend_pid(),))
        from tests.support import wait_for
        wait_for(two.is_leader, timeout=10, interval=0.05, what="the second outbox to lead")
        file(registry, 7040)
        assert one.publish_pending() == 0
        assert not one.leading and not one.is_leader()
        assert two.publish_pending() == 1
    finally:
        one.close()
        two.close()


def test_a_projection_with_nothing_new_takes_no_lock(environment, registry):
    """An idle round reads without the row lock (whose commit would flush the WAL): with
    the position's row locked by another instance, it still returns at once."""
    import threading
    import psycopg2
    config, _ = environment
    projection = registry.projections["filings"]
    projection.catch_up()
    blocker = psycopg2.connect(config.dsn(role="registry"))
    try:
        with blocker.cursor() as cur:
            cur.execute("SELECT position FROM registry.projection_position "
                        "WHERE name = 'filings' FOR UPDATE")
        done = []
        idle = threading.Thread(target=lambda: done.append(projection.catch_up()),
                                daemon=True)
        idle.start()
        idle.join(timeout=10)
        assert done == [0]
    finally:
        blocker.rollback()
        blocker.close()


def test_a_projection_asks_the_last_entry_of_the_log_not_the_log(environment, registry,
                                                                   monkeypatch):
    """Every round of every follower asks whether its projections are behind (issue 14): on
    a log of 50,000 events, caught up or one behind, the question reads a few pages of the
    index, not the log (EXISTS (... > position) was a sequential scan of it)."""
    import uuid
    from types import SimpleNamespace
    from eventsourcing.postgres import PostgresCursor
    from shared.projection import Projection
    schema = f"probe_{uuid.uuid4().hex[:8]}"
    datastore = registry.recorder.datastore
    with datastore.transaction(commit=True) as cur:
        cur.execute(f"CREATE SCHEMA {schema}")
        cur.execute(f"CREATE TABLE {schema}.events (LIKE registry.registry_events "
                    "INCLUDING INDEXES)")  # not its default: the registry's sequence
        cur.execute(f"INSERT INTO {schema}.events SELECT gen_random_uuid(), 1, 'x', "
                    "'\\x00', n FROM generate_series(1, 50000) n")
        cur.execute(f"ANALYZE {schema}.events")
    try:
        app = SimpleNamespace(recorder=SimpleNamespace(
            datastore=datastore, events_table_name=f"{schema}.events"), decoded=None)
        probe = type("Probe", (Projection,), {"name": "probe"})(app, schema=schema)
        probe.create_tables()
        statements = []
        execute = PostgresCursor.execute
        monkeypatch.setattr(PostgresCursor, "execute", lambda self, statement, params=None: (
            statements.append((statement, params)), execute(self, statement, params))[1])
        for position, behind in ((50000, False), (49999, True)):
            with datastore.transaction(commit=True) as cur:
                cur.execute(f"UPDATE {schema}.projection_position SET position = %s",
                            (position,))
            statements.clear()
            assert probe._behind() is behind
            (statement, params), = [s for s in statements if "projection_position" in s[0]]
            with datastore.transaction(commit=False) as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params)
                plan = list(cur.fetchone().values())[0][0]["Plan"]
            pages = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
            assert pages < 20, (position, pages)  # the whole log: ~420 pages
    finally:
        with datastore.transaction(commit=True) as cur:
            cur.execute(f"DROP SCHEMA {schema} CASCADE")
