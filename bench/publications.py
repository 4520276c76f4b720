"""The `publications` benchmark (bench/README.md): the sample province through the
services to every case decided, the way the demo campaign does it (services/demo.py,
driven in this process through `services.cli.main`), then `pinggu publish opinions` and
`pinggu publish notice` timed as the operator runs them (their own CLI processes)."""
import contextlib
import io
import json
import os
import time

from common import JURISDICTIONS, BenchCluster, CliFailed, progress
from big_store import cluster_environment

BENCH = "publications"


def inproc(bc, *args, operator="province"):
    """`pinggu --json ARGS` in this process (no Python start-up); its JSON answer."""
    from services import cli
    out, err = io.StringIO(), io.StringIO()
    with cluster_environment(bc.cluster), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        code = cli.main(["--operator", operator, "--json", *args])
    if code != 0:
        raise CliFailed(args, code, err.getvalue())
    text = out.getvalue()
    return json.loads(text) if text.strip() else None


def run_campaign(res, bc):
    """The demo's campaign up to every case decided (services.demo.main without the
    publications and the rectification that follow them). Returns (in-scope cases,
    seconds, details)."""
    import random
    from services import demo
    start = time.perf_counter()
    rng = random.Random(demo.SEED)
    forms = bc.path("forms")
    os.makedirs(forms, exist_ok=True)
    # The campaign is open on 2023-08-28 (BenchCluster).
    roster = bc.path("province.xlsx")
    inproc(bc, "sample-province", "--out", roster, "--seed", str(demo.SEED))
    imported = inproc(bc, "roster", "import", roster)
    bc.known_downstream(imported["filed"])
    institutions = {j: inproc(bc, "institutions", "--jurisdiction", j, "--in-scope")
                    for j in demo.JURISDICTIONS}
    plan = demo.plan_for(sorted(i["uscc"] for rows in institutions.values() for i in rows),
                         rng)
    total = sum(len(rows) for rows in institutions.values())
    progress(f"{BENCH}: {imported['filed']} filed, {total} in scope; self-assessments "
             "(business date 2023-08-28)")
    self_assessed = 0
    for j in demo.JURISDICTIONS:
        path = os.path.join(forms, f"self-assessment-{j}.xlsx")
        inproc(bc, "template", "self-assessment", "--jurisdiction", j, "--out", path)
        demo.fill_self_assessment(path, institutions[j], plan, rng)
        answer = inproc(bc, "submit", "self-assessment", path, operator=demo.operator_for(j))
        self_assessed += answer["self_assessed"]
    missing = sorted(u for u, p in plan.items() if p["no_self_assessment"])
    if missing:
        excused = next(i for rows in institutions.values() for i in rows
                       if i["uscc"] == missing[0])
        inproc(bc, "excuse", missing[0], "--reason", "疫情封控期间无法开展自查，已提交说明",
               operator=demo.operator_for(excused["jurisdiction"]))
    progress(f"{BENCH}: {self_assessed} self-assessed, {len(missing)} did not (one excused); "
             "score sheets (business date 2023-09-20)")
    inproc(bc, "clock", "set", "2023-09-20")
    scored = 0
    for j in demo.JURISDICTIONS:
        path = os.path.join(forms, f"score-sheet-{j}.xlsx")
        inproc(bc, "template", "score-sheet", "--jurisdiction", j, "--out", path)
        demo.fill_score_sheet(path, plan, rng)
        answer = inproc(bc, "submit", "score-sheet", path, operator=demo.operator_for(j))
        scored += answer["scored"]
    findings = _findings(bc, institutions, plan, forms)
    progress(f"{BENCH}: {scored} scored, {findings} findings; business date 2023-10-31, "
             "waiting until every case is decided")
    inproc(bc, "clock", "set", "2023-10-31")
    _, waited = bc.wait(lambda: bc.decided_count() >= total,
                        f"notices to list all {total} cases as decided", timeout=300,
                        interval=0.2, state=bc.decided_count)
    seconds = time.perf_counter() - start
    if self_assessed + len(missing) != total or scored != total:
        res.problem(BENCH, f"{total} in scope, {self_assessed} self-assessed, "
                           f"{len(missing)} planned without, {scored} scored")
    return total, seconds, {"filed": imported["filed"], "in_scope": total,
                            "self_assessed": self_assessed, "no_self_assessment": len(missing),
                            "scored": scored, "findings": findings,
                            "decided_wait_s": waited}


def _findings(bc, institutions, plan, forms):
    """The demo's findings with evidence (organised cheating, unrectified audit findings)."""
    from services import demo
    recorded = 0
    for j, usccs in demo.findings_targets(institutions, plan).items():
        path = os.path.join(forms, f"findings-{j}.xlsx")
        inproc(bc, "template", "findings", "--jurisdiction", j, "--out", path)
        demo.fill_findings(path, usccs)
        recorded += inproc(bc, "submit", "findings", path,
                           operator=demo.operator_for(j))["findings"]
    return recorded


def bench_publications(res):
    bc = BenchCluster(BENCH)
    try:
        with bc:
            total, campaign_s, details = run_campaign(res, bc)
            progress(f"{BENCH}: all {total} cases decided, {campaign_s:.1f} s after the "
                     "roster; publishing")
            outcomes = {}
            for case in inproc(bc, "decided"):
                key = f"{case['cohort']} {case['outcome']}"
                outcomes[key] = outcomes.get(key, 0) + 1
            time.sleep(1.5)  # let the services go idle (the sweep ticks once a second)
            noop, *_ = bc.cli("clock", "show")
            counts_before = bc.event_counts()
            opinions_dir, portal_dir = bc.path("opinions"), bc.path("portal")
            op_s, _, out, _ = bc.cli("publish", "opinions", "--out", opinions_dir, "--json")
            opinions = json.loads(out)
            progress(f"{BENCH}: publish opinions {op_s:.2f} s: {len(opinions)} jurisdictions")
            notice_s, _, out, _ = bc.cli("publish", "notice", "--out", portal_dir, "--json")
            notice = json.loads(out)
            progress(f"{BENCH}: publish notice {notice_s:.2f} s: {notice['notice']}, "
                     f"{len(notice['files'])} portal files")
            time.sleep(1.0)
            counts_after = bc.event_counts()
            listed = {j: sum(n for lists in v["lists"].values() for n in lists.values())
                      for j, v in opinions.items()}
            written = sorted(os.listdir(opinions_dir))
            portal_files = sum(len(files) for _, _, files in os.walk(portal_dir))
    finally:
        for text in bc.teardown_problems:
            res.problem(BENCH, f"teardown: {text}")
    if sorted(opinions) != sorted(JURISDICTIONS):
        res.problem(BENCH, f"publish opinions (province) gave {sorted(opinions)}, expected "
                           "the 12 jurisdictions")
    if sum(listed.values()) != total:
        res.problem(BENCH, f"the opinions list {sum(listed.values())} institutions, "
                           f"{total} in scope")
    if len(written) != 3 * len(opinions):  # HTML, PDF and 附件3 each
        res.problem(BENCH, f"publish opinions wrote {len(written)} files for "
                           f"{len(opinions)} jurisdictions: {written}")
    entries = (notice.get("notice") or {}).get("entries")
    if entries != total:
        res.problem(BENCH, f"the notice lists {entries} institutions, {total} in scope")
    if portal_files != len(notice["files"]):
        res.problem(BENCH, f"{len(notice['files'])} portal files reported, "
                           f"{portal_files} on disk")
    res.details[BENCH] = {
        **details, "campaign_s": campaign_s, "outcomes": outcomes, "noop_cli_s": noop,
        "opinions_s": op_s, "opinions_per_jurisdiction": listed, "opinion_files": written,
        "notice_s": notice_s, "notice": notice["notice"], "portal_files": notice["files"],
        "events_written_by_publishing": {s: counts_after[s] - counts_before[s]
                                         for s in counts_after}}
    progress(f"{BENCH}: outcomes {outcomes}")
    scale = f"a no-op CLI call (clock show) takes {noop:.2f} s"
    res.add(BENCH, "publish opinions (CLI, 12 jurisdictions)", op_s, "s", None,
            f"{total} institutions, {len(written)} files; {scale}")
    res.rate(BENCH, "publish opinions institutions/s", total / op_s, "inst/s",
             f"{total} institutions / {op_s:.2f} s, CLI start-up included")
    res.add(BENCH, "publish notice (CLI, + portal files)", notice_s, "s", None,
            f"{entries} entries, notice {(notice.get('notice') or {}).get('number')}, "
            f"{len(notice['files'])} portal files written")
    res.rate(BENCH, "publish notice institutions/s", total / notice_s, "inst/s",
             f"{total} institutions / {notice_s:.2f} s, CLI start-up included")
