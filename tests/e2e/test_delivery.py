"""Delivery guarantees between the services: at-least-once on the bus, exactly-once effect
(issue 2): duplicates, a consumer killed mid-stream, poison messages."""
import json

import pytest
from kombu import Connection, Queue

from shared import integration
from tests import factories
from tests.e2e import flow
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def publish(cluster, routing_key, body, content_type="application/cloudevents+json"):
    """As the service owning the routing key (its own broker user) would."""
    cluster.publish(routing_key.split(".")[0], routing_key, body, content_type=content_type)


def queue_depth(cluster, name):
    with Connection(cluster.amqp_uri(name.split(".")[0])) as conn:
        return Queue(name, channel=conn.channel(), durable=True).queue_declare(passive=True).message_count


def decisions_events(cluster, uscc, kind):
    from shared.application import case_id
    return cluster.sql("SELECT originator_version FROM decisions.decisions_events "
                       "WHERE originator_id = %s AND topic LIKE %s",
                       (str(case_id(uscc)), f"%.{kind}"))


def scored_event(cluster, uscc):
    """The evaluation's Scored event for the case, as it went out on the bus."""
    from shared.application import case_id
    rows = cluster.sql("SELECT notification_id, originator_version FROM "
                       "evaluation.evaluation_events WHERE originator_id = %s AND topic LIKE "
                       "'%%.Scored'", (str(case_id(uscc)),))
    assert len(rows) == 1
    return rows[0]


def file_and_score(cluster, tmp_path, rows, scores, operator):
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, rows)
    flow.self_assess(cluster, tmp_path, rows, operator)
    flow.clock(cluster, "2023-10-31")
    flow.score(cluster, tmp_path, scores, operator)


def test_the_same_integration_event_published_twice_has_one_effect(own_cluster, tmp_path):
    cluster = own_cluster.start().open_campaign()
    row = factories.institution(11, cohort=2021, city="140500")
    file_and_score(cluster, tmp_path, [row], {row.uscc: 72}, "city-140500")
    wait_for(lambda: decisions_events(cluster, row.uscc, "Decided"), what="a verdict")

    # Rebuild the exact message the outbox sent and send it twice more.
    from services.evaluation.application import Evaluation
    from shared import config as config_module
    import os
    os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("PINGGU_")})
    app = Evaluation(config_module.load())
    try:
        position, version = scored_event(cluster, row.uscc)
        notification = app.recorder.select_notifications(position, 1)[0]
        envelope = integration.to_cloudevent("evaluation", notification.id,
                                             app.mapper.to_domain_event(notification))
    finally:
        app.close()
    for _ in range(2):
        publish(cluster, "evaluation.CaseFile.Scored", integration.dumps(envelope))
    # Something after the duplicates, to know they have been consumed.
    marker = factories.institution(12, cohort=2021, city="140500")
    file_and_score(cluster, tmp_path, [marker], {marker.uscc: 90}, "city-140500")
    wait_for(lambda: decisions_events(cluster, marker.uscc, "Decided"), what="the marker")
    wait_for(lambda: queue_depth(cluster, "decisions.inbox") == 0, what="an empty inbox")

    assert len(decisions_events(cluster, row.uscc, "ScoreNoted")) == 1
    assert len(decisions_events(cluster, row.uscc, "Decided")) == 1


def test_a_consumer_killed_while_handling_events_gives_exactly_one_verdict_each(own_cluster, tmp_path):
    # Small batches (shared/batch.py), so that decisions commits its verdicts in many
    # transactions and a kill can fall between them as well as inside one.
    own_cluster.env["PINGGU_INBOX_BATCH"] = "5"
    cluster = own_cluster.start().open_campaign()
    # Enough cases that decisions is still busy when it is killed.
    rows = [factories.institution(100 + i, cohort=2020 + i % 2, city="140600")
            for i in range(120)]
    scores = {r.uscc: 50 + (i * 7) % 50 for i, r in enumerate(rows)}
    file_and_score(cluster, tmp_path, rows, scores, "city-140600")
    # Kill decisions with SIGKILL as soon as it has decided some but not all.
    counted = lambda: cluster.sql(  # noqa: E731
        "SELECT count(*) FROM decisions.decisions_events WHERE topic LIKE '%.Decided'")[0][0]
    wait_for(lambda: counted() > 0, timeout=60, interval=0.01, what="the first verdicts")
    cluster.kill("decisions")
    decided_at_kill = counted()
    assert decided_at_kill < len(rows), "decisions finished before it could be killed"

    cluster.start("decisions")
    wait_for(lambda: counted() >= len(rows), timeout=60, what="every verdict")
    wait_for(lambda: queue_depth(cluster, "decisions.inbox") == 0, what="an empty inbox")
    per_case = cluster.sql(
        "SELECT originator_id, count(*) FROM decisions.decisions_events "
        "WHERE topic LIKE '%.Decided' GROUP BY originator_id")
    assert len(per_case) == len(rows)
    assert all(n == 1 for _, n in per_case)
    for r in rows[:5]:
        assert cluster.cli_json("case", "show", r.uscc)["outcome"]


def test_poison_messages_are_dead_lettered_and_the_service_keeps_serving(own_cluster, tmp_path):
    cluster = own_cluster.start().open_campaign()
    # Malformed JSON, and data that does not fit its type's contract: dead-lettered at once.
    publish(cluster, "evaluation.CaseFile.Scored", b"{not json")
    unprocessable = {"specversion": "1.0", "id": "poison-1", "source": "/pinggu/evaluation",
                     "type": "pinggu.evaluation.CaseFile.Scored.v1", "sequence": "999999",
                     "data": {"nothing": "useful"}}
    publish(cluster, "evaluation.CaseFile.Scored", json.dumps(unprocessable))
    # Another system passing for evaluation: refused at once, whatever it carries.
    forged = dict(unprocessable, id="forged-1", source="/hr/intruder", sequence="1")
    publish(cluster, "evaluation.CaseFile.Scored", json.dumps(forged))
    # Data that fits the contract but that the handler fails on (no `derived` facts): retried
    # up to the delivery limit, then dead-lettered.
    failing = dict(unprocessable, id="poison-2", sequence="999998",
                   type="pinggu.evaluation.CaseFile.SelfAssessed.v1",
                   data={"uscc": factories.institution(20, city="140700").uscc, "staff": {},
                         "self_score": 80, "activity": [], "submitted_on": "2023-08-28",
                         "on_time": True, "derived": {}})
    publish(cluster, "evaluation.CaseFile.SelfAssessed", json.dumps(failing))
    wait_for(lambda: queue_depth(cluster, "decisions.dead-letter") == 4, timeout=60,
             what="the four poison messages in the dead-letter queue")

    # The service goes on: it answers and decides a real case.
    row = factories.institution(21, cohort=2020, city="140700")
    file_and_score(cluster, tmp_path, [row], {row.uscc: 85}, "city-140700")
    case = wait_for(lambda: (c := cluster.cli_json("case", "show", row.uscc))["outcome"] and c,
                    what="a verdict after the poison messages")
    assert case["outcome"] == "同意延续备案"
    log = open(f"{cluster.logdir}/decisions.log", encoding="utf-8").read()
    assert "inbox.poison_message" in log and "inbox.handler_failed" in log
    assert "pinggu.evaluation.CaseFile.Scored.v1: uscc: missing" in log  # the field named


def test_a_batch_is_handled_event_by_event_and_its_poison_is_dead_lettered_alone(cluster,
                                                                                tmp_path):
    """CloudEvents batched mode (issue 14), as an HR system may publish it: the good events
    of a batch take effect, each one that can never be processed goes to the dead-letter
    queue alone, with why, and the batch is not handed out again."""
    import uuid
    rows = [factories.institution(n, city="140900") for n in (9101, 9102)]
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, rows)
    before = queue_depth(cluster, "registry.dead-letter")
    source = f"/hr/legal-registry/{uuid.uuid4().hex[:8]}"

    def fact(uscc, sequence, **data):
        return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
                "type": "pinggu.external.LegalRegistration.v1", "sequence": str(sequence),
                "data": {"uscc": uscc, "status": "expired", "legal_valid_until": "2023-06-30",
                         "reported_on": "2023-09-01", **data}}
    no_sequence = fact(rows[0].uscc, 2)
    del no_sequence["sequence"]  # refused when the batch is read
    misfit = fact(rows[1].uscc, 3, status=["not", "a", "status"])  # refused by its contract
    batch = [fact(rows[0].uscc, 1), no_sequence, misfit, fact(rows[1].uscc, 4)]
    cluster.publish("hr-legal", "external.LegalRegistration", json.dumps(batch),
                    content_type=integration.BATCH_CONTENT_TYPE)

    wait_for(lambda: queue_depth(cluster, "registry.dead-letter") == before + 2, timeout=30,
             what="the two bad events of the batch dead-lettered")
    from shared.application import case_id

    def reported():
        return cluster.sql("SELECT originator_id FROM registry.registry_events WHERE "
                           "topic LIKE '%%.LegalStatusReported' AND originator_id IN %s",
                           (tuple(str(case_id(r.uscc)) for r in rows),))
    wait_for(lambda: len(reported()) == 2, what="the good events' facts recorded")
    # Acknowledged, not handed out again: nothing more arrives in the dead-letter queue.
    import time
    time.sleep(2)
    assert queue_depth(cluster, "registry.dead-letter") == before + 2
    with Connection(cluster.amqp_uri("registry")) as conn:
        queue = Queue("registry.dead-letter", channel=conn.channel(), durable=True)
        letters = []
        while (message := queue.get(no_ack=False)) is not None:
            letters.append(message)
        ours = [m for m in letters if json.loads(m.body).get("source") == source]
        for message in letters:
            # This test's letters are taken away: the cluster is the session's.
            if message in ours:
                message.ack()
            else:
                message.requeue()
    assert sorted(json.loads(m.body)["id"] for m in ours) == sorted(
        [no_sequence["id"], misfit["id"]])
    reasons = " | ".join(m.headers["x-pinggu-reason"] for m in ours)
    assert "missing CloudEvents attribute 'sequence'" in reasons and "status" in reasons
    assert queue_depth(cluster, "registry.dead-letter") == before
