"""The jurisdiction's cases, and one case: its history, the verdict's explanation and its
state on a chosen date (三、属地管理: another city's case is 404)."""
from flask import Blueprint, abort, render_template, request

from services.desk import status as status_module
from services.desk.app import call, may_see, own_jurisdiction

blueprint = Blueprint("cases", __name__)
SERVICES = ("registry", "evaluation", "decisions", "notices")


def jurisdiction_rows(jurisdiction):
    return status_module.merge(call("registry", "institutions", jurisdiction, None, True),
                               call("evaluation", "case_files", jurisdiction),
                               call("decisions", "cases", jurisdiction))


@blueprint.get("/cases")
def listing():
    jurisdiction = own_jurisdiction(request.args.get("jurisdiction"))
    rows = jurisdiction_rows(jurisdiction)
    args = request.args
    shown = status_module.select(rows, cohort=args.get("cohort"), status=args.get("status"),
                                 deadline_by=status_module.parse_date(args.get("deadline")),
                                 query=args.get("q"))
    return render_template("cases.html", jurisdiction=jurisdiction, rows=shown,
                           total=len(rows), statuses=status_module.STATUSES,
                           cohorts=sorted({r["cohort"] for r in rows}), args=args)


@blueprint.get("/cases/<uscc>")
def case(uscc):
    filing = call("registry", "case", uscc)
    if filing is None or not may_see(filing["jurisdiction"]):
        abort(404)
    as_of = status_module.parse_date(request.args.get("as_of"))
    day = as_of.isoformat() if as_of else None
    then = call("registry", "case", uscc, day) if day else filing
    evaluation = call("evaluation", "case", uscc, day) or {}
    decision = call("decisions", "case", uscc, day) or {}
    explanation = call("decisions", "explain", uscc) or {"verdicts": []}
    history = sorted((e for service in SERVICES for e in call(service, "history", uscc)),
                     key=lambda e: (e["recorded_at"], e["service"], e["version"]))
    state = status_module.status_of(decision, {"scored": bool(evaluation.get("scores")),
                                               "self_assessed": bool(
                                                   evaluation.get("self_assessment"))})
    return render_template("case.html", uscc=uscc, filing=filing, then=then, as_of=day,
                           evaluation=evaluation, decision=decision, state=state,
                           state_zh=status_module.STATUSES[state], explanation=explanation,
                           history=history)
