"""The evaluation campaign: open it, follow its progress, accept excuses, withdraw a
finding, list the decided cases."""
from services.cli.render import emit, kv
from services.cli.roster import jurisdiction_option


def cmd_campaign_open(args, cluster):
    from services.evaluation import campaign
    spec = campaign.load(args.file) if args.file else None
    result = cluster.call("evaluation", "open_campaign", spec)
    emit(args, result, lambda r: print(
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
    emit(args, cluster.call("evaluation", "campaign_status"), human)


def cmd_excuse(args, cluster):
    emit(args, cluster.call("evaluation", "accept_excuse", args.uscc, args.reason), kv)


def cmd_finding_withdraw(args, cluster):
    emit(args, cluster.call("evaluation", "withdraw_finding", args.uscc, args.clause,
                            args.reason), kv)


def cmd_decided(args, cluster):
    rows = cluster.call("notices", "decided", args.jurisdiction)
    emit(args, rows, lambda rs: [print(f"{r['uscc']}  {r['outcome']}  {r['name']}")
                                 for r in rs])


def register(commands):
    campaign = commands.group("campaign", "the evaluation campaign")
    campaign.command("open", cmd_campaign_open, "open a campaign (default: the 2023 notice)"
                     ).add_argument("file", nargs="?")
    campaign.command("status", cmd_campaign_status, "progress per jurisdiction")

    p = commands.command("excuse", cmd_excuse,
                         "accept an institution's excuse for not self-assessing")
    p.add_argument("uscc")
    p.add_argument("--reason", required=True)

    finding = commands.group("finding", "findings")
    p = finding.command("withdraw", cmd_finding_withdraw, "withdraw a recorded finding")
    p.add_argument("uscc")
    p.add_argument("clause")
    p.add_argument("--reason", required=True)

    jurisdiction_option(commands.command("decided", cmd_decided, "list decided cases"))
