"""`pinggu`: the operator's command line, talking to the running services over RabbitMQ.

Exit codes (DESIGN.md §3): 0 success; 2 bad input or refused permission; 1 anything else.
"""
import argparse
import json
import os
import re
import sys
import time
import uuid

from shared import config as config_module, operators, tokens, upload
from shared.errors import BadInput, Refused
from shared.language.outcomes import COHORTS

EXIT_OK, EXIT_ERROR, EXIT_INPUT = 0, 1, 2
CALLER_ERRORS = ("BadInput", "Refused")
SERVICES = ("registry", "evaluation", "decisions", "notices")


class Cluster:
    """One RPC client for this command (the CLI is single-threaded), connected on first
    use so that local commands need no broker.

    Each call carries a token signed with the operator's own credential (shared.tokens),
    bound to the service, the method, its arguments and the command id; one command id
    per invocation (`--command-id`), or a fresh one per call when none is given."""

    def __init__(self, config, operator_id, timeout=120, command_id=None):
        self.config = config
        self.operator_id = operator_id
        self.command_id = command_id
        self.timeout = timeout
        self._credential = None
        self._proxy = None
        self._rpc = None

    @property
    def credential(self):
        if self._credential is None:
            self._credential = operators.load_credential(self.config.credentials_dir,
                                                         self.operator_id)
        return self._credential

    def token(self, service, method, args=(), kwargs=None):
        c = self.credential
        return tokens.mint(c.private_key, kid=c.kid, subject=c.operator, role=c.role,
                           jurisdiction=c.jurisdiction, audience=service, method=method,
                           args_digest=tokens.digest(args, kwargs),
                           jti=self.command_id or str(uuid.uuid4()))

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
        token = self.token(service, method, args, kwargs)
        return getattr(getattr(self.rpc, service), method)(token, *args, **kwargs)


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
    from services.registry.sample import sample_province, write_rosters
    rows = sample_province(args.seed, args.institutions)
    _parent_of(args.out)
    # More rows than one import reads go in several files (out-1.xlsx, ...).
    files = write_rosters(rows, args.out)
    in_scope = sum(1 for r in rows if r.cohort in COHORTS)
    _print(args, {"out": args.out, "institutions": len(rows), "in_scope": in_scope,
                  "seed": args.seed, "files": files},
           lambda r: print(f"{', '.join(r['files'])}: {r['institutions']} institutions "
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


# A name the server may ask us to write under --out: plain relative segments, no dot
# segments, no absolute paths, no separators other than "/".
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _safe_relative(directory, relative):
    """The segments of a name the server sent, or BadInput if it is not a plain
    relative name (checked for every file before any is written)."""
    parts = relative.split("/") if isinstance(relative, str) else []
    if not parts or len(parts) > 4 or not all(_SAFE_SEGMENT.fullmatch(p) and ".." not in p
                                             for p in parts):
        raise BadInput(f"the server sent the file name {str(relative)[:80]!r}, which is "
                       "not a plain relative name: nothing was written", file=directory)
    return parts


def _write(directory, relative, content):
    """Write one file of a publication, atomically: a reader never sees half a file.
    Only inside `directory`: the names come from the server, which is not trusted to
    choose where the operator's files go."""
    import base64
    import tempfile
    root = os.path.realpath(directory)
    path = os.path.join(root, *_safe_relative(directory, relative))
    if os.path.commonpath([root, os.path.realpath(path)]) != root:  # a symlink inside
        raise BadInput(f"{relative} would be written outside {directory} (a symbolic "
                       "link): nothing was written for it", file=directory)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64decode(content) if isinstance(content, str) else content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def cmd_publish(args, cluster):
    if args.what == "opinions":
        fields = {k: getattr(args, k) for k in ("number", "signer", "contact", "phone")
                  if getattr(args, k)}
        opinions = cluster.call("notices", "publish_opinions", args.jurisdiction,
                                fields or None)
        from services.notices import pdf  # the print-ready PDFs, rendered here
        for opinion, body in zip(opinions.values(),
                                 pdf.render_many(o["html"] for o in opinions.values())):
            opinion["pdf"] = body
        for jurisdiction in opinions:
            _safe_relative(args.out, f"opinion-{jurisdiction}.html")
        written = {}
        for jurisdiction, opinion in opinions.items():
            written[jurisdiction] = {
                "html": _write(args.out, f"opinion-{jurisdiction}.html",
                               opinion["html"].encode()),
                "pdf": _write(args.out, f"opinion-{jurisdiction}.pdf", opinion["pdf"]),
                "xlsx": _write(args.out, f"summary-{jurisdiction}.xlsx", opinion["xlsx"]),
                "lists": opinion["lists"]}
        _print(args, written, lambda w: [print(
            f"{j}: {v['html']}, {v['pdf']}, {v['xlsx']}  " + "; ".join(
                f"{cohort}: " + ", ".join(f"{label} {n}" for label, n in lists.items())
                for cohort, lists in v["lists"].items())) for j, v in w.items()])
        return
    result = None
    if not args.portal_only:
        result = cluster.call("notices", "publish_notice", args.title, args.kind, args.reason)
    files = cluster.call("notices", "portal_files")
    for path in files:
        _safe_relative(args.out, path)
    paths = [_write(args.out, path, content) for path, content in sorted(files.items())]
    paths += _notice_pdfs(args.out, files)
    report = {"notice": result, "files": paths}

    def human(r):
        if r["notice"]:
            n = r["notice"]
            print(f"published {n['number']}, {n.get('kind', 'results')} ({n['entries']} "
                  "institutions)"
                  + (f", correcting {n['corrects']['number']}" if n["corrects"] else "")
                  + (f"; {n['remaining']} more change(s) await another notice"
                     if n.get("remaining") else ""))
        print(f"{args.out}: {len(r['files'])} portal files")
    _print(args, report, human)


def _notice_pdfs(out, files):
    """Each notice's print-ready PDF beside its page, rendered here from the page (the
    services render none for the CLI, so no RPC waits on them). A notice never changes:
    a PDF already written is kept."""
    import base64
    from services.notices import pdf
    pages = {path[:-len(".html")] + ".pdf": path for path in sorted(files)
             if path.startswith("notices/") and path.endswith(".html")}
    missing = [p for p in pages if not os.path.exists(os.path.join(out, p))]
    bodies = pdf.render_many(base64.b64decode(files[pages[p]]).decode() for p in missing)
    for path, body in zip(missing, bodies):
        _write(out, path, body)
    return [os.path.join(out, p) for p in pages]


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


def cmd_clock_history(args, cluster):
    """Every move of the simulated clock: who moved it, from and to which date, when."""
    moves = cluster.call("decisions", "clock_history")
    _print(args, moves, lambda ms: [print(
        f"#{m['move']}  {m['moved_at'][:19]}  {m['by']:<20} {m['from']} → {m['to']}")
        for m in ms] or print("the clock was never moved"))


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
            command = f" [command {e['command_id']}]" if e.get("command_id") else ""
            print(f"{e['recorded_at'][:19]}  {e['business_date'] or '-':10}  "
                  f"{e['service']:<10} {e['type']:<32} {e['actor']:<12}{cause}{command}")
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
    import base64
    from shared import checkpoint
    notices = cluster.call("notices", "portal_files")
    for published in entry.get("published_in", []):
        for kind in ("html", "json"):
            key = f"notices/{published['notice_id']}.{kind}"
            if key in notices:
                contents[key] = base64.b64decode(notices[key])
    for name, body in notices.items():  # every signed checkpoint of the history
        if name.endswith(".checkpoint.json"):
            contents[name] = base64.b64decode(body)
    manifest = {"uscc": args.uscc, "algorithm": "SHA-256",
                "files": {name: hashlib.sha256(body).hexdigest()
                          for name, body in sorted(contents.items())}}
    signature = checkpoint.sign_manifest(cluster.config, manifest)
    _parent_of(args.out)
    tmp = args.out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in sorted(contents.items()):
            z.writestr(name, body)
        z.writestr("manifest.json", json.dumps(manifest, indent=2))
        z.writestr("manifest.sig.json", json.dumps(signature, indent=2))
        z.writestr("README.txt", "Check: sha256sum of each file equals manifest.json's entry;\n"
                   "manifest.sig.json is the notary's Ed25519 signature of manifest.json:\n"
                   "  pinggu checkpoint verify <this zip> --public-key notary.pub\n"
                   "checks both, and every checkpoint of the history in notices/.\n"
                   "The events' own (keyed) hash chains are in history.json (field hash).\n")
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
            step = cluster.call(service, "replay_step", start["run"])
            _progress(args, f"{service}: {step['position']}/{step['target']}")
            if step["applied"] == 0:
                break
        differences = cluster.call(service, "replay_finish", start["run"])
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
    # Read directly, as the read-only auditor: the signed checkpoints against the tables.
    from shared import checkpoint
    found, checkpoints = checkpoint.verify_stored(cluster.config)
    problems.extend(found)
    _progress(args, f"checkpoints: {checkpoints} checked")
    report = {"ok": not problems, "checked": checked, "checkpoints": checkpoints,
              "problems": problems}

    def human(r):
        for p in r["problems"]:
            print(f"TAMPERED {p['service']} case {p['case']} position {p['position']}: "
                  f"{p['problem']}")
        print(f"audit verify: {r['checked']} events, {r['checkpoints']} checkpoints, " +
              ("all chains and checkpoints intact" if r["ok"]
               else f"{len(r['problems'])} problem(s)"))
    _print(args, report, human)
    return EXIT_OK if report["ok"] else EXIT_ERROR


def _progress(args, message):
    """Progress goes to stderr, so --json output stays clean."""
    print(f"  {message}", file=sys.stderr, flush=True)


def cmd_case_explain(args, cluster):
    view = case_view(cluster, args.uscc)
    explanation = cluster.call("decisions", "explain", args.uscc) or {"verdicts": []}
    explanation["deadlines_fired"] = deadlines_fired(cluster, args.uscc)

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
        for fired in e["deadlines_fired"]:
            move = fired["clock_move"]
            print(f"\n期限届满 / deadline passed ({fired['deadline']}) on {fired['business_date']}"
                  + (f", when the clock was moved (#{move['move']} by {move['by']}, "
                     f"{move['from']} → {move['to']}, at {move['moved_at'][:19]})"
                     if move else " (wall clock)"))
        if e.get("reading_lines"):
            print("\n解读与评估设置 / readings of the notice and the campaign settings applied:")
            for line in e["reading_lines"]:
                print(f"    {line}")
        if e.get("self_assessment_missed"):
            print("\n六(二) 未按期自查自评 / no self-assessment by the milestone"
                  + ("（已接受说明 / excuse accepted）" if e.get("excused") else ""))
    _print(args, {**explanation, "case": view}, human)


def deadlines_fired(cluster, uscc):
    """The case's events caused by a deadline, each with the clock move in effect when it
    fired (None on the wall clock): a verdict the clock brought is named as such."""
    fired = [e for e in cluster.call("decisions", "history", uscc)
             if (e["caused_by"] or "").startswith("deadline:")]
    if not fired:
        return []
    moves = cluster.call("decisions", "clock_history")
    result = []
    for event in fired:
        before = [m for m in moves if m["moved_at"] <= event["recorded_at"]]
        move = before[-1] if before and before[-1]["to"] != "wall" else None
        result.append({"deadline": event["caused_by"].split(":", 1)[1], "type": event["type"],
                       "business_date": event["business_date"], "clock_move": move})
    return result


def cmd_checkpoint_verify(args, cluster):
    """Check published checkpoints (and case exports) with the notary's public key only."""
    from shared import checkpoint, config as config_module
    try:
        keys = [k for _, k in config_module.read_key_lines(args.public_key)]
    except config_module.ConfigError as exc:
        raise BadInput(str(exc))
    results = [checkpoint.verify_path(path, keys) for path in args.paths]
    results = [r for group in results for r in group]
    if not results:
        raise BadInput(f"no checkpoint in {', '.join(args.paths)}")
    _print(args, results, lambda rs: [print(
        f"{'ok    ' if r['ok'] else 'FAILED'} {r['file']}: {r['detail']}") for r in rs])
    return EXIT_OK if all(r["ok"] for r in results) else EXIT_ERROR


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
    up = all(v["ok"] for v in answers.values())
    if up and args.wait:
        # Up means able to check credentials too: every service has the directory.
        try:
            wait_directory(cluster, timeout=max(1.0, deadline - time.monotonic()))
        except RuntimeError as exc:
            answers["directory"] = {"ok": False, "error": str(exc)}
            up = False
    _print(args, answers, lambda a: [print(f"{s}: {'up' if v['ok'] else 'DOWN'}")
                                     for s, v in a.items()])
    return EXIT_OK if up else EXIT_ERROR


def wait_directory(cluster, timeout=60):
    """Return once every service has applied every event of the operators' directory:
    from then on each of them honours what the directory says (a revocation included)."""
    deadline = time.monotonic() + timeout
    while True:
        state = cluster.rpc.registry.directory_recorded()
        applied = {s: getattr(cluster.rpc, s).directory_applied() for s in SERVICES}
        behind = [s for s, n in applied.items() if n < state["recorded"]]
        if not behind and not state["provisioning"]:
            return applied
        if time.monotonic() > deadline:
            raise RuntimeError(f"the operators' directory has {state['recorded']} events; "
                               "not all applied by " + ", ".join(
                                   f"{s} ({applied[s]})" for s in behind))
        time.sleep(0.1)


# -- the operators' directory ---------------------------------------------------------
def _new_credential_file(args, config, operator_id):
    return args.out or operators.credential_path(config.credentials_dir, operator_id)


def cmd_operator_add(args, cluster):
    operators.check_entry(args.role, args.jurisdiction)
    path = _new_credential_file(args, cluster.config, args.id)
    key = tokens.new_private_key()
    # Written first, once: if the file exists nothing is sent; if the call fails the
    # unused key is removed again.
    try:
        public = operators.write_credential(path, args.id, args.role, args.jurisdiction, key)
    except FileExistsError:
        raise BadInput(f"{path}: a credential is already there; it is never overwritten")
    try:
        entry = cluster.call("registry", "operator_add", args.id, args.role,
                             args.jurisdiction, args.name, public)
    except BaseException:
        os.unlink(path)
        raise
    wait_directory(cluster)
    _print(args, {**entry, "credential": path}, lambda e: print(
        f"{e['id']} ({e['role']}, {e['jurisdiction']}) authorised with key {e['key']}; "
        f"private key in {e['credential']} (mode 0600): hand it to that person only"))


def cmd_operator_rotate(args, cluster):
    path = _new_credential_file(args, cluster.config, args.id)
    pending = f"{path}.new"
    listed = {e["id"]: e for e in cluster.call("registry", "operator_list")}
    if args.id not in listed:
        raise BadInput(f"no operator {args.id!r} in the directory")
    e = listed[args.id]
    key = tokens.new_private_key()
    try:
        public = operators.write_credential(pending, args.id, e["role"], e["jurisdiction"],
                                            key)
    except FileExistsError:
        raise BadInput(f"{pending}: left by an unfinished rotation; remove it first")
    try:
        entry = cluster.call("registry", "operator_rotate", args.id, public)
    except BaseException:
        os.unlink(pending)
        raise
    os.replace(pending, path)
    wait_directory(cluster)
    _print(args, {**entry, "credential": path}, lambda e: print(
        f"{e['id']}: new key {e['key']} in {e['credential']} (mode 0600); the old key "
        "no longer works"))


def cmd_operator_revoke(args, cluster):
    entry = cluster.call("registry", "operator_revoke", args.id, args.reason)
    wait_directory(cluster)
    _print(args, entry, lambda e: print(
        f"{e['id']} revoked by {e['revoked']['by']} at {e['revoked']['at']}; every service "
        "refuses their credential from now on"))


def cmd_operator_list(args, cluster):
    rows = cluster.call("registry", "operator_list", args.as_of)

    def human(rs):
        for r in rs:
            state = f"revoked {r['revoked']['at'][:10]} by {r['revoked']['by']}" \
                if r["revoked"] else f"key {r['key']}"
            print(f"{r['id']:<14}{r['role']:<10}{r['jurisdiction'] or '-':<8}"
                  f"authorised {r['authorised']['at'][:10]} by {r['authorised']['by']:<12}"
                  f"{state}  {r['name']}")
    _print(args, rows, human)


# -- parser --------------------------------------------------------------------------
def build_parser():
    parser = argparse.ArgumentParser(prog="pinggu", description=__doc__.splitlines()[0])
    parser.add_argument("--operator", default=os.environ.get("PINGGU_OPERATOR"),
                        help="which of your credentials (in $PINGGU_CREDENTIALS) to act "
                             "with (default: $PINGGU_OPERATOR)")
    parser.add_argument("--command-id", help="this command's idempotency key (default: a "
                        "new one): the same id again has no second effect")
    parser.add_argument("--json", action="store_true", help="print data as JSON")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(parent, name, func, help, needs_operator=True):
        p = parent.add_parser(name, help=help)
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        p.add_argument("--command-id", default=argparse.SUPPRESS)
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
    p.add_argument("--kind", choices=("results", "rectification", "correction"),
                   help="notice: which follow-up to publish when both are pending "
                        "(default: rectification results first)")
    p.add_argument("--reason", help="notice: a correction's reason, in words")
    p.add_argument("--number", help="opinions: the 发文字号, e.g. 并人社字〔2023〕88号")
    p.add_argument("--signer", help="opinions: the 签发人")
    p.add_argument("--contact", help="opinions: the 联系人")
    p.add_argument("--phone", help="opinions: the contact's telephone")
    p.add_argument("--portal-only", action="store_true",
                   help="notice: publish nothing new, write the portal's files")

    p = add(sub, "report", cmd_report, "import facts from other HR systems (xlsx)")
    p.add_argument("kind", choices=("legal-status", "activity"))
    p.add_argument("file")

    p = add(sub, "sample-province", cmd_sample_province,
            "write the sample province's roster (862 institutions)", needs_operator=False)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=2023)
    p.add_argument("--institutions", type=int, default=862,
                   help="how many, in the sample's proportions (issue 14)")

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
    add(clock, "history", cmd_clock_history, "every move of the simulated clock")

    checkpoints = sub.add_parser("checkpoint", help="signed checkpoints of the history"
                                 ).add_subparsers(dest="sub", required=True)
    p = add(checkpoints, "verify", cmd_checkpoint_verify, "check published checkpoints (or a "
            "case export) with the notary's public key only", needs_operator=False)
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a .checkpoint.json, a directory of them (the portal), or an export zip")
    p.add_argument("--public-key", required=True, help="the notary's public key file")

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
    add(audit, "verify", cmd_audit_verify, "check every event's keyed hash chain and every "
        "signed checkpoint")
    add(case, "explain", cmd_case_explain, "why the case stands where it does"
        ).add_argument("uscc")

    p = add(sub, "institutions", cmd_institutions, "list filed institutions")
    p.add_argument("--jurisdiction")
    p.add_argument("--cohort", type=int)
    p.add_argument("--in-scope", action="store_true")

    add(sub, "decided", cmd_decided, "list decided cases").add_argument("--jurisdiction")

    directory = sub.add_parser("operator", help="the operators' directory (province)"
                               ).add_subparsers(dest="sub", required=True)
    p = add(directory, "add", cmd_operator_add, "authorise an operator with a new key pair")
    p.add_argument("id")
    p.add_argument("--role", required=True, choices=operators.PERSON_ROLES)
    p.add_argument("--jurisdiction", help="140000 for province and center, a city's code")
    p.add_argument("--name", default="")
    p.add_argument("--out", help="the new private key's file (default: "
                   "$PINGGU_CREDENTIALS/ID.json); written once, mode 0600")
    p = add(directory, "rotate", cmd_operator_rotate, "give an operator a new key pair")
    p.add_argument("id")
    p.add_argument("--out", help="the new private key's file (default: "
                   "$PINGGU_CREDENTIALS/ID.json), mode 0600")
    p = add(directory, "revoke", cmd_operator_revoke, "revoke an operator, from the next call")
    p.add_argument("id")
    p.add_argument("--reason", required=True)
    add(directory, "list", cmd_operator_list, "every operator, with who authorised them"
        ).add_argument("--as-of", help="as the directory stood at the end of this date")

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
        with Cluster(config, operator, command_id=args.command_id or str(uuid.uuid4())) \
                as cluster:
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
