"""The demo campaign: the sample province of 862 institutions through the whole notice,
driven through the `pinggu` CLI against the four running services (`make demo`).

Each jurisdiction fills in its generated templates the way a bureau would: most
institutions self-assess and pass; some are below standard or fail, some never
self-assess (one of them excused), some report no activity or activity outside their
filing scope, some have findings. Then the opinions and the notice are published; after
two months of rectification, the rectification-results notice (整改复评结果通告) follows,
and a finding recorded in error is withdrawn and corrected by a correction (更正通告).

Issue 14 (`make demo`'s campaign in seconds): the demo runs every command in this one
process, keeping its RPC clients between commands (cli.Session); the jurisdictions hand
in their files at once, as twelve bureaus would (cli.desk.HAND_IN threads, each with its own RPC
clients), their output printed in the jurisdictions' order; the opinions and the notice
are published together; it waits by polling every POLL_SECONDS, and starts the PDF
renderers at once so they are warm when it publishes. It ends with the seconds each step
took. The forms are filled in the jurisdictions' order whatever the threads do: they
draw on one seeded random sequence, so the campaign and its outcomes are the same.
"""
import datetime
import json
import os
import random
import sys
import time

from services import cli
from services.evaluation.forms import filler
from services.evaluation.rubric import DEFAULT_RUBRIC
from services.cli.desk import Desk, captured, step, step_times, threads_output
from services.notices import pdf
from shared import clock, machine
from shared.language.jurisdictions import JURISDICTIONS, PROVINCE

OUT = os.environ.get("PINGGU_DEMO_DIR", os.path.join("var", "demo"))
SEED = 2023


def operator_for(jurisdiction):
    return "center" if jurisdiction == PROVINCE else f"city-{jurisdiction}"


_session = cli.Session()  # the RPC clients kept between commands


def pinggu(*args, operator="province", json_out=False):
    """Run one CLI command in this process; exit on failure, as an operator would stop."""
    argv = ["--operator", operator] + (["--json"] if json_out else []) + list(args)
    if json_out:
        with captured() as buffer:
            code = cli.main(argv, session=_session)
        if code != 0:
            sys.exit(f"demo: pinggu {' '.join(args)} failed with exit {code}")
        return json.loads(buffer.getvalue())
    code = cli.main(argv, session=_session)
    if code != 0:
        sys.exit(f"demo: pinggu {' '.join(args)} failed with exit {code}")


def fill_self_assessment(path, institutions, plan, rng):
    scope_of = {i["uscc"]: i["scope"] for i in institutions}
    activity = []

    def typed(uscc):
        scope = scope_of[uscc][0]
        years = [] if plan[uscc]["inactive"] else [2021, 2022]
        for year in years:
            assessed = rng.randint(20, 300)
            passed = rng.randint(assessed // 2, assessed)
            activity.append({"统一社会信用代码": uscc, "年度": year,
                             "职业编码": scope["occupation"], "等级": scope["levels"][-1],
                             "参评人数": assessed, "合格人数": passed, "发证数": passed})
        if plan[uscc]["out_of_scope"]:
            activity.append({"统一社会信用代码": uscc, "年度": 2022, "职业编码": "4-14-01-01",
                             "等级": 3, "参评人数": 30, "合格人数": 28, "发证数": 28})
        return {"考评人员数": rng.randint(4, 30), "内部质量督导人员数": rng.randint(1, 6),
                "专家数": rng.randint(2, 12), "自评得分": rng.randint(70, 98)}

    keep = [u for u in scope_of if not plan[u]["no_self_assessment"]]
    # Sheets are filled in order: `activity` is complete by the time the second sheet's
    # rows are added.
    filler.fill(path, {"机构情况": filler.Rows(values=typed, keep=keep),
                       "认定开展情况": filler.Rows(append=activity)})


def fill_score_sheet(path, plan, rng):
    def typed(uscc):
        share = plan[uscc]["score_share"]
        values = {area.short_name: round(float(area.points) * min(1.0, max(
            0.0, share + rng.uniform(-0.04, 0.04))), 1) for area in DEFAULT_RUBRIC.areas}
        return {**values, "评估人": "评估组" + str(rng.randint(1, 5)),
                "评估日期": datetime.date(2023, 9, rng.randint(5, 25))}
    filler.fill(path, {None: filler.Rows(values=typed)})


def findings_targets(institutions, plan):
    """The few institutions the demo gives findings, by jurisdiction."""
    flagged = sorted(plan)[::97][:5]
    by_jurisdiction = {}
    for rows in institutions.values():
        for i in rows:
            if i["uscc"] in flagged:
                by_jurisdiction.setdefault(i["jurisdiction"], []).append(i["uscc"])
    return by_jurisdiction


def fill_findings(path, usccs):
    """Keep the template's header only; one finding per institution, alternately a
    terminate clause (organised cheating) and a rectify clause (audit not rectified)."""
    rows = []
    for n, uscc in enumerate(usccs):
        clause, evidence = (("四(一)5", "2023年6月考场监控显示有组织传递答案，考生笔录3份")
                            if n % 2 == 0 else ("四(二)1", "2022年审计指出的档案问题至今未整改"))
        rows.append({"统一社会信用代码": uscc, "条款": clause, "事实与证据": evidence})
    filler.fill(path, {None: filler.Rows(keep=(), append=rows)})


def plan_for(usccs, rng):
    """What happens to each institution in the demo."""
    plan = {}
    for uscc in usccs:
        r = rng.random()
        plan[uscc] = {
            "no_self_assessment": r < 0.02,
            "inactive": 0.02 <= r < 0.04,
            "out_of_scope": 0.04 <= r < 0.05,
            "score_share": rng.choice([0.9] * 16 + [0.72] * 3 + [0.5]),
        }
    return plan


def main():
    with threads_output(), _session:
        campaign()


def move_clock(date):
    """`pinggu clock set DATE`, then the moment every service takes to see it (each caches
    the date for clock.CACHE_SECONDS): what the demo does next is dated DATE. Without
    the wait a form handed in at once was recorded on the day before the move."""
    pinggu("clock", "set", date)
    time.sleep(clock.CACHE_SECONDS)


def filled(fill, *args):
    """A template command, then `fill`: their output as text (the fill draws on the
    demo's random sequence, so it runs in the caller's thread, in order)."""
    with captured() as buffer:
        pinggu(*args)
    fill()
    return buffer.getvalue()


def campaign():
    rng = random.Random(SEED)
    os.makedirs(OUT, exist_ok=True)
    started, cpu_started = time.monotonic(), machine.busy_cpu_seconds()
    # The PDF renderers start now and are warm by the first publication; every publish
    # command of this process reuses them (issue 14).
    pdf.start()
    step("the four services answer")
    pinggu("health", "--wait", "60")

    step("2023-08-28: the notice is issued; the campaign opens")
    move_clock("2023-08-28")
    pinggu("campaign", "open")
    roster = os.path.join(OUT, "province.xlsx")
    pinggu("sample-province", "--out", roster, "--seed", str(SEED))
    pinggu("roster", "import", roster)
    forms_dir = os.path.join(OUT, "forms")
    with Desk() as desk:
        # Evaluation opens the case files from the registry's events meanwhile: the
        # templates need the registry's filings and the campaign only; the files wait.
        caught_up = desk.run(pinggu, "settle")
        institutions = {j: [] for j in JURISDICTIONS}
        for i in pinggu("institutions", "--in-scope", json_out=True):
            institutions[i["jurisdiction"]].append(i)
        plan = plan_for(sorted(i["uscc"] for rows in institutions.values() for i in rows),
                        rng)
        total = sum(len(rows) for rows in institutions.values())
        step(f"{total} institutions in scope across {len(JURISDICTIONS)} jurisdictions")

        step("each jurisdiction hands in the self-assessments (附件1) by 2023-08-31")
        for j in JURISDICTIONS:
            path = os.path.join(forms_dir, f"self-assessment-{j}.xlsx")
            made = filled(lambda: fill_self_assessment(path, institutions[j], plan, rng),
                          "template", "self-assessment", "--jurisdiction", j, "--out", path)
            desk.run(pinggu, "submit", "self-assessment", path, operator=operator_for(j),
                     before=made, after=caught_up)
    missing = sorted(u for u, p in plan.items() if p["no_self_assessment"])
    if missing:
        excused = next(i for rows in institutions.values() for i in rows
                       if i["uscc"] == missing[0])
        step(f"{excused['jurisdiction']} accepts the excuse of {missing[0]}")
        pinggu("excuse", missing[0], "--reason", "疫情封控期间无法开展自查，已提交说明",
               operator=operator_for(excused["jurisdiction"]))

    step("2023-09-20: each jurisdiction scores its institutions (附件2)")
    with Desk() as desk:
        # The score sheets are made while the clock waits for the flow to settle; they
        # are handed in on the new date.
        moved = desk.run(move_clock, "2023-09-20")
        for j in JURISDICTIONS:
            path = os.path.join(forms_dir, f"score-sheet-{j}.xlsx")
            made = filled(lambda: fill_score_sheet(path, plan, rng),
                          "template", "score-sheet", "--jurisdiction", j, "--out", path)
            desk.run(pinggu, "submit", "score-sheet", path, operator=operator_for(j),
                     before=made, after=moved)

    step("findings with evidence: organised cheating, unrectified audit findings")
    targets = findings_targets(institutions, plan)
    with Desk() as desk:
        for j, usccs in targets.items():
            desk.run(hand_in_findings, os.path.join(forms_dir, f"findings-{j}.xlsx"), j, usccs)

    step("2023-10-31: every case is decided")
    move_clock("2023-10-31")
    wait_until_decided(total)
    pinggu("campaign", "status")

    # Both at once: an opinion reads the verdicts, as the notice does, and records nothing
    # the notice reads; the notice's queries run while the opinions' PDFs render.
    step("the evaluation opinions of the 12 jurisdictions (评估意见, 附件3) and the province's "
         "notice (通告), published to the portal")
    portal = os.path.join(OUT, "portal")
    with Desk() as desk:
        desk.run(pinggu, "publish", "opinions", "--out", os.path.join(OUT, "opinions"))
        desk.run(pinggu, "publish", "notice", "--out", portal)

    step("rectification: half of those given two months rectify and are re-scored in time")
    rectifying = [c for c in pinggu("decided", json_out=True) if c["class"] == "rectify"]
    rectified = rectifying[::2]
    move_clock("2023-11-10")
    with Desk() as desk:
        for j in JURISDICTIONS:
            mine = [c["uscc"] for c in rectified if c["jurisdiction"] == j]
            if mine:
                desk.run(hand_in_rectification, forms_dir, j, mine)

    step("2024-01-01: the others' two months have passed")
    move_clock("2024-01-01")
    wait_until(lambda: not [c for c in pinggu("decided", json_out=True)
                            if c["class"] == "rectify"], "every rectification to be closed")
    step("the rectification-results notice (整改复评结果通告): each outcome with its reason")
    pinggu("publish", "notice", "--out", portal)

    wrong = recorded_in_error(targets)
    if wrong:
        uscc, jurisdiction = wrong
        step(f"2024-01-05: {jurisdiction} finds its 四(一)5 finding on {uscc} was recorded in "
             "error and withdraws it")
        move_clock("2024-01-05")
        pinggu("finding", "withdraw", uscc, "四(一)5", "--reason",
               "误录：经复核，考场监控所涉系另一机构", operator=operator_for(jurisdiction))
        wait_until(lambda: pinggu("case", "show", uscc, json_out=True)["outcome"] != "终止备案",
                   f"{uscc}'s verdict to be revised")
        step("the correction notice (更正通告): original → corrected, and why")
        pinggu("publish", "notice", "--out", portal)

    outcomes = {}
    for case in pinggu("decided", json_out=True):
        key = f"{case['cohort']} {case['outcome']}"
        outcomes[key] = outcomes.get(key, 0) + 1
    ended, cpu_ended = time.monotonic(), machine.busy_cpu_seconds()
    took = step_times(ended)
    # The CPU beside the seconds: the campaign cannot take less than its CPU over the cores.
    cpu = "" if cpu_started is None else \
        f" (the machine's CPU: {cpu_ended - cpu_started:.0f} s over {os.cpu_count()} cores)"
    step(f"done in {ended - started:.0f} s{cpu}. Outcomes:")
    for key in sorted(outcomes):
        print(f"  {key}: {outcomes[key]}")
    print("Seconds per step, longest first:")
    for seconds, message in took:
        print(f"  {seconds:5.1f}  {message}")
    print(f"Opinions: {os.path.join(OUT, 'opinions')}/  Portal files: {portal}/\n"
          f"The portal is served at http://127.0.0.1:8023/index.html until `make down`.")


def hand_in_findings(path, jurisdiction, usccs):
    pinggu("template", "findings", "--jurisdiction", jurisdiction, "--out", path)
    fill_findings(path, usccs)
    pinggu("submit", "findings", path, operator=operator_for(jurisdiction))


def hand_in_rectification(forms_dir, jurisdiction, mine):
    """One jurisdiction's rectification reports, then its re-scores of the same cases: in
    that order, as decisions expects them."""
    rect = os.path.join(forms_dir, f"rectification-{jurisdiction}.xlsx")
    pinggu("template", "rectification", "--jurisdiction", jurisdiction, "--out", rect)
    keep_rows(rect, mine, {"整改情况": "已完成整改并提交整改报告及佐证材料",
                           "提交日期": datetime.date(2023, 11, 8)})
    pinggu("submit", "rectification", rect, operator=operator_for(jurisdiction))
    rescore = os.path.join(forms_dir, f"rescore-{jurisdiction}.xlsx")
    pinggu("template", "re-score", "--jurisdiction", jurisdiction, "--out", rescore)
    keep_rows(rescore, mine, {**{a.short_name: float(a.points) * 0.9
                                 for a in DEFAULT_RUBRIC.areas},
                              "评估人": "复评组", "评估日期": datetime.date(2023, 11, 10)})
    pinggu("submit", "re-score", rescore, operator=operator_for(jurisdiction))


def recorded_in_error(targets):
    """(uscc, jurisdiction) of one institution terminated by its 四(一)5 finding alone,
    for the demo's deliberate correction, or None."""
    for jurisdiction, usccs in sorted(targets.items()):
        for uscc in usccs:
            case = pinggu("case", "show", uscc, json_out=True)
            if case["clauses"] == ["四(一)5"]:
                return uscc, jurisdiction
    return None


def keep_rows(path, usccs, values):
    """Keep only these institutions' rows of a template, and fill in `values`."""
    filler.fill(path, {None: filler.Rows(values=lambda uscc: values, keep=usccs)})


# How often the demo asks whether what it waits for has happened: each question is one
# cheap RPC, and a second between them was most of the wait (issue 14).
POLL_SECONDS = 0.1


def wait_until(predicate, what, timeout=300):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            sys.exit(f"demo: timed out waiting for {what}")
        time.sleep(POLL_SECONDS)


def wait_until_decided(total):
    last = None

    def decided():
        nonlocal last
        count = len(pinggu("decided", json_out=True))
        if count != last:  # the progress, not every poll
            last = count
            print(f"  {count}/{total} decided", flush=True)
        return count >= total
    wait_until(decided, "every case to be decided")


if __name__ == "__main__":
    main()
