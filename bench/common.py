"""Shared helpers of the benchmarks: the baseline, a throw-away cluster, timed CLI calls,
event counts and the form filling. See bench/README.md."""
import contextlib
import datetime as dt
import json
import math
import os
import shutil
import sys
import tempfile
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import psycopg2  # noqa: E402

from services.evaluation.forms import filler  # noqa: E402
from shared.language.jurisdictions import JURISDICTIONS, PROVINCE  # noqa: E402, F401
from shared.machine import busy_cpu_seconds as machine_busy_seconds  # noqa: E402, F401
from shared.language.outcomes import COHORTS  # noqa: E402
from tests.support import Cluster  # noqa: E402

PG = {"host": "127.0.0.1", "user": "postgres"}
EVENT_TABLES = {
    "registry": "registry.registry_events",
    "evaluation": "evaluation.evaluation_events",
    "decisions": "decisions.decisions_events",
    "notices": "notices.notices_events",
}

_T0 = time.monotonic()


def progress(message):
    print(f"[{time.monotonic() - _T0:7.1f}s] {message}", flush=True)


def cpu_seconds(pid, children=False):
    """A process's user + system CPU seconds so far (/proc/<pid>/stat), with its reaped
    children's if `children` (a service's parse workers); OSError if it is gone."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15 if children else 13]) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_or_zero(pid, children=False):
    """cpu_seconds, 0 for a process gone meanwhile (or not on this machine)."""
    try:
        return cpu_seconds(pid, children)
    except OSError:
        return 0.0


def postgres_cpu(dbname):
    """CPU seconds so far of the local PostgreSQL's backends connected to `dbname`."""
    conn = psycopg2.connect(dbname="postgres", **PG)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,))
            pids = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    return sum(cpu_seconds_or_zero(pid) for pid in pids)


def pids_named(name):
    """The pids of this machine's processes whose command is `name` (e.g. beam.smp)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == name:
                        pids.append(int(entry))
    return pids


def operator_for(jurisdiction):
    return "center" if jurisdiction == PROVINCE else f"city-{jurisdiction}"


# -- the baseline -------------------------------------------------------------------
def baseline_inserts(n=2000, payload_bytes=300):
    """Raw psycopg2: one INSERT + COMMIT per row into a fresh table of a fresh database
    (dropped afterwards). Returns (rows/s, seconds)."""
    dbname = f"pinggu_bench_baseline_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{dbname}"')
        conn = psycopg2.connect(dbname=dbname, **PG)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, "
                            "payload bytea NOT NULL)")
            conn.commit()
            payloads = [os.urandom(payload_bytes) for _ in range(n)]
            with conn.cursor() as cur:
                start = time.perf_counter()
                for payload in payloads:
                    cur.execute("INSERT INTO bench_baseline (payload) VALUES (%s)",
                                (psycopg2.Binary(payload),))
                    conn.commit()
                seconds = time.perf_counter() - start
                cur.execute("SELECT count(*) FROM bench_baseline")
                assert cur.fetchone()[0] == n
        finally:
            conn.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.close()
    return n / seconds, seconds


# -- the cluster --------------------------------------------------------------------
class BenchCluster:
    """A fresh tests.support.Cluster (own database and vhost) with a scratch directory for
    the xlsx files and the service logs, all outside the repository."""

    def __init__(self, label):
        self.label = label
        self.tmp = tempfile.mkdtemp(prefix=f"pinggu-bench-{label}-")
        self.cluster = Cluster(name=f"pinggu_bench_{uuid.uuid4().hex[:8]}")
        self.cluster.logdir = os.path.join(self.tmp, "logs")
        self._conn = None
        self.teardown_problems = []

    def __enter__(self):
        try:
            progress(f"{self.label}: starting cluster {self.cluster.name} "
                     f"(logs {self.cluster.logdir})")
            self.cluster.create()
            self.cluster.start()
            self.cluster.open_campaign()
        except BaseException:
            self.close(keep_logs=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(keep_logs=exc_type is not None)

    def close(self, keep_logs=False):
        """Stop the services and drop the database and vhost. A service that does not stop
        on SIGTERM (tests.support.Cluster raises, leaving the rest running) is recorded in
        `teardown_problems`, the rest are stopped one by one, and the logs are kept."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        cluster = self.cluster
        try:
            cluster.destroy()
        except Exception as exc:
            self.teardown_problems.append(f"{type(exc).__name__}: {exc}")
            progress(f"{self.label}: TEARDOWN PROBLEM: {exc}")
            for key in list(cluster.processes):
                process = cluster.processes.pop(key)
                process.terminate()
                try:
                    process.wait(timeout=30)
                except Exception:
                    self.teardown_problems.append(f"{key} did not stop on SIGTERM in 30 s; "
                                                  "killed")
                    process.kill()
                    process.wait(timeout=30)
            cluster.destroy()  # nothing left to stop: the vhost and database go
        progress(f"{self.label}: cluster {cluster.name} destroyed")
        if keep_logs or self.teardown_problems or os.environ.get("PINGGU_BENCH_KEEP"):
            progress(f"{self.label}: logs kept in {cluster.logdir}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    # -- SQL on the cluster's database, one autocommit connection -------------------
    def query(self, statement, params=()):
        if self._conn is None or self._conn.closed:
            self._conn = psycopg2.connect(dbname=self.cluster.name, **PG)
            self._conn.autocommit = True
        with self._conn.cursor() as cur:
            cur.execute(statement, params or None)
            return cur.fetchall() if cur.description else None

    def scalar(self, statement, params=()):
        return self.query(statement, params)[0][0]

    def count(self, table, where="", params=()):
        return self.scalar(f"SELECT count(*) FROM {table} {where}", params)

    def decided_count(self):
        """How many cases notices lists as decided, read from its read table. The table
        has been notices.decided_cases; it is now notices.listing_entries (a row per
        filing, `entry` set once decided, listed for the in-scope cohorts as `pinggu
        decided` does). Raises if neither exists, rather than waiting for ever."""
        if getattr(self, "_decided_sql", None):
            return self.scalar(self._decided_sql)
        tables = {r[0] for r in self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'notices'")}
        if "decided_cases" in tables:
            self._decided_sql = "SELECT count(*) FROM notices.decided_cases"
        elif "listing_entries" in tables:
            self._decided_sql = ("SELECT count(*) FROM notices.listing_entries "
                                 "WHERE entry IS NOT NULL AND cohort IN "
                                 f"({', '.join(map(str, COHORTS))})")
        else:
            raise RuntimeError(f"notices has neither decided_cases nor listing_entries "
                               f"(tables: {sorted(tables)})")
        return self.scalar(self._decided_sql)

    def event_counts(self):
        return {service: self.count(table) for service, table in EVENT_TABLES.items()}

    # -- the CLI ------------------------------------------------------------------
    def cli(self, *args, operator="province", check=True, timeout=600):
        """Run `pinggu ARGS` as its own process; returns (seconds, rc, stdout, stderr)."""
        start = time.perf_counter()
        rc, out, err = self.cluster.cli(*args, operator=operator, timeout=timeout)
        seconds = time.perf_counter() - start
        if check and rc != 0:
            raise CliFailed(args, rc, err)
        return seconds, rc, out, err

    def cli_json(self, *args, operator="province", timeout=600):
        seconds, rc, out, err = self.cli(*args, "--json", operator=operator, timeout=timeout)
        return seconds, json.loads(out)

    def wait(self, predicate, what, timeout=300, interval=0.05, state=None):
        """Poll until predicate() is truthy; returns its value and the seconds waited.
        On a timeout the error says `state()` (what was reached) and the event counts."""
        start = time.perf_counter()
        while True:
            value = predicate()
            if value:
                return value, time.perf_counter() - start
            if time.perf_counter() - start >= timeout:
                reached = state() if state else None
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}"
                                   + (f" (reached: {reached})" if reached is not None else "")
                                   + f"; events per service: {self.event_counts()}")
            time.sleep(interval)

    def known_downstream(self, n):
        """Wait until evaluation and decisions have a case for each of `n` filings."""
        def state():
            return {"evaluation.casefiles_status": self.count("evaluation.casefiles_status"),
                    "decisions.cases_current": self.count("decisions.cases_current")}
        return self.wait(lambda: all(v >= n for v in state().values()),
                         f"evaluation and decisions to know the {n} filings", state=state)[1]

    def topic_count(self, service, suffix):
        """How many events of `service` have a topic ending in `suffix` (e.g.
        "Case.ScoreNoted")."""
        return self.count(EVENT_TABLES[service], "WHERE topic LIKE %s", ("%" + suffix,))


class CliFailed(Exception):
    def __init__(self, args, rc, err):
        self.rc, self.err = rc, err.strip()
        super().__init__(f"pinggu {' '.join(map(str, args))} exited {rc}: {self.err}")


# -- forms --------------------------------------------------------------------------
def fill_self_assessment(template, out, scopes, years=(2021, 2022)):
    """Fill a self-assessment template: every pre-filled institution gets staff counts and
    a self score, and activity in `years` for the first occupation and level of its
    filing scope (`scopes`: uscc -> [{occupation, levels}]). Returns the rows filled."""
    filled = []

    def typed(code):
        filled.append(code)
        return {"考评人员数": 12, "内部质量督导人员数": 3, "专家数": 5, "自评得分": 85}

    def activity():  # once every institution's row is typed (sheets fill in order)
        for code in filled:
            scope = scopes[code][0]
            for year in years:
                yield {"统一社会信用代码": code, "年度": year, "职业编码": scope["occupation"],
                       "等级": scope["levels"][0], "参评人数": 40, "合格人数": 36,
                       "发证数": 36}
    filler.fill(template, {"机构情况": filler.Rows(values=typed),
                           "认定开展情况": filler.Rows(append=activity())}, out=out)
    return filled


def area_scores(fraction=Decimal("0.85")):
    """Every area of the default rubric at `fraction` of its maximum, to one decimal."""
    from services.evaluation.rubric import DEFAULT_RUBRIC
    return {a.short_name: float((a.points * fraction).quantize(Decimal("0.1"), ROUND_HALF_UP))
            for a in DEFAULT_RUBRIC.areas}


def fill_score_sheet(template, out, evaluator="评估员甲", on=dt.date(2023, 10, 31),
                     fraction=Decimal("0.85")):
    """Fill a score-sheet template: every area at `fraction` of its maximum in
    services.evaluation.rubric.DEFAULT_RUBRIC (a template of another rubric is refused
    by the filler, which names the column it lacks)."""
    values = {**area_scores(fraction), "评估人": evaluator, "评估日期": on}
    filled = []

    def typed(code):
        filled.append(code)
        return values
    filler.fill(template, {"评估表": filler.Rows(values=typed)}, out=out)
    return filled


# -- statistics ---------------------------------------------------------------------
def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
