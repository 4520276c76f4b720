"""The province campaign of services/demo.py (862 filed, 507 in scope), driven through the
`pinggu` CLI against a test Cluster, the way an operator would under faults: a command
that fails for a reason other than bad input is run again (now with no-op facts, and later
a command id, a repeat changes nothing).

`on_submit(kind)` is a context manager wrapped around every form submission, so a fault can
be timed to land while one is in flight; `on_phase(name)` is called between the phases
(after "scored": the backup and restore).
"""
import contextlib
import datetime
import json
import os
import random
import time

from services import demo
from services.evaluation.rubric import DEFAULT_RUBRIC

ATTEMPTS = 15  # with back-off, about a minute: long enough for a server restart


class CommandFailed(RuntimeError):
    pass


class Operator:
    def __init__(self, cluster, log=print):
        self.cluster = cluster
        self.log = log
        self.retries = 0

    def run(self, *args, operator="province", json_out=False, timeout=150):
        """Run a command until it succeeds; exit 2 (bad input) is never retried."""
        argv = list(args) + (["--json"] if json_out else [])
        for attempt in range(1, ATTEMPTS + 1):
            try:
                rc, out, err = self.cluster.cli(*argv, operator=operator, timeout=timeout)
            except Exception as exc:  # subprocess.TimeoutExpired: the reply was lost
                rc, out, err = 1, "", repr(exc)
            if rc == 0:
                return json.loads(out) if json_out else out
            if rc == 2:
                raise CommandFailed(f"pinggu {' '.join(argv)}: exit 2: {err.strip()[-500:]}")
            self.retries += 1
            self.log(f"  retry {attempt}: pinggu {' '.join(args[:2])}: "
                     f"{(err.strip().splitlines() or ['?'])[-1][:160]}")
            time.sleep(min(5.0, 0.5 * attempt))
        raise CommandFailed(f"pinggu {' '.join(argv)} failed {ATTEMPTS} times: {err[-500:]}")

    def settle(self):
        self.run("settle", "--timeout", "300", timeout=330)


def run(cluster, workdir, on_submit=None, on_phase=None, log=print, jurisdictions=None):
    """The whole campaign; returns the operator (its retry count). With `jurisdictions`,
    only those hand in forms (the others' institutions are decided for not
    self-assessing): the same rules and faults in less time."""
    handing_in = jurisdictions or demo.JURISDICTIONS
    on_submit = on_submit or (lambda kind: contextlib.nullcontext())
    on_phase = on_phase or (lambda name: None)
    op = Operator(cluster, log)
    rng = random.Random(demo.SEED)
    forms = os.path.join(workdir, "forms")
    os.makedirs(forms, exist_ok=True)

    def submit(kind, path, jurisdiction):
        with on_submit(kind):
            op.run("submit", kind, path, operator=demo.operator_for(jurisdiction))

    log("campaign: open, roster of the sample province")
    op.run("clock", "set", "2023-08-28")
    op.run("campaign", "open")
    roster = os.path.join(workdir, "province.xlsx")
    op.run("sample-province", "--out", roster, "--seed", str(demo.SEED))
    op.run("roster", "import", roster)
    op.settle()
    institutions = {j: op.run("institutions", "--jurisdiction", j, "--in-scope", json_out=True)
                    for j in demo.JURISDICTIONS}
    plan = demo.plan_for(sorted(i["uscc"] for rows in institutions.values() for i in rows), rng)
    total = sum(len(rows) for rows in institutions.values())

    log(f"campaign: self-assessments of {total} institutions")
    for j in handing_in:
        path = os.path.join(forms, f"self-assessment-{j}.xlsx")
        op.run("template", "self-assessment", "--jurisdiction", j, "--out", path)
        demo.fill_self_assessment(path, institutions[j], plan, rng)
        submit("self-assessment", path, j)
    missing = sorted(u for j in handing_in for u in (i["uscc"] for i in institutions[j])
                     if plan[u]["no_self_assessment"])
    if missing:
        excused = next(i for rows in institutions.values() for i in rows
                       if i["uscc"] == missing[0])
        op.run("excuse", missing[0], "--reason", "疫情封控期间无法开展自查，已提交说明",
               operator=demo.operator_for(excused["jurisdiction"]))

    log("campaign: score sheets, findings")
    op.run("clock", "set", "2023-09-20")
    for j in handing_in:
        path = os.path.join(forms, f"score-sheet-{j}.xlsx")
        op.run("template", "score-sheet", "--jurisdiction", j, "--out", path)
        demo.fill_score_sheet(path, plan, rng)
        submit("score-sheet", path, j)
    for j, usccs in demo.findings_targets(institutions, plan).items():
        if j not in handing_in:
            continue
        path = os.path.join(forms, f"findings-{j}.xlsx")
        op.run("template", "findings", "--jurisdiction", j, "--out", path)
        demo.fill_findings(path, usccs)
        submit("findings", path, j)

    on_phase("scored")
    log("campaign: 2023-10-31, every case decided")
    op.settle()
    op.run("clock", "set", "2023-10-31")
    wait_until(op, lambda: len(op.run("decided", json_out=True)) >= total, "every decision")

    log("campaign: rectifications and re-scores")
    op.settle()
    rectifying = [c for c in op.run("decided", json_out=True) if c["class"] == "rectify"]
    rectified = sorted(rectifying, key=lambda c: c["uscc"])[::2]
    op.run("clock", "set", "2023-11-10")
    for j in handing_in:
        mine = [c["uscc"] for c in rectified if c["jurisdiction"] == j]
        if not mine:
            continue
        rect = os.path.join(forms, f"rectification-{j}.xlsx")
        op.run("template", "rectification", "--jurisdiction", j, "--out", rect)
        demo.keep_rows(rect, mine, {"整改情况": "已完成整改并提交整改报告及佐证材料",
                                    "提交日期": datetime.date(2023, 11, 8)})
        submit("rectification", rect, j)
        rescore = os.path.join(forms, f"rescore-{j}.xlsx")
        op.run("template", "score-sheet", "--jurisdiction", j, "--out", rescore)
        demo.keep_rows(rescore, mine, {**{a.short_name: float(a.points) * 0.9
                                          for a in DEFAULT_RUBRIC.areas},
                                       "评估人": "复评组", "评估日期": datetime.date(2023, 11, 10)})
        submit("score-sheet", rescore, j)

    log("campaign: 2024-01-01, the others' two months have passed")
    op.settle()
    op.run("clock", "set", "2024-01-01")
    wait_until(op, lambda: not [c for c in op.run("decided", json_out=True)
                                if c["class"] == "rectify"], "every rectification closed")
    return op


def wait_until(op, predicate, what, timeout=600):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise CommandFailed(f"timed out waiting for {what}")
        time.sleep(1)
