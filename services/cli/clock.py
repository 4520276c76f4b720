"""The business date: the simulated clock of a test or demo cluster (production refuses
to move it)."""
from services.cli.client import settle
from services.cli.render import emit, kv


def cmd_clock_set(args, cluster):
    date = None if args.date == "wall" else args.date
    if not args.no_settle:
        settle(cluster)
    emit(args, cluster.call("decisions", "set_clock", date), kv)


def cmd_clock_show(args, cluster):
    emit(args, cluster.call("decisions", "show_clock"), kv)


def cmd_clock_history(args, cluster):
    """Every move of the simulated clock: who moved it, from and to which date, when."""
    moves = cluster.call("decisions", "clock_history")
    emit(args, moves, lambda ms: [print(
        f"#{m['move']}  {m['moved_at'][:19]}  {m['by']:<20} {m['from']} → {m['to']}")
        for m in ms] or print("the clock was never moved"))


def register(commands):
    clock = commands.group("clock", "the business date")
    p = clock.command("set", cmd_clock_set, "set the simulated business date (or 'wall'), "
                      "once every service has caught up with the current one")
    p.add_argument("date", metavar="YYYY-MM-DD|wall")
    p.add_argument("--no-settle", action="store_true",
                   help="do not wait for the services to catch up first")
    clock.command("show", cmd_clock_show, "show the business date")
    clock.command("history", cmd_clock_history, "every move of the simulated clock")
