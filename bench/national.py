"""The `national` benchmark (issue 14, bench/README.md): N filed institutions through the
whole campaign on a fresh cluster with two instances of every service (competing
consumers; one outbox publisher each), every step timed beside the raw INSERT+COMMIT
baseline measured in the same run, with each service process's memory after each step;
several N give the cost curve.

    .venv/bin/python bench/national.py [--institutions 1000,10000,100000] [--instances 2]
                                       [--no-publish] [--json FILE]
"""
import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (BenchCluster, baseline_inserts, cpu_seconds_or_zero,  # noqa: E402
                    machine_busy_seconds, pids_named, postgres_cpu, progress)
from run import Results, _evaluate_province  # noqa: E402

BENCH = "national"
# Every wait and CLI call of a step; a national run is long, a stuck one still ends.
WAIT_TIMEOUT = 3600


def rss_mb(bc):
    """Resident memory (MB) of every process of the cluster now, and its peak so far."""
    out = {}
    for key, process in bc.cluster.processes.items():
        try:
            with open(f"/proc/{process.pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            out[key] = {"rss": int(fields["VmRSS"].split()[0]) // 1024,
                        "peak": int(fields["VmHWM"].split()[0]) // 1024}
        except (OSError, KeyError, ValueError):
            out[key] = None  # the process is gone: reported as such
    return out


def cpu_now(bc):
    """CPU seconds so far: the whole machine, and the parts of it this run can name."""
    own = [resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                resource.RUSAGE_CHILDREN)]
    return {"machine": machine_busy_seconds(),
            "services": sum(cpu_seconds_or_zero(p.pid, children=True)
                            for p in bc.cluster.processes.values()),
            "postgres": postgres_cpu(bc.cluster.name),
            "rabbitmq": sum(cpu_seconds_or_zero(pid) for pid in pids_named("beam.smp")),
            "bench+cli": sum(r.ru_utime + r.ru_stime for r in own)}


class Steps:
    """The timed steps of one N: seconds, items/s and its ratio to the baseline, RSS, and
    the CPU seconds each step cost (the machine's, and the services', PostgreSQL's
    backends', RabbitMQ's and this process's with its CLI calls)."""

    def __init__(self, res, n, bc):
        self.res, self.n, self.bc, self.rows = res, n, bc, []
        self._cpu = cpu_now(bc)

    def done(self, name, seconds, items, unit, note=""):
        rate = items / seconds if seconds else float("inf")
        memory = rss_mb(self.bc)
        biggest = max((m["peak"] for m in memory.values() if m), default=0)
        now = cpu_now(self.bc)
        cpu = {k: now[k] - self._cpu[k] for k in now}
        self._cpu = now
        self.rows.append({"step": name, "seconds": seconds, "items": items, "unit": unit,
                          "per_s": rate, "ratio": rate / self.res.baseline_rate,
                          "rss_mb": memory, "max_peak_rss_mb": biggest, "cpu_s": cpu,
                          "note": note})
        parts = ", ".join(f"{k} {v:.1f}" for k, v in cpu.items() if k != "machine")
        progress(f"{BENCH} N={self.n}: {name}: {seconds:.2f} s, {rate:.1f} {unit}/s "
                 f"(x{rate / self.res.baseline_rate:.3f} of baseline); peak RSS "
                 f"{biggest} MB; CPU s: machine {cpu['machine']:.1f} ({parts})"
                 f"{'; ' + note if note else ''}")


def run_one(res, n, instances, publish):
    from services.registry.sample import sample_province, write_rosters
    bc = BenchCluster(f"{BENCH}-{n}")
    try:
        with bc:
            for k in range(2, instances + 1):
                bc.cluster.start(instance=f"-{k}")
            steps = Steps(res, n, bc)
            start = time.perf_counter()
            t = time.perf_counter()
            rows = sample_province(institutions=n)
            files = write_rosters(rows, bc.path("national.xlsx"))
            steps.done("sample-province + roster files", time.perf_counter() - t, n,
                       "institutions", f"{len(files)} file(s)")

            t = time.perf_counter()
            filed = 0
            for path in files:
                _, answer = bc.cli_json("roster", "import", path, timeout=WAIT_TIMEOUT)
                filed += answer["filed"]
            imported_s = time.perf_counter() - t
            if filed != n:
                res.problem(BENCH, f"N={n}: {filed} filed of {n}")
            steps.done("roster import (CLI)", imported_s, n, "filings")
            t = time.perf_counter()
            bc.wait(lambda: all(v >= n for v in _known(bc).values()),
                    f"evaluation and decisions to know the {n} filings",
                    timeout=WAIT_TIMEOUT, interval=0.05, state=lambda: _known(bc))
            steps.done("filings known downstream (after the import returned)",
                       time.perf_counter() - t, n, "filings")

            t = time.perf_counter()
            ev = _evaluate_province(res, bc)
            # 24 files, more where a jurisdiction's templates come in parts (over 4,000)
            steps.done("self-assessments + score sheets (CLI)",
                       time.perf_counter() - t, ev["institutions"], "cases",
                       f"{ev['files']} files, submits {ev['submit_s']:.1f} s")
            in_scope = ev["institutions"]

            t = time.perf_counter()
            bc.wait(lambda: bc.decided_count() >= in_scope,
                    f"notices to list all {in_scope} cases as decided",
                    timeout=WAIT_TIMEOUT, interval=0.1, state=bc.decided_count)
            steps.done("verdicts listed by notices (after the last score sheet)",
                       time.perf_counter() - t, in_scope, "cases")

            if publish:
                t = time.perf_counter()
                _, opinions = bc.cli_json("publish", "opinions", "--out",
                                          bc.path("opinions"), timeout=WAIT_TIMEOUT)
                steps.done("12 opinions with 附件3 (CLI)", time.perf_counter() - t,
                           in_scope, "cases", f"{len(opinions)} jurisdictions")
                t = time.perf_counter()
                _, notice = bc.cli_json("publish", "notice", "--out", bc.path("portal"),
                                        timeout=WAIT_TIMEOUT)
                steps.done("the notice + portal (CLI)", time.perf_counter() - t, in_scope,
                           "cases", f"{(notice.get('notice') or {}).get('entries')} entries")
            whole = time.perf_counter() - start
            progress(f"{BENCH} N={n}: whole campaign {whole:.1f} s after start-up")
    finally:
        for text in bc.teardown_problems:
            res.problem(BENCH, f"N={n}: teardown: {text}")
    return {"institutions": n, "in_scope": in_scope, "whole_s": whole,
            "instances": instances, "steps": steps.rows}


def _known(bc):
    return {"evaluation": bc.count("evaluation.casefiles_status"),
            "decisions": bc.count("decisions.cases_current")}


def print_report(res, runs):
    print(f"\nbaseline: {res.baseline_rate:.0f} single-row INSERT+COMMIT/s (same run)")
    for run in runs:
        print(f"\nN = {run['institutions']} ({run['in_scope']} in scope), "
              f"{run['instances']} instances per service: {run['whole_s']:.1f} s")
        print(f"  {'step':<58} {'s':>8} {'per s':>9} {'ratio':>7} {'peak RSS MB':>12} "
              f"{'CPU s':>8}")
        for s in run["steps"]:
            print(f"  {s['step']:<58} {s['seconds']:8.2f} {s['per_s']:9.1f} "
                  f"{s['ratio']:7.3f} {s['max_peak_rss_mb']:12d} {s['cpu_s']['machine']:8.1f}")
        print_budget(run)
    if len(runs) > 1:
        print("\ncost curve (seconds per 1,000 institutions; flat = linear):")
        for run in runs:
            print(f"  N = {run['institutions']:>7}: {run['whole_s']:8.1f} s, "
                  f"{1000 * run['whole_s'] / run['institutions']:7.2f} s per 1k")


def print_budget(run):
    """The CPU the run cost per institution, by part, against what 100,000 institutions in
    the issue's 5 minutes would allow on this machine's cores (read on a quiet machine: the
    machine's figure counts every process on it)."""
    n, cores = run["institutions"], os.cpu_count()
    total = {k: sum(s["cpu_s"][k] for s in run["steps"]) for k in run["steps"][0]["cpu_s"]}
    budget_ms = 1000 * cores * 300 / 100_000
    print(f"  CPU per institution: machine {1000 * total['machine'] / n:.2f} ms ("
          + ", ".join(f"{k} {1000 * v / n:.2f}" for k, v in total.items() if k != "machine")
          + f"); 100,000 in 5 min on {cores} cores allows {budget_ms:.2f} ms")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--institutions", default="1000,10000,100000",
                        help="comma-separated sizes, one fresh cluster each")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--no-publish", dest="publish", action="store_false",
                        help="stop at the verdicts (publishing renders 13 PDFs)")
    parser.add_argument("--baseline-n", type=int, default=2000)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.institutions.split(",") if x.strip()]
    res = Results()
    rate, seconds = baseline_inserts(args.baseline_n)
    res.baseline_rate = rate
    progress(f"baseline: {rate:.0f} inserts/s ({args.baseline_n} rows, {seconds:.2f} s)")
    runs, failed = [], {}
    for n in sizes:
        try:
            runs.append(run_one(res, n, args.instances, args.publish))
        except Exception as exc:  # the next size still runs; reported below
            failed[n] = f"{type(exc).__name__}: {exc}"
            progress(f"{BENCH} N={n}: FAILED: {failed[n]}")
    print_report(res, runs)
    for p in res.problems:
        print(f"  PROBLEM [{p['benchmark']}] {p['problem']}")
    for n, text in failed.items():
        print(f"  FAILED N={n}: {text}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"baseline_inserts_per_s": rate, "runs": runs,
                       "problems": res.problems, "failed": failed}, f, indent=1,
                      ensure_ascii=False, default=str)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
