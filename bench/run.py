"""pinggu's benchmarks, each against a baseline measured in the same run (bench/README.md).

    .venv/bin/python bench/run.py [--only NAME[,NAME]] [--n N] [--json FILE]
"""
import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (JURISDICTIONS, BenchCluster, baseline_inserts,  # noqa: E402
                    fill_score_sheet, fill_self_assessment, median, operator_for,
                    percentile, progress)

BENCHMARKS = ("baseline", "hop", "latency-at-rest", "spine", "roster-import", "evaluation",
              "decision-latency", "publications", "replay-verify")
SPINE_CITY = "140100"


class Results:
    """Rows of the summary table: one per metric, each with its ratio to the baseline."""

    def __init__(self):
        self.baseline_rate = None
        self.rows = []
        self.details = {}
        self.failures = {}
        self.problems = []   # what looked wrong in the system under test

    def add(self, bench, metric, value, unit, ratio=None, note=""):
        self.rows.append({"benchmark": bench, "metric": metric, "value": value, "unit": unit,
                          "ratio_to_baseline": ratio, "note": note})
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        progress(f"{bench}: {metric} = {shown} {unit}"
                 + (f"  (x{ratio:.4f} of baseline)" if ratio is not None else ""))

    def rate(self, bench, metric, per_second, unit, note=""):
        """A throughput, with its ratio to the baseline inserts/s."""
        ratio = per_second / self.baseline_rate if self.baseline_rate else None
        self.add(bench, metric, per_second, unit, ratio, note)

    def problem(self, bench, text):
        self.problems.append({"benchmark": bench, "problem": text})
        progress(f"{bench}: PROBLEM: {text}")


# -- 1. baseline -------------------------------------------------------------------
def bench_baseline(res, n):
    progress(f"baseline: {n} single-row INSERT + COMMIT into a fresh table")
    rate, seconds = baseline_inserts(n)
    res.baseline_rate = rate
    res.details["baseline"] = {"rows": n, "seconds": seconds, "inserts_per_s": rate,
                               "payload_bytes": 300}
    res.add("baseline", "inserts/s (psycopg2, 1 row/commit)", rate, "rows/s", 1.0,
            f"{n} rows in {seconds:.2f} s")


def _teardown(res, bench, bc):
    for text in bc.teardown_problems:
        res.problem(bench, f"teardown: {text}")


# -- 2. spine ----------------------------------------------------------------------
def bench_spine(res, n):
    from tests import factories
    rows = [factories.institution(i + 1, cohort=2021 if i % 2 else 2020, city=SPINE_CITY)
            for i in range(n)]
    # A quarter of the cases below the pass mark (2021: rectify, 2020: terminate), the
    # rest passed: every case gets a verdict and a notice entry.
    scores = {row.uscc: (72 if i % 4 == 0 else 85) for i, row in enumerate(rows)}
    operator = operator_for(SPINE_CITY)
    bc = BenchCluster("spine")
    try:
        with bc:
            start_run = time.perf_counter()
            counts_run = bc.event_counts()
            roster = factories.roster(bc.path("roster.xlsx"), rows)
            t_import, *_ = bc.cli("roster", "import", roster)
            progress(f"spine: roster of {n} imported in {t_import:.2f} s (CLI)")
            waited = bc.known_downstream(n)
            progress(f"spine: filings known downstream {waited:.2f} s after the import")
            sa = factories.self_assessment(bc.path("sa.xlsx"), rows)
            t_sa, _, out, _ = bc.cli("submit", "self-assessment", sa, "--json",
                                     operator=operator)
            if json.loads(out).get("self_assessed") != n:
                res.problem("spine", f"self-assessment of {n} rows answered {out.strip()}")
            noted = lambda: bc.topic_count("decisions", "Case.SelfAssessmentNoted")  # noqa: E731
            _, waited = bc.wait(lambda: noted() >= n, "decisions to note the self-assessments",
                                state=noted)
            progress(f"spine: self-assessment submitted in {t_sa:.2f} s, noted by decisions "
                     f"{waited:.2f} s later")
            bc.cli("clock", "set", "2023-10-31")
            sheet = factories.score_sheet(bc.path("scores.xlsx"), scores,
                                          on=dt.date(2023, 10, 31))
            time.sleep(1.5)  # let the services go idle (the sweep ticks once a second)
            before = bc.event_counts()
            start = time.perf_counter()
            t_submit, _, out, _ = bc.cli("submit", "score-sheet", sheet, "--json",
                                         operator=operator)
            if json.loads(out).get("scored") != n:
                res.problem("spine", f"score sheet of {n} rows answered {out.strip()}")
            bc.wait(lambda: bc.decided_count() >= n, "notices to list every case",
                    interval=0.02, state=bc.decided_count)
            seconds = time.perf_counter() - start
            after = bc.event_counts()
            listed = bc.decided_count()
            # The same count through the CLI, once, as the operator would see it.
            _, decided = bc.cli_json("decided")
            if len(decided) != n:
                res.problem("spine", f"`pinggu decided` lists {len(decided)} cases, "
                                     f"expected {n}")
            run_seconds = time.perf_counter() - start_run
            end_counts = bc.event_counts()
    finally:
        _teardown(res, "spine", bc)
    events = {s: after[s] - before[s] for s in after}
    total = sum(events.values())
    run_events = sum(end_counts[s] - counts_run[s] for s in end_counts)
    res.details["spine"] = {
        "cases": n, "jurisdiction": SPINE_CITY, "listed": listed,
        "score_submit_cli_s": t_submit, "window_s": seconds,
        "events_in_window": events, "events_in_window_total": total,
        "roster_import_cli_s": t_import, "self_assessment_cli_s": t_sa,
        "whole_run_s": run_seconds, "whole_run_events": run_events,
        "whole_run_events_by_service": {s: end_counts[s] - counts_run[s] for s in end_counts},
    }
    window = (f"window: score-sheet CLI start -> notices lists all {n} (SQL poll): "
              f"{seconds:.2f} s (the CLI call itself {t_submit:.2f} s)")
    res.rate("spine", "cases/s", n / seconds, "cases/s", window)
    res.rate("spine", "events/s (window)", total / seconds, "events/s",
             f"{total} events written in the window: " + ", ".join(
                 f"{s} {v}" for s, v in events.items()))
    res.rate("spine", "events/s (whole run)", run_events / run_seconds, "events/s",
             f"{run_events} events from roster import to the end, {run_seconds:.1f} s "
             "(includes the waits between steps)")


# -- 3. roster-import --------------------------------------------------------------
def bench_roster_import(res):
    bc = BenchCluster("roster-import")
    try:
        with bc:
            noop, *_ = bc.cli("clock", "show")
            path = bc.path("province.xlsx")
            _, sample = bc.cli_json("sample-province", "--out", path)
            rows = sample["institutions"]
            first_s, first = bc.cli_json("roster", "import", path)
            progress(f"roster-import: first import {first_s:.2f} s: {first}")
            if first.get("filed") != rows:
                res.problem("roster-import", f"first import of {rows} rows answered {first}")
            settled = bc.known_downstream(rows)
            progress(f"roster-import: downstream knew every filing {settled:.2f} s after the "
                     "import returned")
            time.sleep(1.5)
            before = bc.event_counts()
            journals = bc.topic_count("registry", "CommandJournal.Recorded")
            again_s, again = bc.cli_json("roster", "import", path)
            progress(f"roster-import: re-import {again_s:.2f} s: {again}")
            if again.get("unchanged") != rows:
                res.problem("roster-import", f"re-import of the same {rows} rows answered "
                                             f"{again} (expected all unchanged)")
            time.sleep(1.0)
            after = bc.event_counts()
            # The re-import's command journal (issue 11) is its one event, by design.
            after["registry"] -= bc.topic_count("registry", "CommandJournal.Recorded") - journals
            if after != before:
                res.problem("roster-import", f"re-import of an unchanged roster wrote events: "
                            f"{ {s: after[s] - before[s] for s in after} }")
    finally:
        _teardown(res, "roster-import", bc)
    res.details["roster-import"] = {
        "rows": rows, "first_cli_s": first_s, "first": first, "reimport_cli_s": again_s,
        "reimport": again, "downstream_settled_after_s": settled, "cli_noop_s": noop}
    res.rate("roster-import", "first import rows/s (CLI incl. start-up)", rows / first_s,
             "rows/s", f"{rows} rows in {first_s:.2f} s; a no-op CLI call (clock show) "
             f"takes {noop:.2f} s; downstream knew all filings {settled:.2f} s later")
    res.rate("roster-import", "re-import rows/s (CLI incl. start-up)", rows / again_s,
             "rows/s", f"{rows} rows in {again_s:.2f} s ({again.get('unchanged')} unchanged)")


# -- 4. evaluation (and 5. decision-latency on the same cluster) ---------------------
def bench_evaluation(res, latency=True, report_evaluation=True):
    bc = BenchCluster("evaluation")
    try:
        with bc:
            path = bc.path("province.xlsx")
            _, sample = bc.cli_json("sample-province", "--out", path)
            bc.cli("roster", "import", path)
            rows = sample["institutions"]
            bc.known_downstream(rows)
            progress(f"evaluation: {rows} filings known to evaluation and decisions")
            time.sleep(1.5)
            ev = _evaluate_province(res, bc)
            if latency:
                _decision_latency(res, bc)
    finally:
        _teardown(res, "evaluation", bc)
    if not report_evaluation:
        return
    n = ev["institutions"]
    res.details["evaluation"] = ev
    res.rate("evaluation", "institutions/s (templates+fill+submit)", n / ev["whole_s"],
             "inst/s", f"{n} institutions, 12 jurisdictions, {ev['whole_s']:.1f} s: "
             f"{ev['cli_calls']} CLI calls, clock set included")
    res.rate("evaluation", "institutions/s (submits only)", n / ev["submit_s"], "inst/s",
             f"24 submit CLI calls, {ev['submit_s']:.1f} s "
             f"(self-assessment {ev['sa_submit_s']:.1f} s, score sheets "
             f"{ev['score_submit_s']:.1f} s)")
    res.rate("evaluation", "self-assessment rows/s (submits)", ev["self_assessed"]
             / ev["sa_submit_s"], "rows/s", "12 submit CLI calls")
    res.rate("evaluation", "score-sheet rows/s (submits)", ev["scored"]
             / ev["score_submit_s"], "rows/s", "12 submit CLI calls")


def _evaluate_province(res, bc):
    timings = {"template_s": 0.0, "institutions_s": 0.0, "fill_s": 0.0,
               "sa_submit_s": 0.0, "score_submit_s": 0.0, "clock_s": 0.0}
    per_j = {}
    calls = 0
    sheets = {}
    start = time.perf_counter()
    # Phase 1, business date 2023-08-28 (the campaign was opened on it): both templates,
    # the scopes, the self-assessment filled in and submitted, per jurisdiction.
    for j in JURISDICTIONS:
        op = operator_for(j)
        sa_t, sc_t = bc.path(f"sa-template-{j}.xlsx"), bc.path(f"score-template-{j}.xlsx")
        s1, tmpl = bc.cli_json("template", "self-assessment", "--jurisdiction", j,
                               "--out", sa_t, operator=op)
        s2, sc_tmpl = bc.cli_json("template", "score-sheet", "--jurisdiction", j,
                                  "--out", sc_t, operator=op)
        s3, institutions = bc.cli_json("institutions", "--jurisdiction", j, "--in-scope",
                                       operator=op)
        calls += 3
        timings["template_s"] += s1 + s2
        timings["institutions_s"] += s3
        t = time.perf_counter()
        scopes = {i["uscc"]: i["scope"] for i in institutions}
        # A jurisdiction of more institutions than one file lists (a nation's province)
        # has its templates in parts: each filled in and handed in on its own.
        filled, sa_files, sheets[j] = [], [], []
        for part in tmpl["files"]:
            sa_files.append(bc.path("sa-" + os.path.basename(part)[len("sa-template-"):]))
            filled += fill_self_assessment(part, sa_files[-1], scopes)
        for part in sc_tmpl["files"]:
            sheets[j].append(bc.path("score-" + os.path.basename(part)[len("score-template-"):]))
            fill_score_sheet(part, sheets[j][-1])
        timings["fill_s"] += time.perf_counter() - t
        per_j[j] = {"in_scope": tmpl["institutions"], "self_assessed": 0, "flagged": 0,
                    "sa_submit_s": 0.0, "files": len(sa_files)}
        for sa_f in sa_files:
            s4, _, out, err = bc.cli("submit", "self-assessment", sa_f, "--json",
                                     operator=op, check=False)
            calls += 1
            timings["sa_submit_s"] += s4
            answer = _answer(res, "evaluation", f"self-assessment {j}", out, err)
            per_j[j]["self_assessed"] += answer.get("self_assessed", 0)
            per_j[j]["flagged"] += len(answer.get("flagged", []))
            per_j[j]["sa_submit_s"] += s4
            if answer.get("flagged"):
                res.problem("evaluation", f"self-assessment {j}: {len(answer['flagged'])} "
                            f"flagged out of scope although every row uses the filing's "
                            f"scope: {answer['flagged'][:2]}")
        if len(filled) != tmpl["institutions"]:
            res.problem("evaluation", f"{j}: template has {len(filled)} rows, the CLI said "
                        f"{tmpl['institutions']}")
        progress(f"evaluation: {j}: {tmpl['institutions']} in scope, self-assessment "
                 f"{per_j[j]['self_assessed']} rows in {per_j[j]['sa_submit_s']:.2f} s"
                 + (f" ({len(sa_files)} files)" if len(sa_files) > 1 else ""))
    timings["clock_s"], *_ = bc.cli("clock", "set", "2023-10-31")
    calls += 1
    # Phase 2, business date 2023-10-31: the score sheets.
    for j in JURISDICTIONS:
        per_j[j].update(scored=0, score_submit_s=0.0)
        for sheet in sheets[j]:
            s5, _, out, err = bc.cli("submit", "score-sheet", sheet, "--json",
                                     operator=operator_for(j), check=False)
            calls += 1
            timings["score_submit_s"] += s5
            answer = _answer(res, "evaluation", f"score sheet {j}", out, err)
            per_j[j]["scored"] += answer.get("scored", 0)
            per_j[j]["score_submit_s"] += s5
        progress(f"evaluation: {j}: score sheet {per_j[j]['scored']} rows in "
                 f"{per_j[j]['score_submit_s']:.2f} s")
    whole = time.perf_counter() - start
    institutions = sum(v["in_scope"] for v in per_j.values())
    self_assessed = sum(v["self_assessed"] for v in per_j.values())
    scored = sum(v["scored"] for v in per_j.values())
    if self_assessed != institutions or scored != institutions:
        res.problem("evaluation", f"{institutions} in scope, {self_assessed} self-assessed, "
                    f"{scored} scored")
    return {"institutions": institutions, "self_assessed": self_assessed, "scored": scored,
            "whole_s": whole, "submit_s": timings["sa_submit_s"] + timings["score_submit_s"],
            "files": sum(v["files"] for v in per_j.values())
            + sum(len(parts) for parts in sheets.values()),
            **timings, "cli_calls": calls, "per_jurisdiction": per_j}


def _answer(res, bench, what, out, err):
    try:
        answer = json.loads(out) if out.strip() else {}
    except ValueError:
        answer = {}
    if err.strip() or not answer:
        res.problem(bench, f"{what}: refused or failed: {err.strip() or out.strip()}")
    return answer


def _decision_latency(res, bc):
    scored = bc.topic_count("evaluation", "CaseFile.Scored")
    noted = lambda: bc.topic_count("decisions", "Case.ScoreNoted")  # noqa: E731
    _, waited = bc.wait(lambda: noted() >= scored, f"decisions to note all {scored} scores",
                        timeout=600, state=noted)
    progress(f"decision-latency: decisions noted all {scored} scores "
             f"{waited:.2f} s after the last score sheet's CLI returned")
    time.sleep(1.0)
    ev_events = _load_events(bc, "evaluation")
    de_events = _load_events(bc, "decisions")
    scored_at = {}
    for e in ev_events:
        if type(e).__qualname__ == "CaseFile.Scored":
            scored_at[e.originator_id] = e.timestamp   # the last score of a case
    decided = {}
    noted = {}
    for e in de_events:
        name = type(e).__qualname__
        if name == "Case.Decided":
            decided.setdefault(e.originator_id, []).append(e.timestamp)
        elif name == "Case.ScoreNoted":
            noted[e.originator_id] = e.timestamp
    latencies, delivery, before_score, undecided = [], [], 0, 0
    for case, t_scored in scored_at.items():
        after = [t for t in decided.get(case, []) if t >= t_scored]
        if after:
            latencies.append((min(after) - t_scored).total_seconds() * 1000)
        elif decided.get(case):
            before_score += 1   # decided before the score and the score changed nothing
        else:
            undecided += 1
        if case in noted:
            delivery.append((noted[case] - t_scored).total_seconds() * 1000)
    res.details["decision-latency"] = {
        "scored_cases": len(scored_at), "decided_after_score": len(latencies),
        "decided_before_score_only": before_score, "never_decided": undecided,
        "drain_after_last_submit_s": waited,
        "latency_ms": _stats(latencies), "score_noted_ms": _stats(delivery)}
    if undecided:
        res.problem("decision-latency", f"{undecided} scored cases have no Case.Decided event "
                    "in decisions")
    if not latencies:
        res.problem("decision-latency", "no case was decided after its score")
        return
    # Latency against the baseline's time for one INSERT + COMMIT (1 / inserts/s).
    per_commit_ms = 1000 / res.baseline_rate if res.baseline_rate else None
    note = f"n={len(latencies)} cases decided after their score"
    if before_score:
        note += f"; {before_score} decided before the score (unchanged by it)"
    if per_commit_ms:
        note += f"; ratio = latency / one baseline insert+commit ({per_commit_ms:.2f} ms)"
    for label, p in (("median", 50), ("p99", 99)):
        value = median(latencies) if p == 50 else percentile(latencies, 99)
        res.add("decision-latency", f"{label} Scored -> Decided", value, "ms",
                value / per_commit_ms if per_commit_ms else None, note)
    res.add("decision-latency", "max Scored -> Decided", max(latencies), "ms",
            max(latencies) / per_commit_ms if per_commit_ms else None,
            f"Scored -> ScoreNoted (delivery) median {median(delivery):.0f} ms")


def _stats(values):
    if not values:
        return None
    return {"count": len(values), "min": min(values), "median": median(values),
            "p90": percentile(values, 90), "p99": percentile(values, 99), "max": max(values)}


def _load_events(bc, service):
    """Every event of a service, decoded through its own eventsourcing application."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in bc.cluster.env.items() if k.startswith("PINGGU_")})
    try:
        from shared import config
        if service == "evaluation":
            from services.evaluation.application import Evaluation as App
        else:
            from services.decisions.application import Decisions as App
        app = App(config.load())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        events, start = [], 1
        while True:
            batch = app.recorder.select_notifications(start, 1000)
            if not batch:
                return events
            events.extend(app.mapper.to_domain_event(n) for n in batch)
            start = batch[-1].id + 1
    finally:
        app.close()


# -- the run -----------------------------------------------------------------------
def table(res):
    lines = []
    head = f"{'benchmark':<17}{'metric':<42}{'value':>12} {'unit':<9}{'x baseline':>11}  note"
    lines.append(head)
    lines.append("-" * len(head))
    for r in sorted(res.rows, key=lambda r: BENCHMARKS.index(r["benchmark"])):
        value = f"{r['value']:.2f}" if isinstance(r["value"], float) else str(r["value"])
        ratio = f"{r['ratio_to_baseline']:.4f}" if r["ratio_to_baseline"] is not None else "-"
        lines.append(f"{r['benchmark']:<17}{r['metric']:<42}{value:>12} {r['unit']:<9}"
                     f"{ratio:>11}  {r['note']}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated: " + ", ".join(BENCHMARKS)
                        + " (the baseline always runs first)")
    parser.add_argument("--n", type=int, default=200, help="cases of the spine benchmark")
    parser.add_argument("--baseline-n", type=int, default=2000,
                        help="rows of the baseline (default 2000)")
    parser.add_argument("--events", type=int, default=100000,
                        help="events in the store of the replay-verify benchmark "
                             "(at least; default 100000)")
    parser.add_argument("--hop-n", type=int, default=5000,
                        help="filings sent across the hop benchmark (default 5000)")
    parser.add_argument("--rest-n", type=int, default=200,
                        help="cases scored one at a time by latency-at-rest (default 200)")
    parser.add_argument("--json", help="write the results as JSON to this file")
    args = parser.parse_args(argv)
    only = BENCHMARKS if not args.only else tuple(x.strip() for x in args.only.split(","))
    unknown = [x for x in only if x not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; one of {', '.join(BENCHMARKS)}")

    res = Results()
    started = dt.datetime.now(dt.timezone.utc)
    progress(f"pinggu benchmarks: {', '.join(only)} (baseline first); python {sys.version.split()[0]}, "
             f"{os.cpu_count()} CPUs")
    steps = [("baseline", lambda: bench_baseline(res, args.baseline_n))]
    if "hop" in only:
        from flow import bench_hop
        steps.append(("hop", lambda: bench_hop(res, args.hop_n)))
    if "latency-at-rest" in only:
        from flow import bench_latency_at_rest
        steps.append(("latency-at-rest", lambda: bench_latency_at_rest(res, args.rest_n)))
    if "spine" in only:
        steps.append(("spine", lambda: bench_spine(res, args.n)))
    if "roster-import" in only:
        steps.append(("roster-import", lambda: bench_roster_import(res)))
    if "evaluation" in only or "decision-latency" in only:
        steps.append(("evaluation" if "evaluation" in only else "decision-latency",
                      lambda: bench_evaluation(res, latency="decision-latency" in only,
                                               report_evaluation="evaluation" in only)))
    if "publications" in only:
        from publications import bench_publications
        steps.append(("publications", lambda: bench_publications(res)))
    if "replay-verify" in only:
        from replay_verify import bench_replay_verify
        steps.append(("replay-verify", lambda: bench_replay_verify(res, args.events)))
    for name, step in steps:
        t = time.perf_counter()
        try:
            step()
        except Exception as exc:
            res.failures[name] = f"{type(exc).__name__}: {exc}"
            progress(f"{name}: FAILED: {type(exc).__name__}: {exc}")
            traceback.print_exc()
            if name == "baseline":
                break
        progress(f"{name}: done in {time.perf_counter() - t:.1f} s")

    print()
    print(f"baseline: {res.baseline_rate:.0f} single-row INSERT+COMMIT/s" if res.baseline_rate
          else "baseline: not measured")
    print(table(res))
    if res.problems:
        print("\nproblems seen in the system under test:")
        for p in res.problems:
            print(f"  [{p['benchmark']}] {p['problem']}")
    if res.failures:
        print("\nfailed benchmarks:")
        for name, why in res.failures.items():
            print(f"  {name}: {why}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"started": started.isoformat(), "host": platform.node(),
                       "cpus": os.cpu_count(), "python": sys.version.split()[0],
                       "baseline_inserts_per_s": res.baseline_rate, "rows": res.rows,
                       "details": res.details, "problems": res.problems,
                       "failures": res.failures}, fh, ensure_ascii=False, indent=2,
                      default=str)
        progress(f"results written to {args.json}")
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
