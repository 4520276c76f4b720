"""Trust (issue 10, items 2-5), tried as an attacker would on the real RabbitMQ and
PostgreSQL: a forged `evaluation.CaseFile.Scored` from every other user of the deployment,
UPDATE/DELETE on the event tables, an edited event re-linked without the key, a deleted
last event, the clock moved backwards, production mode. Institution numbers 9000-9099."""
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import uuid

import psycopg2
import pytest
from kombu import Connection, Queue

from shared import chain, checkpoint, config as config_module
from shared.application import case_id
from tests import factories
from tests.e2e import flow
from tests.support import ROOT, SERVICES, Cluster, wait_for

pytestmark = pytest.mark.e2e

CITY, OPERATOR = "140400", "city-140400"
OTHER_ROLES = ("registry", "decisions", "notices", "cli", "hr-legal")


@pytest.fixture(scope="module")
def trusted(tmp_path_factory):
    """A passing case and a suspended one, scored, decided and published in a notice."""
    tmp = tmp_path_factory.mktemp("trust")
    cluster = Cluster().create()
    try:
        cluster.start().open_campaign()
        passing = factories.institution(9001, cohort=2020, city=CITY)
        failing = factories.institution(9002, cohort=2021, city=CITY)
        flow.clock(cluster, "2023-08-28")
        flow.file(cluster, tmp, [passing, failing])
        flow.self_assess(cluster, tmp, [passing, failing], OPERATOR)
        flow.clock(cluster, "2023-09-20")
        flow.score(cluster, tmp, {passing.uscc: 90, failing.uscc: 70}, OPERATOR)
        flow.verdict(cluster, passing.uscc, "同意延续备案")
        flow.verdict(cluster, failing.uscc, "暂停评价活动")
        flow.clock(cluster, "2023-10-31")
        cluster.cli("publish", "notice", "--out", str(tmp / "portal"), operator="province",
                    check=True)
        public = tmp / "notary.pub"
        public.write_text("dev " + checkpoint.public_key_of(config_module.DEV_NOTARY_SEED).hex())
        yield {"cluster": cluster, "passing": passing.uscc, "failing": failing.uscc,
               "tmp": tmp, "public": str(public)}
    finally:
        cluster.destroy()


def _forged_scored(uscc):
    """The attack of issue 10: a passing case re-scored 40, dated 2020, pinned far ahead."""
    return json.dumps({
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/pinggu/evaluation",
        "type": "pinggu.evaluation.CaseFile.Scored.v1", "sequence": "999999999",
        "subject": str(case_id(uscc)), "caseid": str(case_id(uscc)), "caseversion": 10 ** 9,
        "actor": "system", "actorrole": "system", "businessdate": "2020-01-01",
        "data": {"uscc": uscc, "kind": "initial", "areas": {}, "total": "40", "grade": "不合格",
                 "rubric_version": "2023", "rubric": {}, "evaluator": "system",
                 "evaluated_on": "2020-01-01"}})


def _depth(cluster, queue):
    with Connection(cluster.amqp_uri(queue.split(".")[0])) as conn:
        return Queue(queue, channel=conn.channel(), durable=True).queue_declare(
            passive=True).message_count


def _try(publish):
    try:
        publish()
        return "accepted"
    except Exception as exc:  # the broker closes the channel: 403 or 406
        return f"refused: {exc}"


def test_a_forged_score_from_every_other_user_is_refused_or_dead_lettered(trusted):
    cluster, uscc = trusted["cluster"], trusted["passing"]
    before_case = cluster.cli_json("case", "show", uscc)
    before_events = cluster.sql("SELECT count(*) FROM decisions.decisions_events")[0][0]
    dead_before = _depth(cluster, "decisions.dead-letter")
    accounts = cluster.config()
    outcomes = {}
    for role in OTHER_ROLES:
        forged = _forged_scored(uscc)
        # On the events exchange as itself, claiming to be evaluation's user, without a
        # user_id; and straight into decisions' inbox through the default exchange.
        outcomes[(role, "own user_id")] = _try(lambda: cluster.publish(
            role, "evaluation.CaseFile.Scored", forged))
        outcomes[(role, "evaluation's user_id")] = _try(lambda: cluster.publish(
            role, "evaluation.CaseFile.Scored", forged, user_id=accounts.account("evaluation")))
        outcomes[(role, "no user_id")] = _try(lambda: cluster.publish(
            role, "evaluation.CaseFile.Scored", forged, user_id=None))
        outcomes[(role, "default exchange")] = _try(lambda: cluster.publish(
            role, "decisions.inbox", forged, exchange=""))
    accepted = [k for k, v in outcomes.items() if v == "accepted"]
    # Whatever the broker let through, the consumers dead-lettered at once.
    wait_for(lambda: _depth(cluster, "decisions.dead-letter") == dead_before + len(accepted),
             what=f"{accepted} dead-lettered")
    assert all(v.startswith("refused") for k, v in outcomes.items() if k[1] != "no user_id"), \
        outcomes
    cluster.cli("settle", check=True)
    assert cluster.cli_json("case", "show", uscc) == before_case
    assert cluster.sql("SELECT count(*) FROM decisions.decisions_events")[0][0] == before_events


def test_a_forged_directory_entry_from_any_other_user_authorises_nobody(trusted, tmp_path):
    """The directory's events name the keys every service trusts: a forged
    `registry.Operator.Authorised` (an intruder's key with the province's role) from any
    user but the registry's must not reach any service's key table."""
    from shared import operators, tokens
    cluster = trusted["cluster"]
    private = tokens.new_private_key()
    public = tokens.public_bytes(private)
    held = tmp_path / "intruder"
    operators.write_credential(str(held / "intruder.json"), "intruder", "province", "140000",
                               private)
    forged = json.dumps({
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/pinggu/registry",
        "type": "pinggu.registry.Operator.Authorised.v1", "sequence": "999999999",
        "subject": str(uuid.uuid4()), "caseid": str(uuid.uuid4()), "caseversion": 1,
        "actor": "province", "actorrole": "province", "businessdate": "2023-10-31",
        "data": {"entry": {"id": "intruder", "role": "province", "jurisdiction": "140000",
                           "name": "", "keys": {tokens.key_id(public): {"public_key": public}},
                           "authorised": {"by": "province", "at": "2023-10-31T00:00:00"}}}})
    accounts = cluster.config()
    outcomes = {}
    for role in OTHER_ROLES:
        if role == "registry":
            continue
        outcomes[(role, "own user_id")] = _try(lambda: cluster.publish(
            role, "registry.Operator.Authorised", forged))
        outcomes[(role, "registry's user_id")] = _try(lambda: cluster.publish(
            role, "registry.Operator.Authorised", forged, user_id=accounts.account("registry")))
        outcomes[(role, "no user_id")] = _try(lambda: cluster.publish(
            role, "registry.Operator.Authorised", forged, user_id=None))
        outcomes[(role, "into its directory queue")] = _try(lambda: cluster.publish(
            role, f"{role if role in SERVICES else 'evaluation'}.directory", forged,
            exchange=""))
    cluster.cli("settle", check=True)
    for service in SERVICES:
        assert cluster.sql(f"SELECT count(*) FROM {service}.operator_keys "
                           "WHERE operator_id = 'intruder'")[0][0] == 0, (service, outcomes)
    saved = cluster.env["PINGGU_CREDENTIALS"]
    cluster.env["PINGGU_CREDENTIALS"] = str(held)
    try:
        rc, out, err = cluster.cli("campaign", "status", operator="intruder")
    finally:
        cluster.env["PINGGU_CREDENTIALS"] = saved
    assert rc == 2 and "unknown key" in err, err


def test_an_hr_system_publishes_external_events_and_nothing_else(trusted):
    cluster = trusted["cluster"]
    body = json.dumps({"specversion": "1.0", "id": str(uuid.uuid4()),
                       "source": f"/hr/legal-registry/{uuid.uuid4().hex[:8]}",
                       "type": "pinggu.external.LegalRegistration.v1", "sequence": "1",
                       "data": {"uscc": trusted["passing"], "status": "valid",
                                "legal_valid_until": "2028-06-30", "reported_on": "2023-10-01"}})
    assert _try(lambda: cluster.publish("hr-legal", "external.LegalRegistration", body)) \
        == "accepted"
    for key in ("registry.Institution.Filed", "evaluation.CaseFile.Scored",
                "decisions.Case.Decided", "notices.Notice.Published"):
        assert _try(lambda: cluster.publish("hr-legal", key, body)).startswith("refused"), key
    # The CLI's user may not publish events at all.
    assert _try(lambda: cluster.publish("cli", "external.LegalRegistration", body)
                ).startswith("refused")


def test_a_service_message_without_its_user_id_is_dead_lettered(trusted):
    """The broker vouches for user_id only when it is there: a consumer refuses a message
    that does not carry the user owning its routing key."""
    cluster = trusted["cluster"]
    before = _depth(cluster, "evaluation.dead-letter")
    envelope = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/pinggu/registry",
                "type": "pinggu.registry.Institution.Filed.v1", "sequence": "999999998",
                "data": {}}
    cluster.publish("registry", "registry.Institution.Filed", json.dumps(envelope),
                    user_id=None)
    wait_for(lambda: _depth(cluster, "evaluation.dead-letter") == before + 1,
             what="the message without user_id dead-lettered")


@pytest.mark.parametrize("service", ("registry", "evaluation", "decisions", "notices"))
def test_the_event_tables_are_append_only_for_the_service_roles(trusted, service):
    accounts = trusted["cluster"].config()
    table = f"{service}.{service}_events"
    for statement in (f"UPDATE {table} SET topic = topic",
                      f"DELETE FROM {table}",
                      f"TRUNCATE {table}",
                      f"UPDATE {service}.{service}_tracking SET notification_id = 0",
                      "UPDATE cluster.clock_moves SET to_date = '2099-01-01'",
                      "DELETE FROM cluster.checkpoints"):
        conn = psycopg2.connect(accounts.dsn(role=service))
        try:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
                with conn, conn.cursor() as cur:
                    cur.execute(statement)
        finally:
            conn.close()
    other = "evaluation" if service != "evaluation" else "registry"
    conn = psycopg2.connect(accounts.dsn(role=other))
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            with conn, conn.cursor() as cur:
                cur.execute(f"INSERT INTO {table} (originator_id, originator_version) "
                            f"VALUES (gen_random_uuid(), 1)")
    finally:
        conn.close()
    # The auditor reads, and writes nothing.
    conn = psycopg2.connect(accounts.dsn(role="cli"))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {table}")
            assert cur.fetchone()[0] > 0
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            with conn, conn.cursor() as cur:
                cur.execute(f"DELETE FROM {table}")
    finally:
        conn.close()


def test_the_published_checkpoint_verifies_with_the_public_key_only(trusted):
    cluster, portal = trusted["cluster"], trusted["tmp"] / "portal"
    published = sorted(portal.glob("notices/*.checkpoint.json"))
    assert len(published) == 1
    document = json.loads(published[0].read_text())
    assert document["checkpoint"]["streams"] >= 8  # two cases in four services
    # The verifier needs nothing but the files and the public key: no cluster.
    verify = [sys.executable, "-m", "services.cli", "checkpoint", "verify", str(portal),
              "--public-key", trusted["public"]]
    result = subprocess.run(verify, cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0 and "ok" in result.stdout, result.stdout + result.stderr
    document["checkpoint"]["merkle_root"] = "0" * 64
    forged = trusted["tmp"] / "forged.checkpoint.json"
    forged.write_text(json.dumps(document))
    result = subprocess.run(verify[:5] + [str(forged), *verify[6:]], cwd=ROOT,
                            capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 1 and "FAILED" in result.stdout


def test_the_case_export_manifest_is_signed(trusted):
    cluster, tmp = trusted["cluster"], trusted["tmp"]
    out = tmp / "evidence.zip"
    cluster.cli("case", "export", trusted["failing"], "--out", str(out), operator="auditor",
                check=True)
    rc, out_text, err = cluster.cli("checkpoint", "verify", str(out), "--public-key",
                                    trusted["public"])
    assert rc == 0, out_text + err
    assert "manifest signed by the notary" in out_text and ".checkpoint.json" in out_text


def _evaluation_app(cluster):
    from services.evaluation.application import Evaluation
    env = cluster.config().pg_env("evaluation", create_table=False)
    env.update(POSTGRES_USER="postgres", POSTGRES_PASSWORD="")
    return Evaluation(env=env)


def _audit(cluster):
    rc, out, err = cluster.cli("audit", "verify", "--json", operator="auditor")
    return rc, json.loads(out) if out else {"problems": [], "err": err}


def test_an_event_edited_with_recomputed_unkeyed_links_is_found(trusted):
    """The attack of issue 10 on the history: the score edited in the database and every
    link after it recomputed as the old unkeyed SHA-256 chain was."""
    cluster = trusted["cluster"]
    case = str(case_id(trusted["passing"]))
    assert _audit(cluster)[0] == 0
    app = _evaluation_app(cluster)
    try:
        events = list(app.events.get(uuid.UUID(case)))
        saved = cluster.sql("SELECT originator_version, state FROM evaluation.evaluation_events "
                            "WHERE originator_id = %s", (case,))
        previous, forged = "", []
        for event in events:
            if type(event).__qualname__.endswith("Scored"):
                event = dataclasses.replace(event, total=40)
            link = hashlib.sha256((previous + "\n" + chain.content(event)).encode()).hexdigest()
            event = dataclasses.replace(event, meta={**event.meta, "hash": link})
            forged.append(app.mapper.to_stored_event(event))
            previous = link
        for stored in forged:
            cluster.tamper("UPDATE evaluation.evaluation_events SET state = %s WHERE "
                           "originator_id = %s AND originator_version = %s",
                           (stored.state, case, stored.originator_version))
        try:
            rc, report = _audit(cluster)
            assert rc == 1
            assert {(p["service"], p["case"]) for p in report["problems"]} == \
                {("evaluation", case)}
            assert any("altered" in p["problem"] and "notice" in p["problem"]
                       for p in report["problems"])  # the checkpoint saw it too
        finally:
            for version, state in saved:
                cluster.tamper("UPDATE evaluation.evaluation_events SET state = %s WHERE "
                               "originator_id = %s AND originator_version = %s",
                               (state, case, version))
    finally:
        app.close()
    assert _audit(cluster)[0] == 0


def test_a_deleted_last_event_is_found_by_the_checkpoint(trusted):
    cluster = trusted["cluster"]
    case = str(case_id(trusted["passing"]))
    heads = json.loads(cluster.sql("SELECT heads FROM cluster.checkpoints")[0][0])

    def last(service):
        return cluster.sql(f"SELECT max(originator_version) FROM {service}.{service}_events "
                           f"WHERE originator_id = %s", (case,))[0][0]
    # A stream of the case that has not moved on since the notice: its last event is the
    # one the checkpoint signed.
    service, version = next((h[0], h[2]) for h in heads if h[1] == case and last(h[0]) == h[2])
    table = f"{service}.{service}_events"
    saved = cluster.sql(f"SELECT originator_id, originator_version, topic, state, "
                        f"notification_id FROM {table} WHERE originator_id = %s AND "
                        f"originator_version = %s", (case, version))
    cluster.tamper(f"DELETE FROM {table} WHERE originator_id = %s AND originator_version = %s",
                   (case, version))
    try:
        rc, out, err = cluster.cli("audit", "verify", operator="auditor")
        assert rc == 1
        assert f"TAMPERED {service} case {case} position {version}" in out
        assert "missing (deleted?)" in out
    finally:
        cluster.sql(f"INSERT INTO {table} (originator_id, originator_version, topic, state, "
                    f"notification_id) VALUES (%s, %s, %s, %s, %s)", saved[0])


def test_the_clock_never_moves_backwards_and_every_move_is_listed(trusted):
    cluster = trusted["cluster"]
    rc, out, err = cluster.cli("clock", "set", "2023-09-01", operator="province")
    assert rc == 2 and "backwards" in err
    assert cluster.cli_json("clock", "show")["today"] == "2023-10-31"
    moves = cluster.cli_json("clock", "history")
    assert [(m["by"], m["to"]) for m in moves if m["by"] == "province"][-2:] == [
        ("province", "2023-09-20"), ("province", "2023-10-31")]
    assert all(m["from"] for m in moves)


def test_explain_names_the_clock_move_a_deadline_fired_on(trusted):
    cluster, uscc = trusted["cluster"], trusted["failing"]
    flow.clock(cluster, "2023-11-21")  # past the two months to rectify
    flow.verdict(cluster, uscc, "终止备案", timeout=60)
    explanation = cluster.cli_json("case", "explain", uscc)
    fired = explanation["deadlines_fired"]
    assert fired and fired[-1]["clock_move"]["to"] == "2023-11-21"
    assert fired[-1]["clock_move"]["by"] == "province"
    rc, out, err = cluster.cli("case", "explain", uscc, operator="auditor")
    assert "when the clock was moved" in out and "2023-11-21" in out


def test_production_refuses_a_development_key_and_any_clock_move(tmp_path):
    # Last in this module: its cluster provisions the run's accounts with production
    # passwords, which the module's `trusted` cluster no longer knows.
    # A service refuses to start with the development keys.
    env = dict(os.environ, PINGGU_MODE="production")
    result = subprocess.run([sys.executable, "-m", "services.run", "registry"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "development key" in result.stderr
    # With keys and passwords of its own it starts, on the wall clock, and the clock is
    # not to be set.
    from services import provision
    provision.generate_keys(str(tmp_path / "keys"), "k1")
    secrets = tmp_path / "secrets.env"
    secrets.write_text("".join(
        f"PINGGU_{kind}_PASSWORD_{role.upper().replace('-', '_')}={uuid.uuid4().hex}\n"
        for kind in ("BROKER", "PG")
        for role in ("registry", "evaluation", "decisions", "notices", "cli", "desk", "hr-legal",
                     "auditor")))
    cluster = Cluster()
    cluster.env.update(PINGGU_MODE="production", PINGGU_SECRETS_FILE=str(secrets),
                       PINGGU_HISTORY_KEY_FILE=str(tmp_path / "keys" / "history.key"),
                       PINGGU_NOTARY_KEY_FILE=str(tmp_path / "keys" / "notary.key"))
    cluster.env.pop("PINGGU_SIMULATED_CLOCK")
    try:
        cluster.create().start()
        rc, out, err = cluster.cli("clock", "set", "2099-01-01", operator="province")
        assert rc == 2 and "production" in err, err
        assert cluster.cli_json("clock", "show")["simulated"] is False
    finally:
        cluster.destroy()

