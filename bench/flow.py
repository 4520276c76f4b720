"""The event flow's own benchmarks (issue 14, bench/README.md):

`hop`: N filings committed in the registry's store (by its own application in this
process, as one roster import writes them) while the four services run; timed from the
commit to the moment evaluation has recorded every one (its tracking table), through the
registry's outbox (publisher confirms), RabbitMQ and evaluation's inbox. Events/s of that
one hop, with the ratio to the baseline. Then, once every service has handled and published
what the filings caused, the CPU seconds each service's process spent per filing: a cost of
its own, which the machine's other load moves far less than the seconds of the hop; and the
same of the PostgreSQL backends serving the cluster's database.

`latency-at-rest`: N cases filed and self-assessed, then scored one at a time (a one-row
score sheet submitted through `services.cli.main` in this process, waiting for its verdict
before the next), so nothing queues: the decision latency Scored -> Decided from the
events' own timestamps (the evaluation's `CaseFile.Scored`, the decisions' `Case.Decided`),
so the benchmark's own waits do not bound it. While a score is on its way the benchmark does
not poll: it looks for the verdict when decisions' commit NOTIFY comes (issue 14; it used
to count the verdicts every 2 ms, a query of its own on the machine it measures), and it
scores the next case once notices lists the verdict, so the previous score's flow is
over: at rest.
"""
import datetime as dt
import os
import select
import time

from big_store import cluster_environment
from common import (BenchCluster, cpu_seconds, machine_busy_seconds, median,  # noqa: E402
                    percentile, pids_named, progress)
from publications import inproc

CITY = "140100"


def bench_hop(res, n):
    from tests import factories
    rows = [factories.institution(i + 1, city=CITY).to_dict() for i in range(n)]
    bc = BenchCluster("hop")
    try:
        with bc:
            registry = _registry(bc)
            spies = []
            try:
                from shared.metadata import caused_by
                pids = {k: p.pid for k, p in bc.cluster.processes.items() if k in SERVICES}
                cpu_before = {k: cpu_seconds(pid) for k, pid in pids.items()}
                postgres_before = _backends_cpu(bc)
                broker = {pid: cpu_seconds(pid) for pid in pids_named("beam.smp")}
                spies = _spies(pids)
                machine_before = machine_busy_seconds()
                with caused_by("province", "province", business_date=dt.date(2023, 8, 28)):
                    start = time.perf_counter()
                    registry.import_roster(rows)
                committed = time.perf_counter() - start
                # As the service's own commit would wake its outbox (shared/wakeup.py).
                bc.query("SELECT pg_notify('pinggu_commit_registry', '')")
                tracked = lambda: bc.count("evaluation.evaluation_tracking")  # noqa: E731
                _, waited = bc.wait(lambda: tracked() >= n, f"evaluation to record {n}",
                                    interval=0.01, state=tracked)
                seconds = committed + waited
                machine = machine_busy_seconds() - machine_before
                # Then until every service has done all the filings caused, for the CPU
                # each spent on one: seconds of its own, whatever else the machine runs.
                bc.wait(lambda: _all_done(bc, n), "every service to handle and publish",
                        interval=0.1)
                cpu = {k: cpu_seconds(pid) - cpu_before[k] for k, pid in pids.items()}
                cpu["postgres"] = sum(spent - postgres_before.get(pid, 0.0)
                                      for pid, spent in _backends_cpu(bc).items())
                cpu["rabbitmq"] = sum(cpu_seconds(pid) - spent for pid, spent in broker.items())
            finally:
                _stop_spies(spies)
                registry.close()
    finally:
        for text in bc.teardown_problems:
            res.problem("hop", f"teardown: {text}")
    res.details["hop"] = {"filings": n, "commit_s": committed, "after_commit_s": waited,
                          "machine_cpu_s": machine}
    cores = os.cpu_count()
    # Busy near 1.0: the hop is bound by the CPU its events cost, not by waiting.
    res.add("hop", "machine CPU busy during the hop", machine / (cores * seconds), "share",
            None, f"{machine:.1f} CPU s of {cores} cores x {seconds:.1f} s, every process "
            "on the machine (read on a quiet one)")
    res.details["hop"]["cpu_s"] = cpu
    res.rate("hop", "registry -> evaluation events/s", n / seconds, "events/s",
             f"{n} filings: committed in {committed:.2f} s, all recorded by evaluation "
             f"{waited:.2f} s later (outbox, confirms, broker, inbox)")
    for service, spent in cpu.items():
        res.add("hop", f"{service} CPU ms a filing", 1000 * spent / n, "ms",
                spent / n * res.baseline_rate,
                ("the PostgreSQL backends serving the cluster's database (the services' "
                 "and this process's commit; not the server's shared writers)"
                 if service == "postgres" else "the broker's (every vhost's)"
                 if service == "rabbitmq" else "its process's") +
                " user+system CPU until every service has handled and published what the "
                "filings caused; ratio = CPU / one baseline insert")


SERVICES = ("registry", "evaluation", "decisions", "notices")


def _backends_cpu(bc):
    """{pid: CPU seconds} of the PostgreSQL backends connected to the cluster's database
    but this benchmark's own query connection (its polling is not the hop's work)."""
    found = {}
    for (pid,) in bc.query("SELECT pid FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid()"):
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:  # gone meanwhile
            continue
    return found


def _spies(pids):
    """With PINGGU_BENCH_PYSPY=DIR, a `py-spy record` of each service during the hop
    (collapsed stacks in DIR/<service>.txt, for a flame graph or a grep): how the profile
    behind issue 14's cuts was taken. py-spy is not a dependency: `pip install py-spy`."""
    out = os.environ.get("PINGGU_BENCH_PYSPY")
    if not out:
        return []
    import subprocess
    import sys
    os.makedirs(out, exist_ok=True)
    spy = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return [subprocess.Popen([spy, "record", "--pid", str(pid), "--format", "raw",
                              "--rate", "250", "--gil", "--output",
                              os.path.join(out, f"{name}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, pid in pids.items()]


def _stop_spies(spies):
    import signal
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
    for spy in spies:
        spy.wait(timeout=30)


def _all_done(bc, n):
    """Every filing handled by the three consumers, every event published."""
    if bc.count("decisions.decisions_tracking") < n or \
            bc.count("notices.notices_tracking") < n:
        return False
    return all(bc.scalar(f"SELECT (SELECT coalesce(max(position), 0) FROM "
                         f"{s}.outbox_position) >= (SELECT coalesce(max(notification_id), 0) "
                         f"FROM {s}.{s}_events)") for s in SERVICES)


def _registry(bc):
    from shared import config
    from services.registry.application import Registry
    with cluster_environment(bc.cluster):
        return Registry(config.load())


def bench_latency_at_rest(res, n):
    from tests import factories
    rows = [factories.institution(i + 1, cohort=2021 if i % 2 else 2020, city=CITY)
            for i in range(n)]
    operator = f"city-{CITY}"
    bc = BenchCluster("latency-at-rest")
    try:
        with bc:
            inproc(bc, "roster", "import", factories.roster(bc.path("roster.xlsx"), rows))
            bc.known_downstream(n)
            inproc(bc, "submit", "self-assessment",
                   factories.self_assessment(bc.path("sa.xlsx"), rows), operator=operator)
            noted = lambda: bc.topic_count("decisions", "Case.SelfAssessmentNoted")  # noqa
            bc.wait(lambda: noted() >= n, "decisions to note the self-assessments")
            inproc(bc, "clock", "set", "2023-10-31")
            time.sleep(1.5)  # the sweep's tick settles
            progress(f"latency-at-rest: {n} cases filed and self-assessed; scoring one "
                     "at a time")
            listener = _listening(bc, "decisions")
            try:
                for k, row in enumerate(rows):
                    sheet = factories.score_sheet(bc.path(f"score-{k}.xlsx"),
                                                  {row.uscc: 85}, on=dt.date(2023, 10, 31))
                    decided = bc.topic_count("decisions", "Case.Decided")
                    listed = bc.decided_count()
                    inproc(bc, "submit", "score-sheet", sheet, operator=operator)
                    _wait_on_commits(
                        listener, lambda: bc.topic_count("decisions", "Case.Decided") > decided,
                        f"the verdict on score {k + 1}")
                    # At rest: the next score only once this one's flow is over (notices
                    # lists the verdict), so no score meets the one before it on the way.
                    bc.wait(lambda: bc.decided_count() > listed,
                            f"notices to list the verdict on score {k + 1}", interval=0.01)
            finally:
                listener.close()
            latencies = _latencies(bc)
    finally:
        for text in bc.teardown_problems:
            res.problem("latency-at-rest", f"teardown: {text}")
    res.details["latency-at-rest"] = {"cases": n, "latencies_ms": latencies}
    if len(latencies) != n:
        res.problem("latency-at-rest", f"{len(latencies)} of {n} scores were followed by "
                                       "a verdict")
    if not latencies:
        return
    per_commit_ms = 1000 / res.baseline_rate
    note = (f"n={len(latencies)}, one score at a time; ratio = latency / one baseline "
            f"insert+commit ({per_commit_ms:.2f} ms)")
    for label, value in (("median", median(latencies)), ("p99", percentile(latencies, 99)),
                         ("max", max(latencies))):
        res.add("latency-at-rest", f"{label} Scored -> Decided", value, "ms",
                value / per_commit_ms, note)


def _listening(bc, service):
    """A connection LISTENing to the commits of `service` (its NOTIFY, shared/wakeup.py)."""
    import psycopg2
    from common import PG
    conn = psycopg2.connect(dbname=bc.cluster.name, **PG)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"LISTEN pinggu_commit_{service}")
    return conn


def _wait_on_commits(listener, predicate, what, timeout=300):
    """Until `predicate()`, looked at after each commit `listener` hears of (or every
    0.5 s): the benchmark does not poll the database while the latency it measures runs
    (polling every 2 ms was a query of its own competing with the services')."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        select.select([listener], [], [], 0.5)
        listener.poll()
        listener.notifies.clear()


def _latencies(bc):
    from run import _load_events
    scored = {e.originator_id: e.timestamp for e in _load_events(bc, "evaluation")
              if type(e).__qualname__ == "CaseFile.Scored"}
    decided = {}
    for e in _load_events(bc, "decisions"):
        if type(e).__qualname__ == "Case.Decided" and e.originator_id in scored \
                and e.timestamp >= scored[e.originator_id]:
            decided.setdefault(e.originator_id, e.timestamp)
    return sorted((decided[c] - scored[c]).total_seconds() * 1000 for c in decided)
