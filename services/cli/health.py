"""For scripts and operators: does every service answer, and has every service handled
what it was sent (settle)."""
import time

from services.cli.client import SERVICES, Unavailable, settle, wait_directory
from services.cli.render import EXIT_ERROR, EXIT_OK, EXIT_UNAVAILABLE, emit


def cmd_health(args, cluster):
    """Every service answers; with --wait, keep asking until they do. A broker that
    cannot be reached by then is exit 3, like any other command's."""
    deadline = time.monotonic() + args.wait
    answers = {}
    for service in SERVICES:
        while True:
            try:
                answers[service] = getattr(cluster.rpc, service).health()
                break
            except Unavailable:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)
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
    emit(args, answers, lambda a: [print(f"{s}: {'up' if v['ok'] else 'DOWN'}")
                                   for s, v in a.items()])
    return EXIT_OK if up else EXIT_ERROR


def cmd_settle(args, cluster):
    """For scripts: return once every service has handled what it was sent."""
    settle(cluster, timeout=args.timeout)
    emit(args, {"settled": True}, lambda r: print("every service has caught up"))


def register(commands):
    commands.command("settle", cmd_settle, "wait until every service has caught up",
                     needs_operator=False).add_argument("--timeout", type=float, default=120)
    commands.command("health", cmd_health, "check that every service answers (exit 1 if "
                     f"one does not, {EXIT_UNAVAILABLE} if the broker cannot be reached)",
                     needs_operator=False).add_argument("--wait", type=float, default=0.0,
                                                        help="seconds to keep trying")
