"""The forms of the notice (附件1, 附件2, findings, rectification): blank templates for a
jurisdiction, and filled-in ones submitted. A submitted file is refused as a whole with
every error it has (issue 15); render.bad_input_lines shows them all."""
from shared import upload
from services.cli.files import parent_of
from services.cli.messages import bad_input
from services.cli.render import emit
from services.cli.roster import jurisdiction_option

# What a clerk submits, and the evaluation service's command for it. A re-score is a
# score sheet of the institutions under rectification.
SUBMIT = {"self-assessment": "submit_self_assessment", "score-sheet": "submit_score_sheet",
          "findings": "submit_findings", "rectification": "submit_rectification",
          "re-score": "submit_score_sheet"}
# The templates that list only the jurisdiction's cases under rectification, and the form
# each is.
RECTIFYING_ONLY = {"rectification": "rectification", "re-score": "score-sheet"}
TEMPLATES = tuple(SUBMIT)


def template_institutions(cluster, kind, jurisdiction):
    """The institutions a template of `kind` lists: those in scope in the jurisdiction;
    for a rectification or re-score, only those of them under rectification."""
    institutions = cluster.call("registry", "institutions", jurisdiction, None, True)
    if not institutions:
        raise bad_input("no_institutions", jurisdiction=jurisdiction)
    if kind in RECTIFYING_ONLY:
        rectifying = set(cluster.call("decisions", "under_rectification", jurisdiction))
        institutions = [i for i in institutions if i["uscc"] in rectifying]
        if not institutions:
            raise bad_input("none_rectifying", jurisdiction=jurisdiction, kind=kind)
    return institutions


def cmd_template(args, cluster):
    from services.evaluation import forms
    from services.evaluation.rubric import Rubric
    institutions = template_institutions(cluster, args.kind, args.jurisdiction)
    rubric = Rubric.from_dict(cluster.call("evaluation", "campaign")["rubric"])
    files = forms.write_templates(RECTIFYING_ONLY.get(args.kind, args.kind),
                                  parent_of(args.out), institutions, rubric=rubric)
    emit(args, {"out": args.out, "kind": args.kind, "jurisdiction": args.jurisdiction,
                "institutions": len(institutions), "files": files},
         lambda r: print(f"{', '.join(r['files'])}: {r['kind']} for {r['institutions']} "
                         f"institutions of {r['jurisdiction']}"
                         + (f", in {len(r['files'])} files to hand in one by one"
                            if len(r["files"]) > 1 else "")))


def cmd_submit(args, cluster):
    result = cluster.call("evaluation", SUBMIT[args.kind], upload.encode(args.file))

    def human(r):
        print(f"{args.file}: " + ", ".join(f"{v} {k}" for k, v in r.items()
                                           if not isinstance(v, list)))
        for flag in r.get("flagged", []):
            print(f"  flagged {flag['uscc']}: activity outside the filing scope: " + "; ".join(
                f"{a['year']} {a['occupation']} level {a['level']}" for a in flag["out_of_scope"]))
    emit(args, result, human)


def register(commands):
    p = commands.command("template", cmd_template, "write a blank form for one jurisdiction "
                         "(rectification and re-score: only its cases under rectification)")
    p.add_argument("kind", choices=TEMPLATES)
    jurisdiction_option(p, required=True)
    p.add_argument("--out", required=True, metavar="FILE")

    p = commands.command("submit", cmd_submit, "submit a filled-in form (xlsx); a file with "
                         "errors is refused whole, with every error listed")
    p.add_argument("kind", choices=TEMPLATES)
    p.add_argument("file")
    p.set_defaults(file_command=True)
