"""The `replay-verify` benchmark (bench/README.md): a store of 100,000 events or more
across the four services (built in this process, bench/big_store.py), the services started
on it, then `pinggu replay verify` and `pinggu audit verify` timed next to a raw
sequential read of the same event tables."""
import json
import os
import time

import psycopg2

from common import (EVENT_TABLES, PG, BenchCluster, cpu_seconds_or_zero, postgres_cpu,
                    progress)

BENCH = "replay-verify"
RAW_SQL = ("SELECT originator_id, originator_version, topic, state FROM {table} "
           "ORDER BY notification_id")
# The same rows with the id and the record as text, the form audit verify reads them in
# (issue 14): about half the time of bytea's hex form. Reported beside the raw read, so
# that no gain of the verifications is only the cheaper form of fetching.
RAW_TEXT_SQL = ("SELECT originator_id::text, originator_version, topic, "
                "convert_from(state, 'UTF8') FROM {table} ORDER BY notification_id")


def raw_read(dbname, sql=RAW_SQL):
    """Every event of the four tables, fetched in full with psycopg2 (one connection, one
    query per table). Returns (events, seconds, per-table counts)."""
    conn = psycopg2.connect(dbname=dbname, **PG)
    try:
        counts = {}
        start = time.perf_counter()
        for service, table in EVENT_TABLES.items():
            with conn.cursor() as cur:
                cur.execute(sql.format(table=table))
                counts[service] = len(cur.fetchall())
        seconds = time.perf_counter() - start
        conn.rollback()
    finally:
        conn.close()
    return sum(counts.values()), seconds, counts


def _cpu_now(bc):
    """CPU seconds so far of the services' processes, of PostgreSQL's backends on the
    cluster's database (the local server; those alive before and after a command: the
    services' pools), and of this process's finished children (the CLI processes): the
    verifications' cost, which the machine's load moves less than their wall-clock time
    (issue 14)."""
    children = os.times()
    return {"services": sum(cpu_seconds_or_zero(p.pid)
                            for p in bc.cluster.processes.values()),
            "postgres": postgres_cpu(bc.cluster.name),
            "cli": children.children_user + children.children_system}


def _timed_cli(bc, *args):
    """bc.cli(...) as the auditor, with the CPU seconds it cost (see _cpu_now)."""
    before = _cpu_now(bc)
    seconds, rc, out, err = bc.cli(*args, operator="auditor", check=False, timeout=900)
    after = _cpu_now(bc)
    return seconds, rc, out, err, {k: round(after[k] - before[k], 2) for k in after}


def _unprojected(bc):
    """Events each service's projections have still to apply."""
    left = {}
    for service, table in EVENT_TABLES.items():
        head = bc.scalar(f"SELECT coalesce(max(notification_id), 0) FROM {table}")
        positions = [r[0] for r in bc.query(
            f"SELECT position FROM {service}.projection_position")]
        left[service] = sum(head - p for p in positions)
    return left


def bench_replay_verify(res, target):
    import big_store as store
    bc = BenchCluster(BENCH)
    failed = True
    try:
        progress(f"{BENCH}: creating cluster {bc.cluster.name} (logs {bc.cluster.logdir})")
        bc.cluster.create()
        built = store.build(bc.cluster, target)
        if built["events_total"] < target:
            res.problem(BENCH, f"the store holds {built['events_total']} events, fewer than "
                               f"the {target} asked for")
        progress(f"{BENCH}: starting the services on the store")
        started = time.perf_counter()
        bc.cluster.start()
        _, caught_up = bc.wait(lambda: not any(_unprojected(bc).values()),
                               "the services' projections to catch up", timeout=600,
                               interval=0.5, state=lambda: _unprojected(bc))
        settle_s, *_ = bc.cli("clock", "set", store.SCORED_ON.isoformat())
        ready_s = time.perf_counter() - started
        progress(f"{BENCH}: projections caught up {caught_up:.1f} s after the services "
                 f"answered; `clock set` settled in {settle_s:.1f} s")
        counts = bc.event_counts()
        # The registry provisions the development operators on its first start (their
        # directory's events, docs/identity.md): not the store's, but no other event may be.
        directory = bc.count(EVENT_TABLES["registry"], "WHERE topic LIKE %s",
                             ("services.registry.directory:%",))
        if dict(counts, registry=counts["registry"] - directory) != built["events"]:
            res.problem(BENCH, f"the services wrote events on starting on the store: built "
                               f"{built['events']}, now {counts}")
        total = sum(counts.values())
        # The raw read, twice (the first may find cold pages); the faster counts.
        reads = [raw_read(bc.cluster.name) for _ in range(2)]
        for n, seconds, _ in reads:
            if n != total:
                res.problem(BENCH, f"raw read fetched {n} events, the tables hold {total}")
        raw_n, raw_s, _ = min(reads, key=lambda r: r[1])
        raw_rate = raw_n / raw_s
        progress(f"{BENCH}: raw read of {raw_n} events: "
                 + ", ".join(f"{s:.2f} s" for _, s, _ in reads))
        text_reads = [raw_read(bc.cluster.name, RAW_TEXT_SQL) for _ in range(2)]
        for n, seconds, _ in text_reads:
            if n != total:
                res.problem(BENCH, f"raw text read fetched {n} events, the tables hold "
                                   f"{total}")
        text_n, text_s, _ = min(text_reads, key=lambda r: r[1])
        text_rate = text_n / text_s
        progress(f"{BENCH}: raw read as text: "
                 + ", ".join(f"{s:.2f} s" for _, s, _ in text_reads))

        # For scale: what any `pinggu` process costs (Python start-up, the broker).
        noop_s, *_ = bc.cli("clock", "show", operator="auditor")
        replay_s, rc, out, err, replay_cpu = _timed_cli(bc, "replay", "verify", "--json")
        replay = _json(out)
        progress(f"{BENCH}: replay verify exited {rc} in {replay_s:.1f} s: ok "
                 f"{replay.get('ok')}, {replay.get('verdicts_checked')} verdicts re-run; CPU s "
                 f"{replay_cpu}")
        if rc != 0 or not replay.get("ok"):
            res.problem(BENCH, f"`pinggu replay verify` exited {rc}: tables "
                               f"{replay.get('tables')}, verdicts "
                               f"{(replay.get('verdicts') or [])[:3]}; stderr tail: "
                               f"{err.strip()[-500:]}")
        decided = bc.topic_count("decisions", "Case.Decided")
        if replay.get("verdicts_checked") not in (None, decided):
            res.problem(BENCH, f"replay verify re-ran {replay.get('verdicts_checked')} "
                               f"verdicts, decisions holds {decided} Case.Decided events")

        audit_s, rc, out, err, audit_cpu = _timed_cli(bc, "audit", "verify", "--json")
        audit = _json(out)
        progress(f"{BENCH}: audit verify exited {rc} in {audit_s:.1f} s: "
                 f"{audit.get('checked')} events checked, ok {audit.get('ok')}; CPU s "
                 f"{audit_cpu}")
        if rc != 0 or not audit.get("ok"):
            res.problem(BENCH, f"`pinggu audit verify` exited {rc}: "
                               f"{(audit.get('problems') or [])[:3]}; stderr tail: "
                               f"{err.strip()[-500:]}")
        if audit.get("checked") != total:
            res.problem(BENCH, f"audit verify checked {audit.get('checked')} events, the "
                               f"stores hold {total}")
        after = bc.event_counts()
        if after != counts:
            res.problem(BENCH, f"events were written during the verifications: {counts} -> "
                               f"{after}")
        failed = False
    finally:
        bc.close(keep_logs=failed)
        for text in bc.teardown_problems:
            res.problem(BENCH, f"teardown: {text}")

    replay_rate, audit_rate = total / replay_s, total / audit_s
    res.details[BENCH] = {
        "build": built, "events": counts, "events_total": total,
        "services_ready_s": ready_s, "projections_caught_up_s": caught_up,
        "settle_s": settle_s, "noop_cli_s": noop_s,
        "raw_reads": [{"events": n, "seconds": s, "per_table": c} for n, s, c in reads],
        "raw_read_events_per_s": raw_rate,
        "raw_text_reads": [{"events": n, "seconds": s} for n, s, _ in text_reads],
        "raw_text_read_events_per_s": text_rate,
        "replay_verify_s": replay_s, "replay_verify_events_per_s": replay_rate,
        "replay_verdicts_checked": replay.get("verdicts_checked"),
        "replay_ok": replay.get("ok"), "replay_verify_cpu_s": replay_cpu,
        "audit_verify_s": audit_s, "audit_verify_events_per_s": audit_rate,
        "audit_checked": audit.get("checked"), "audit_ok": audit.get("ok"),
        "audit_verify_cpu_s": audit_cpu,
    }
    per_service = ", ".join(f"{s} {n}" for s, n in counts.items())
    res.add(BENCH, "events in the store (4 services)", total, "events", None,
            f"{per_service}; built in process in {built['build_s']:.0f} s from "
            f"{built['institutions']} institutions ({len(built['seeds'])} sample provinces)")
    res.rate(BENCH, "raw sequential read events/s", raw_rate, "events/s",
             f"psycopg2, 4 tables ORDER BY notification_id, fetchall: {raw_s:.2f} s "
             f"(reads: {', '.join(f'{s:.2f}' for _, s, _ in reads)} s)")
    res.rate(BENCH, "raw read as text events/s", text_rate, "events/s",
             f"the same, id and record as text (audit verify's form): {text_s:.2f} s "
             f"(reads: {', '.join(f'{s:.2f}' for _, s, _ in text_reads)} s)")
    res.rate(BENCH, "replay verify events/s", replay_rate, "events/s",
             f"`pinggu replay verify` (auditor) {replay_s:.1f} s, "
             f"{replay.get('verdicts_checked')} verdicts re-run; x{replay_rate / raw_rate:.4f} "
             f"of the raw read; a no-op `pinggu clock show` takes {noop_s:.1f} s; CPU s "
             f"{_cpu_text(replay_cpu)}")
    res.add(BENCH, "replay verify / raw read", replay_rate / raw_rate, "ratio", None,
            f"replay verify events/s / raw read events/s = {replay_rate / raw_rate:.4f}")
    res.add(BENCH, "replay verify / raw text read", replay_rate / text_rate, "ratio", None,
            f"replay verify events/s / raw read as text events/s = "
            f"{replay_rate / text_rate:.4f}")
    res.rate(BENCH, "audit verify events/s", audit_rate, "events/s",
             f"`pinggu audit verify` (auditor) {audit_s:.1f} s, {audit.get('checked')} "
             f"events checked; x{audit_rate / raw_rate:.4f} of the raw read; CPU s "
             f"{_cpu_text(audit_cpu)}")
    res.add(BENCH, "audit verify / raw read", audit_rate / raw_rate, "ratio", None,
            f"audit verify events/s / raw read events/s = {audit_rate / raw_rate:.4f}")
    res.add(BENCH, "audit verify / raw text read", audit_rate / text_rate, "ratio", None,
            f"audit verify events/s / raw read as text events/s = "
            f"{audit_rate / text_rate:.4f}")


def _cpu_text(cpu):
    return ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())


def _json(text):
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
