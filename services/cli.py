"""`pinggu`: the operator's command line, talking to the running services over RabbitMQ.

Exit codes (DESIGN.md §3): 0 success; 2 bad input or refused permission; 1 anything else.
"""
import argparse
import json
import os
import sys
import time

from shared import config as config_module, operators, upload
from shared.errors import BadInput, Refused

EXIT_OK, EXIT_ERROR, EXIT_INPUT = 0, 1, 2
CALLER_ERRORS = ("BadInput", "Refused")
SERVICES = ("registry", "evaluation", "decisions", "notices")


class Cluster:
    """One RPC client for this command (the CLI is single-threaded), connected on first
    use so that local commands need no broker."""

    def __init__(self, config, operator_id, timeout=120):
        self.config = config
        self.identity = operators.sign(operator_id, config.operator_secret)
        self.timeout = timeout
        self._proxy = None
        self._rpc = None

    @property
    def rpc(self):
        if self._rpc is None:
            from nameko.standalone.rpc import ClusterRpcProxy
            self._proxy = ClusterRpcProxy(self.config.nameko, timeout=self.timeout)
            self._rpc = self._proxy.start()
        return self._rpc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._proxy is not None:
            self._proxy.stop()

    def call(self, service, method, *args, **kwargs):
        return getattr(getattr(self.rpc, service), method)(self.identity, *args, **kwargs)


def _print(args, data, human):
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        human(data)


def _kv(data):
    for key, value in data.items():
        print(f"{key}: {value}")


# -- commands ------------------------------------------------------------------------
def cmd_roster_import(args, cluster):
    result = cluster.call("registry", "import_roster", upload.encode(args.file))
    _print(args, result, lambda r: print(
        f"{args.file}: {r['filed']} filed, {r['changed']} changed, {r['unchanged']} unchanged"))


def _parent_of(path):
    """Create the directory an output file goes in, as an operator would expect."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return path


def cmd_sample_province(args, cluster):
    from services.registry.sample import sample_province, write_roster
    rows = sample_province(args.seed)
    _parent_of(args.out)
    write_roster(rows, args.out)
    in_scope = sum(1 for r in rows if r.cohort in (2020, 2021))
    _print(args, {"out": args.out, "institutions": len(rows), "in_scope": in_scope,
                  "seed": args.seed},
           lambda r: print(f"{r['out']}: {r['institutions']} institutions "
                           f"({r['in_scope']} in scope), seed {r['seed']}"))


def cmd_template(args, cluster):
    from services.evaluation import forms
    if args.kind not in forms.KINDS:
        raise BadInput(f"unknown form {args.kind!r}; one of {', '.join(forms.KINDS)}")
    institutions = cluster.call("registry", "institutions", args.jurisdiction, None, True)
    if not institutions:
        raise BadInput(f"no institution in scope in jurisdiction {args.jurisdiction}")
    from services.evaluation.rubric import Rubric
    rubric = Rubric.from_dict(cluster.call("evaluation", "campaign")["rubric"])
    forms.write_template(args.kind, _parent_of(args.out), institutions, rubric=rubric)
    _print(args, {"out": args.out, "kind": args.kind, "jurisdiction": args.jurisdiction,
                  "institutions": len(institutions)},
           lambda r: print(f"{r['out']}: {r['kind']} for {r['institutions']} institutions "
                           f"of {r['jurisdiction']}"))


SUBMIT = {"self-assessment": "submit_self_assessment", "score-sheet": "submit_score_sheet",
          "findings": "submit_findings", "rectification": "submit_rectification"}


def cmd_submit(args, cluster):
    if args.kind not in SUBMIT:
        raise BadInput(f"unknown form {args.kind!r}; one of {', '.join(SUBMIT)}")
    result = cluster.call("evaluation", SUBMIT[args.kind], upload.encode(args.file))

    def human(r):
        print(f"{args.file}: " + ", ".join(f"{v} {k}" for k, v in r.items()
                                           if not isinstance(v, list)))
        for flag in r.get("flagged", []):
            print(f"  flagged {flag['uscc']}: activity outside the filing scope: " + "; ".join(
                f"{a['year']} {a['occupation']} level {a['level']}" for a in flag["out_of_scope"]))
    _print(args, result, human)


def cmd_campaign_open(args, cluster):
    from services.evaluation import campaign
    spec = campaign.load(args.file) if args.file else None
    result = cluster.call("evaluation", "open_campaign", spec)
    _print(args, result, lambda r: print(
        f"{'opened' if r['opened'] else 'already open'}: {r['notice']} {r['title']}; "
        f"cohorts {r['cohorts']}; rubric {r['rubric_version']}; milestones " + ", ".join(
            f"{k} {v}" for k, v in r["milestones"].items())))


def cmd_campaign_status(args, cluster):
    def human(r):
        c = r["campaign"]
        nxt = r["next_milestone"]
        print(f"{c['notice']} as of {r['today']}: next milestone "
              f"{nxt['name'] + ' ' + nxt['due'] if nxt else 'none (all passed)'}")
        print(f"{'jurisdiction':<13}{'in scope':>9}{'self-assessed':>14}{'scored':>8}"
              f"{'missing SA':>11}{'missing score':>14}{'flagged':>8}")
        for j in r["jurisdictions"]:
            print(f"{j['jurisdiction']:<13}{j['in_scope']:>9}{j['self_assessed']:>14}"
                  f"{j['scored']:>8}{j['missing_self_assessment']:>11}"
                  f"{j['missing_score']:>14}{j['flagged']:>8}")
    _print(args, cluster.call("evaluation", "campaign_status"), human)


def cmd_excuse(args, cluster):
    _print(args, cluster.call("evaluation", "accept_excuse", args.uscc, args.reason), _kv)


def cmd_finding_withdraw(args, cluster):
    _print(args, cluster.call("evaluation", "withdraw_finding", args.uscc, args.clause,
                              args.reason), _kv)


def _write(directory, relative, content):
    """Write one file of a publication, atomically: a reader never sees half a file."""
    import base64
    import tempfile
    path = os.path.join(directory, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64decode(content) if isinstance(content, str) else content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def cmd_publish(args, cluster):
    if args.what == "opinions":
        opinions = cluster.call("notices", "publish_opinions", args.jurisdiction)
        written = {}
        for jurisdiction, opinion in opinions.items():
            written[jurisdiction] = {
                "html": _write(args.out, f"opinion-{jurisdiction}.html",
                               opinion["html"].encode()),
                "xlsx": _write(args.out, f"summary-{jurisdiction}.xlsx", opinion["xlsx"]),
                "lists": opinion["lists"]}
        _print(args, written, lambda w: [print(
            f"{j}: {v['html']}, {v['xlsx']}  " + "; ".join(
                f"{cohort}: " + ", ".join(f"{label} {n}" for label, n in lists.items())
                for cohort, lists in v["lists"].items())) for j, v in w.items()])
        return
    result = None
    if not args.portal_only:
        result = cluster.call("notices", "publish_notice", args.title)
    files = cluster.call("notices", "portal_files")
    paths = [_write(args.out, path, content) for path, content in sorted(files.items())]
    report = {"notice": result, "files": paths}

    def human(r):
        if r["notice"]:
            n = r["notice"]
            print(f"published {n['number']} ({n['entries']} institutions)"
                  + (f", correcting {n['corrects']['number']}" if n["corrects"] else ""))
        print(f"{args.out}: {len(r['files'])} portal files")
    _print(args, report, human)


def cmd_report(args, cluster):
    method = {"legal-status": "report_legal_status", "activity": "report_activity"}[args.kind]
    result = cluster.call("registry", method, upload.encode(args.file))
    _print(args, result, lambda r: print(f"{args.file}: {r['facts']} facts, "
                                         f"{r['recorded']} institutions changed"))


def settle(cluster, timeout=120):
    """Wait until every service has handled what it was sent and published what it
    recorded, twice in a row (an event in transit between two checks shows as work in the
    second). Moving the simulated date before that would fire deadlines ahead of facts
    still on their way, as no real day ever does."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        states = [getattr(cluster.rpc, s).settled() for s in SERVICES]
        busy = any(v for state in states for v in state.values())
        quiet = 0 if busy else quiet + 1
        if time.monotonic() > deadline:
            raise RuntimeError(f"the services did not settle within {timeout} s: {states}")
        if quiet < 2:
            time.sleep(0.1)


def cmd_settle(args, cluster):
    """For scripts: return once every service has handled what it was sent."""
    settle(cluster, timeout=args.timeout)
    _print(args, {"settled": True}, lambda r: print("every service has caught up"))


def cmd_clock_set(args, cluster):
    date = None if args.date == "wall" else args.date
    if not args.no_settle:
        settle(cluster)
    _print(args, cluster.call("decisions", "set_clock", date), _kv)


def cmd_clock_show(args, cluster):
    _print(args, cluster.call("decisions", "show_clock"), _kv)


def case_view(cluster, uscc, as_of=None):
    """The case as the four services see it, merged into one view; with `as_of`, as it
    stood at the end of that business date, rebuilt from the events."""
    filing = cluster.call("registry", "case", uscc, as_of)
    if filing is None:
        raise BadInput(f"no institution with USCC {uscc} is filed"
                       + (f" on {as_of}" if as_of else ""))
    evaluation = cluster.call("evaluation", "case", uscc, as_of) or {}
    decision = cluster.call("decisions", "case", uscc, as_of) or {}
    scores = evaluation.get("scores", [])
    if decision.get("outcome"):
        status = {"terminate": "terminated", "rectify": "rectifying",
                  "pass": "passed"}[decision["class"]]
        if decision["phase"] == "closed" and decision["class"] == "pass":
            status = "rectified"
    elif scores:
        status = "scored"
    else:
        status = "filed" if filing["in_scope"] else "out-of-scope"
    return {
        "uscc": uscc, "name": filing["name"], "cohort": filing["cohort"],
        "in_scope": filing["in_scope"], "jurisdiction": filing["jurisdiction"],
        "status": status, "outcome": decision.get("outcome"),
        "clauses": decision.get("clauses", []), "deadline": decision.get("deadline"),
        "decided_on": decision.get("decided_on"),
        "rulebook_version": decision.get("rulebook_version"),
        "score": scores[-1] if scores else None, "filing": filing,
        "extension": decision.get("extension"),
        "self_assessed": bool(evaluation.get("self_assessment")),
        "findings": evaluation.get("findings", []),
    }


def cmd_case_show(args, cluster):
    view = case_view(cluster, args.uscc, args.as_of)
    view["as_of"] = args.as_of
    _print(args, view, lambda v: _kv(
        {k: v[k] for k in ("uscc", "name", "cohort", "in_scope", "jurisdiction", "status",
                           "outcome", "clauses", "deadline", "as_of")}))


def case_history(cluster, uscc):
    """Every event of the case in every service, in the order they were recorded."""
    events = [e for service in SERVICES for e in cluster.call(service, "history", uscc)]
    if not events:
        raise BadInput(f"no case with USCC {uscc}")
    return sorted(events, key=lambda e: (e["recorded_at"], e["service"], e["version"]))


def cmd_case_history(args, cluster):
    events = case_history(cluster, args.uscc)

    def human(es):
        for e in es:
            cause = f" ← {e['caused_by']}" if e["caused_by"] else ""
            print(f"{e['recorded_at'][:19]}  {e['business_date'] or '-':10}  "
                  f"{e['service']:<10} {e['type']:<32} {e['actor']:<12}{cause}")
    _print(args, events, human)


def cmd_case_export(args, cluster):
    """The evidence package of a dispute: a zip whose manifest a third party can check."""
    import hashlib
    import zipfile
    view = case_view(cluster, args.uscc)
    events = case_history(cluster, args.uscc)
    explanation = cluster.call("decisions", "explain", args.uscc)
    entry = cluster.call("notices", "case", args.uscc) or {}
    files = {
        "case.json": view,
        "history.json": events,
        "submitted.json": [e for e in events if e["service"] == "evaluation"
                           and e["type"] in ("CaseFile.SelfAssessed", "CaseFile.Scored",
                                             "CaseFile.FindingRecorded",
                                             "CaseFile.FindingWithdrawn",
                                             "CaseFile.ExcuseAccepted",
                                             "CaseFile.RectificationSubmitted")],
        "explanation.json": explanation,
    }
    contents = {name: json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
                for name, data in files.items()}
    notices = cluster.call("notices", "portal_files")
    for published in entry.get("published_in", []):
        for kind in ("html", "json"):
            key = f"notices/{published['notice_id']}.{kind}"
            if key in notices:
                import base64
                contents[key] = base64.b64decode(notices[key])
    manifest = {"uscc": args.uscc, "algorithm": "SHA-256",
                "files": {name: hashlib.sha256(body).hexdigest()
                          for name, body in sorted(contents.items())}}
    _parent_of(args.out)
    tmp = args.out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in sorted(contents.items()):
            z.writestr(name, body)
        z.writestr("manifest.json", json.dumps(manifest, indent=2))
        z.writestr("README.txt", "Check: sha256sum of each file equals manifest.json's entry.\n"
                   "The events' own hash chains are in history.json (field hash).\n")
    os.replace(tmp, args.out)
    _print(args, {"out": args.out, **manifest}, lambda m: print(
        f"{m['out']}: {len(m['files'])} files with their SHA-256 in manifest.json"))


def cmd_replay_verify(args, cluster):
    """Rebuild every read table into scratch tables and compare; re-run every verdict."""
    report = {"tables": [], "verdicts": [], "ok": True}
    for service in SERVICES:
        start = cluster.call(service, "replay_start")
        _progress(args, f"{service}: rebuilding read tables from {start['target']} events")
        while True:
            step = cluster.call(service, "replay_step")
            _progress(args, f"{service}: {step['position']}/{step['target']}")
            if step["applied"] == 0:
                break
        differences = cluster.call(service, "replay_finish")
        report["tables"].extend(differences)
        _progress(args, f"{service}: " + ("read tables agree" if not differences else
                                          f"{len(differences)} table(s) differ"))
    start, checked = 1, 0
    while True:
        step = cluster.call("decisions", "recheck_step", start)
        report["verdicts"].extend(step["problems"])
        checked += step["checked"]
        start = step["next"]
        _progress(args, f"decisions: re-ran {checked} verdicts (position {start - 1}/"
                        f"{step['target']})")
        if step["done"]:
            break
    report["verdicts_checked"] = checked
    report["ok"] = not report["tables"] and not report["verdicts"]

    def human(r):
        for d in r["tables"]:
            print(f"DIFFERENT {d['table']}: {d['rows']} row(s) {d['side']}, e.g. "
                  f"{d['examples'][0]}")
        for v in r["verdicts"]:
            print(f"VERDICT {v['case']} at {v['position']}: {v['problem']}")
        print("replay verify: " + ("all agree" if r["ok"] else "DIFFERENCES FOUND")
              + f" ({r['verdicts_checked']} verdicts re-run)")
    _print(args, report, human)
    return EXIT_OK if report["ok"] else EXIT_ERROR


def cmd_audit_verify(args, cluster):
    """Check every service's hash chains: an event altered or deleted in the database."""
    problems, checked = [], 0
    for service in SERVICES:
        token = None
        while True:
            step = cluster.call(service, "audit_step", token)
            problems.extend(step["problems"])
            checked += step["checked"]
            token = step["token"]
            _progress(args, f"{service}: {checked} events checked")
            if step["done"]:
                break
    report = {"ok": not problems, "checked": checked, "problems": problems}

    def human(r):
        for p in r["problems"]:
            print(f"TAMPERED {p['service']} case {p['case']} position {p['position']}: "
                  f"{p['problem']}")
        print(f"audit verify: {r['checked']} events, " +
              ("all chains intact" if r["ok"] else f"{len(r['problems'])} problem(s)"))
    _print(args, report, human)
    return EXIT_OK if report["ok"] else EXIT_ERROR


def _progress(args, message):
    """Progress goes to stderr, so --json output stays clean."""
    print(f"  {message}", file=sys.stderr, flush=True)


def cmd_case_explain(args, cluster):
    view = case_view(cluster, args.uscc)
    explanation = cluster.call("decisions", "explain", args.uscc) or {"verdicts": []}

    def human(e):
        print(f"{view['uscc']} {view['name']}（{view['cohort']}年度备案, "
              f"jurisdiction {view['jurisdiction']}）")
        if not e["verdicts"]:
            print("尚无结论 / No verdict yet")
        for n, v in enumerate(e["verdicts"], start=1):
            revised = f"（修订 / revises: {v['revises']}）" if v["revises"] else ""
            print(f"\n[{n}] {v['decided_on']} {v['outcome']}{revised} — "
                  f"rulebook {v['rulebook_version']}")
            for line in v["lines"]:
                print(f"    {line}")
            print("    依据 / based on:")
            for name, value in sorted(v["inputs"].items()):
                print(f"      {name}: {json.dumps(value, ensure_ascii=False)}")
            if v["deadline"]:
                print(f"    整改期限 / rectify by: {v['deadline']}（两个月 / two calendar months）")
        if e.get("extension"):
            x = e["extension"]
            print(f"\n六(四) 备案到期后延续认定至 {x['until']} / filing expired {x['valid_until']}, "
                  f"certification may continue until {x['until']}"
                  + (f" — {x['ended']}" if x["ended"] else ""))
        if e.get("self_assessment_missed"):
            print("\n六(二) 未按期自查自评 / no self-assessment by the milestone"
                  + ("（已接受说明 / excuse accepted）" if e.get("excused") else ""))
    _print(args, {**explanation, "case": view}, human)


def cmd_institutions(args, cluster):
    rows = cluster.call("registry", "institutions", args.jurisdiction, args.cohort,
                        True if args.in_scope else None)
    _print(args, rows, lambda rs: [print(f"{r['uscc']}  {r['jurisdiction']}  {r['cohort']}  "
                                         f"{r['name']}") for r in rs])


def cmd_decided(args, cluster):
    rows = cluster.call("notices", "decided", args.jurisdiction)
    _print(args, rows, lambda rs: [print(f"{r['uscc']}  {r['outcome']}  {r['name']}")
                                   for r in rs])


def cmd_backup(args, cluster):
    from services import backup
    _print(args, backup.backup(cluster.config, args.out),
           lambda r: print(f"{r['file']}: backup of {r['database']}, {r['bytes']} bytes"))


def cmd_restore(args, cluster):
    from services import backup
    if not args.yes:
        raise BadInput("restore creates the database and republishes every event: "
                       "give --yes")
    _print(args, backup.restore(cluster.config, args.file),
           lambda r: print(f"{r['file']}: restored into {r['database']}; outboxes rewound: "
                           f"{', '.join(r['outboxes_rewound'])}"))


def cmd_health(args, cluster):
    """Every service answers; with --wait, keep asking until they do."""
    deadline = time.monotonic() + args.wait
    answers = {}
    for service in SERVICES:
        while True:
            try:
                answers[service] = getattr(cluster.rpc, service).health()
                break
            except Exception as exc:  # not up yet: UnknownService, timeout
                if time.monotonic() >= deadline:
                    answers[service] = {"service": service, "ok": False, "error": repr(exc)}
                    break
                time.sleep(0.5)
    _print(args, answers, lambda a: [print(f"{s}: {'up' if v['ok'] else 'DOWN'}")
                                     for s, v in a.items()])
    return EXIT_OK if all(v["ok"] for v in answers.values()) else EXIT_ERROR


# -- parser --------------------------------------------------------------------------
def build_parser():
    parser = argparse.ArgumentParser(prog="pinggu", description=__doc__.splitlines()[0])
    parser.add_argument("--operator", default=os.environ.get("PINGGU_OPERATOR"),
                        help="operator id (default: $PINGGU_OPERATOR)")
    parser.add_argument("--json", action="store_true", help="print data as JSON")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(parent, name, func, help, needs_operator=True):
        p = parent.add_parser(name, help=help)
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        p.set_defaults(func=func, needs_operator=needs_operator)
        return p

    roster = sub.add_parser("roster", help="the province's roster of filings").add_subparsers(
        dest="sub", required=True)
    add(roster, "import", cmd_roster_import, "import a roster xlsx").add_argument("file")

    campaign = sub.add_parser("campaign", help="the evaluation campaign").add_subparsers(
        dest="sub", required=True)
    add(campaign, "open", cmd_campaign_open, "open a campaign (default: the 2023 notice)"
        ).add_argument("file", nargs="?")
    add(campaign, "status", cmd_campaign_status, "progress per jurisdiction")

    p = add(sub, "excuse", cmd_excuse, "accept an institution's excuse for not self-assessing")
    p.add_argument("uscc")
    p.add_argument("--reason", required=True)

    finding = sub.add_parser("finding", help="findings").add_subparsers(dest="sub",
                                                                         required=True)
    p = add(finding, "withdraw", cmd_finding_withdraw, "withdraw a recorded finding")
    p.add_argument("uscc")
    p.add_argument("clause")
    p.add_argument("--reason", required=True)

    p = add(sub, "publish", cmd_publish, "publish the opinions or the province's notice")
    p.add_argument("what", choices=("opinions", "notice"))
    p.add_argument("--out", required=True, help="directory to write to")
    p.add_argument("--jurisdiction", help="opinions: only this jurisdiction")
    p.add_argument("--title", help="notice: its title (default: the 2023 notice's)")
    p.add_argument("--portal-only", action="store_true",
                   help="notice: publish nothing new, write the portal's files")

    p = add(sub, "report", cmd_report, "import facts from other HR systems (xlsx)")
    p.add_argument("kind", choices=("legal-status", "activity"))
    p.add_argument("file")

    p = add(sub, "sample-province", cmd_sample_province,
            "write the sample province's roster (862 institutions)", needs_operator=False)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=2023)

    p = add(sub, "template", cmd_template, "write a blank form for one jurisdiction")
    p.add_argument("kind")
    p.add_argument("--jurisdiction", required=True)
    p.add_argument("--out", required=True)

    p = add(sub, "submit", cmd_submit, "submit a filled-in form (xlsx)")
    p.add_argument("kind")
    p.add_argument("file")

    clock = sub.add_parser("clock", help="the business date").add_subparsers(
        dest="sub", required=True)
    p = add(clock, "set", cmd_clock_set, "set the simulated business date (or 'wall'), once "
            "every service has caught up with the current one")
    p.add_argument("date")
    p.add_argument("--no-settle", action="store_true",
                   help="do not wait for the services to catch up first")
    add(clock, "show", cmd_clock_show, "show the business date")

    case = sub.add_parser("case", help="one institution's case").add_subparsers(
        dest="sub", required=True)
    p = add(case, "show", cmd_case_show, "the case as it stands")
    p.add_argument("uscc")
    p.add_argument("--as-of", help="as it stood at the end of this business date")
    add(case, "history", cmd_case_history, "every event of the case, in order"
        ).add_argument("uscc")
    p = add(case, "export", cmd_case_export, "the evidence package of a dispute (zip)")
    p.add_argument("uscc")
    p.add_argument("--out", required=True)

    replay = sub.add_parser("replay", help="replay verification").add_subparsers(
        dest="sub", required=True)
    add(replay, "verify", cmd_replay_verify,
        "rebuild read tables from the events and re-run every verdict; exit 0 if all agree")
    audit = sub.add_parser("audit", help="tamper evidence").add_subparsers(
        dest="sub", required=True)
    add(audit, "verify", cmd_audit_verify, "check every event's hash chain")
    add(case, "explain", cmd_case_explain, "why the case stands where it does"
        ).add_argument("uscc")

    p = add(sub, "institutions", cmd_institutions, "list filed institutions")
    p.add_argument("--jurisdiction")
    p.add_argument("--cohort", type=int)
    p.add_argument("--in-scope", action="store_true")

    add(sub, "decided", cmd_decided, "list decided cases").add_argument("--jurisdiction")

    add(sub, "settle", cmd_settle, "wait until every service has caught up",
        needs_operator=False).add_argument("--timeout", type=float, default=120)

    add(sub, "backup", cmd_backup, "pg_dump the cluster's database (services may run)",
        needs_operator=False).add_argument("--out", required=True)
    p = add(sub, "restore", cmd_restore, "restore a backup into a new database (services "
            "stopped); every event is published again, consumers drop repeats",
            needs_operator=False)
    p.add_argument("file")
    p.add_argument("--yes", action="store_true")

    add(sub, "health", cmd_health, "check that every service answers",
        needs_operator=False).add_argument("--wait", type=float, default=0.0,
                                           help="seconds to keep trying")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    config = config_module.load()
    if args.needs_operator and not args.operator:
        print("pinggu: no operator given: use --operator ID or set PINGGU_OPERATOR",
              file=sys.stderr)
        return EXIT_INPUT
    operator = args.operator or "auditor"
    from nameko.exceptions import RemoteError
    try:
        with Cluster(config, operator) as cluster:
            code = args.func(args, cluster)
        return EXIT_OK if code is None else code
    except (BadInput, Refused) as exc:
        print(f"pinggu: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except RemoteError as exc:
        print(f"pinggu: {exc.value}", file=sys.stderr)
        return EXIT_INPUT if exc.exc_type in CALLER_ERRORS else EXIT_ERROR
    except FileNotFoundError as exc:
        print(f"pinggu: {exc.filename}: no such file", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # the operator gets one line; the trace is for developers
        print(f"pinggu: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("PINGGU_DEBUG"):
            raise
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
