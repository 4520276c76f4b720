"""One institution's case as the four services see it: where it stands (on any date),
its history, why it stands there, and the evidence package of a dispute."""
import base64
import hashlib
import json
import os
import zipfile

from services.cli.client import SERVICES
from services.cli.files import parent_of
from services.cli.messages import bad_input
from services.cli.render import emit, kv

# The evaluation events that are what an operator submitted (the export's submitted.json).
SUBMITTED = ("CaseFile.SelfAssessed", "CaseFile.Scored", "CaseFile.FindingRecorded",
             "CaseFile.FindingWithdrawn", "CaseFile.ExcuseAccepted",
             "CaseFile.RectificationSubmitted")
STATUS = {"terminate": "terminated", "rectify": "rectifying", "pass": "passed"}


def case_view(cluster, uscc, as_of=None):
    """The case as the four services see it, merged into one view; with `as_of`, as it
    stood at the end of that business date, rebuilt from the events."""
    filing = cluster.call("registry", "case", uscc, as_of)
    if filing is None:
        raise bad_input("not_filed_on", uscc=uscc, date=as_of) if as_of else \
            bad_input("not_filed", uscc=uscc)
    evaluation = cluster.call("evaluation", "case", uscc, as_of) or {}
    decision = cluster.call("decisions", "case", uscc, as_of) or {}
    scores = evaluation.get("scores", [])
    if decision.get("outcome"):
        status = STATUS[decision["class"]]
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
    emit(args, view, lambda v: kv(
        {k: v[k] for k in ("uscc", "name", "cohort", "in_scope", "jurisdiction", "status",
                           "outcome", "clauses", "deadline", "as_of")}))


def case_history(cluster, uscc):
    """Every event of the case in every service, in the order they were recorded."""
    events = [e for service in SERVICES for e in cluster.call(service, "history", uscc)]
    if not events:
        raise bad_input("no_case", uscc=uscc)
    return sorted(events, key=lambda e: (e["recorded_at"], e["service"], e["version"]))


def cmd_case_history(args, cluster):
    def human(es):
        for e in es:
            cause = f" ← {e['caused_by']}" if e["caused_by"] else ""
            command = f" [command {e['command_id']}]" if e.get("command_id") else ""
            print(f"{e['recorded_at'][:19]}  {e['business_date'] or '-':10}  "
                  f"{e['service']:<10} {e['type']:<32} {e['actor']:<12}{cause}{command}")
    emit(args, case_history(cluster, args.uscc), human)


def cmd_case_export(args, cluster):
    """The evidence package of a dispute: a zip whose manifest a third party can check."""
    from shared import checkpoint
    view = case_view(cluster, args.uscc)
    events = case_history(cluster, args.uscc)
    explanation = cluster.call("decisions", "explain", args.uscc)
    entry = cluster.call("notices", "case", args.uscc) or {}
    files = {
        "case.json": view,
        "history.json": events,
        "submitted.json": [e for e in events if e["service"] == "evaluation"
                           and e["type"] in SUBMITTED],
        "explanation.json": explanation,
    }
    contents = {name: json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
                for name, data in files.items()}
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
    parent_of(args.out)
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
    emit(args, {"out": args.out, **manifest}, lambda m: print(
        f"{m['out']}: {len(m['files'])} files with their SHA-256 in manifest.json"))


def cmd_case_explain(args, cluster):
    view = case_view(cluster, args.uscc)
    explanation = cluster.call("decisions", "explain", args.uscc) or {"verdicts": []}
    explanation["deadlines_fired"] = deadlines_fired(cluster, args.uscc)
    from services.cli.explain import print_explanation
    emit(args, {**explanation, "case": view}, lambda e: print_explanation(view, e))


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


def register(commands):
    case = commands.group("case", "one institution's case")
    p = case.command("show", cmd_case_show, "the case as it stands")
    p.add_argument("uscc")
    p.add_argument("--as-of", metavar="YYYY-MM-DD",
                   help="as it stood at the end of this business date")
    case.command("history", cmd_case_history, "every event of the case, in order"
                 ).add_argument("uscc")
    p = case.command("export", cmd_case_export, "the evidence package of a dispute (zip)")
    p.add_argument("uscc")
    p.add_argument("--out", required=True, metavar="FILE")
    case.command("explain", cmd_case_explain, "why the case stands where it does"
                 ).add_argument("uscc")
