"""The roster of filings: import it, write the sample province's, list the institutions,
and import the facts other HR systems report."""
from shared import upload
from shared.language.jurisdictions import CITIES, JURISDICTIONS
from shared.language.outcomes import COHORTS
from services.cli.files import parent_of
from services.cli.render import emit


def jurisdiction_option(parser, help="", required=False):
    """--jurisdiction CODE, its codes listed in --help and checked by the parser."""
    names = "; ".join(f"{code} {CITIES.get(code, '省本级')}" for code in JURISDICTIONS)
    parser.add_argument("--jurisdiction", required=required, choices=JURISDICTIONS,
                        metavar="CODE", help=f"{help}{': ' if help else ''}one of {names}")


def cmd_roster_import(args, cluster):
    result = cluster.call("registry", "import_roster", upload.encode(args.file))
    emit(args, result, lambda r: print(
        f"{args.file}: {r['filed']} filed, {r['changed']} changed, {r['unchanged']} unchanged"))


def cmd_sample_province(args, cluster):
    from services.registry.sample import sample_province, write_rosters
    rows = sample_province(args.seed, args.institutions)
    parent_of(args.out)
    # More rows than one import reads go in several files (out-1.xlsx, ...).
    files = write_rosters(rows, args.out)
    in_scope = sum(1 for r in rows if r.cohort in COHORTS)
    emit(args, {"out": args.out, "institutions": len(rows), "in_scope": in_scope,
                "seed": args.seed, "files": files},
         lambda r: print(f"{', '.join(r['files'])}: {r['institutions']} institutions "
                         f"({r['in_scope']} in scope), seed {r['seed']}"))


def cmd_institutions(args, cluster):
    rows = cluster.call("registry", "institutions", args.jurisdiction, args.cohort,
                        True if args.in_scope else None)
    emit(args, rows, lambda rs: [print(f"{r['uscc']}  {r['jurisdiction']}  {r['cohort']}  "
                                       f"{r['name']}") for r in rs])


def cmd_report(args, cluster):
    method = {"legal-status": "report_legal_status", "activity": "report_activity"}[args.kind]
    result = cluster.call("registry", method, upload.encode(args.file))
    emit(args, result, lambda r: print(f"{args.file}: {r['facts']} facts, "
                                       f"{r['recorded']} institutions changed"))


def register(commands):
    roster = commands.group("roster", "the province's roster of filings")
    p = roster.command("import", cmd_roster_import, "import a roster xlsx")
    p.add_argument("file")
    p.set_defaults(file_command=True)  # waits longer for its answer (client.rpc_timeout)

    p = commands.command("sample-province", cmd_sample_province,
                         "write the sample province's roster (862 institutions)",
                         needs_operator=False)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--seed", type=int, default=2023)
    p.add_argument("--institutions", type=int, default=862, metavar="N",
                   help="how many, in the sample's proportions (issue 14)")

    p = commands.command("institutions", cmd_institutions, "list filed institutions")
    jurisdiction_option(p)
    p.add_argument("--cohort", type=int)
    p.add_argument("--in-scope", action="store_true")

    p = commands.command("report", cmd_report, "import facts from other HR systems (xlsx)")
    p.add_argument("kind", choices=("legal-status", "activity"))
    p.add_argument("file")
    p.set_defaults(file_command=True)
