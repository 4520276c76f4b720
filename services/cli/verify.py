"""Verification: replay (read tables rebuilt from the events, verdicts re-run), audit
(every keyed hash chain and signed checkpoint), and checkpoints checked offline with the
notary's public key only. Each exits 1 when it finds a problem.

Replay and audit ask the four services at once (issue 14): each works through its own
store in its own process, so the verifications take about as long as the largest store."""
from services.cli.client import SERVICES
from services.cli.messages import bad_input
from services.cli.render import EXIT_ERROR, EXIT_OK, emit, progress


def together(cluster, loops):
    """Run several services' step loops at once, one request outstanding per loop (issue
    14): each service works through its own store in its own process, in parallel.

    `loops` maps a name to (service, generator); a generator yields (method, *args) and
    is sent each call's result until it returns. Each reply is taken as it arrives, so a
    service whose step is done is sent its next one without waiting for the others."""
    def send(service, call):
        method, *args = call
        return getattr(getattr(cluster.rpc, service), method).call_async(
            cluster.token(service, method, args), *args)
    pending = {name: (service, loop, send(service, next(loop)))
               for name, (service, loop) in loops.items()}
    while pending:
        name = _first_answered({n: reply for n, (_, _, reply) in pending.items()})
        service, loop, reply = pending[name]
        try:
            call = loop.send(reply.result())
        except StopIteration:
            del pending[name]
            continue
        pending[name] = (service, loop, send(service, call))


def _first_answered(replies):
    """The name of a reply that has arrived, reading the client's connection until one has.

    nameko's standalone client reads its replies only while waiting on a given one; its
    consumer keeps those it read for the others (`replies`, by correlation id), so this
    reads as its wait does and looks there. Where that cannot be seen, or reading fails,
    the first in order: its `result()` waits, and reports a timeout or a lost connection
    as it always has."""
    first = next(iter(replies))
    while True:
        consumer = None
        for name, reply in replies.items():
            event = getattr(reply, "reply_event", None)
            consumer = getattr(event, "queue_consumer", None)
            if consumer is None or not hasattr(consumer, "replies"):
                return first
            if event.correlation_id in consumer.replies or event.exception is not None:
                return name
        try:
            consumer.consumer.connection.drain_events(timeout=consumer.timeout)
        except Exception:  # noqa: BLE001 - result() meets it again and reports it
            return first


def _rebuild(args, service, report):
    """One service's read tables rebuilt into scratch tables, then compared."""
    start = yield ("replay_start",)
    progress(args, f"{service}: rebuilding read tables from {start['target']} events")
    while True:
        step = yield ("replay_step", start["run"])
        progress(args, f"{service}: {step['position']}/{step['target']}")
        if step["applied"] == 0:
            break
    differences = yield ("replay_finish", start["run"])
    report["tables"].extend(differences)
    progress(args, f"{service}: " + ("read tables agree" if not differences else
                                     f"{len(differences)} table(s) differ"))


def _recheck(args, report):
    """Every verdict re-run by decisions, in bounded steps."""
    start, checked = 1, 0
    while True:
        step = yield ("recheck_step", start)
        report["verdicts"].extend(step["problems"])
        checked += step["checked"]
        start = step["next"]
        progress(args, f"decisions: re-ran {checked} verdicts (position {start - 1}/"
                       f"{step['target']})")
        if step["done"]:
            break
    report["verdicts_checked"] = checked


def cmd_replay_verify(args, cluster):
    """Rebuild every read table into scratch tables and compare; re-run every verdict."""
    report = {"tables": [], "verdicts": [], "ok": True}
    loops = {service: (service, _rebuild(args, service, report)) for service in SERVICES}
    loops["verdicts"] = ("decisions", _recheck(args, report))
    together(cluster, loops)
    # In the services' order, whichever finished first.
    report["tables"].sort(key=lambda d: SERVICES.index(d["service"]))
    report["ok"] = not report["tables"] and not report["verdicts"]

    def human(r):
        for d in r["tables"]:
            print(f"DIFFERENT {d['table']}: {d['rows']} row(s) {d['side']}, e.g. "
                  f"{d['examples'][0]}")
        for v in r["verdicts"]:
            print(f"VERDICT {v['case']} at {v['position']}: {v['problem']}")
        print("replay verify: " + ("all agree" if r["ok"] else "DIFFERENCES FOUND")
              + f" ({r['verdicts_checked']} verdicts re-run)")
    emit(args, report, human)
    return EXIT_OK if report["ok"] else EXIT_ERROR


def _chains(args, service, found, counts):
    """One service's hash chains, in bounded steps."""
    token = None
    while True:
        step = yield ("audit_step", token)
        found[service].extend(step["problems"])
        counts[service] += step["checked"]
        token = step["token"]
        progress(args, f"{service}: {counts[service]} events checked")
        if step["done"]:
            break


def cmd_audit_verify(args, cluster):
    """Check every service's hash chains: an event altered or deleted in the database."""
    found = {service: [] for service in SERVICES}
    counts = dict.fromkeys(SERVICES, 0)
    together(cluster, {service: (service, _chains(args, service, found, counts))
                       for service in SERVICES})
    problems = [p for service in SERVICES for p in found[service]]
    checked = sum(counts.values())
    # Read directly, as the read-only auditor: the signed checkpoints against the tables.
    from shared import checkpoint
    found, checkpoints = checkpoint.verify_stored(cluster.config)
    problems.extend(found)
    progress(args, f"checkpoints: {checkpoints} checked")
    report = {"ok": not problems, "checked": checked, "checkpoints": checkpoints,
              "problems": problems}

    def human(r):
        for p in r["problems"]:
            print(f"TAMPERED {p['service']} case {p['case']} position {p['position']}: "
                  f"{p['problem']}")
        print(f"audit verify: {r['checked']} events, {r['checkpoints']} checkpoints, " +
              ("all chains and checkpoints intact" if r["ok"]
               else f"{len(r['problems'])} problem(s)"))
    emit(args, report, human)
    return EXIT_OK if report["ok"] else EXIT_ERROR


def cmd_checkpoint_verify(args, cluster):
    """Check published checkpoints (and case exports) with the notary's public key only."""
    from shared import checkpoint, config as config_module
    from shared.errors import BadInput
    try:
        keys = [k for _, k in config_module.read_key_lines(args.public_key)]
    except config_module.ConfigError as exc:
        raise BadInput(str(exc))
    results = [r for path in args.paths for r in checkpoint.verify_path(path, keys)]
    if not results:
        raise bad_input("no_checkpoint", paths=", ".join(args.paths))
    emit(args, results, lambda rs: [print(
        f"{'ok    ' if r['ok'] else 'FAILED'} {r['file']}: {r['detail']}") for r in rs])
    return EXIT_OK if all(r["ok"] for r in results) else EXIT_ERROR


def register(commands):
    replay = commands.group("replay", "replay verification")
    replay.command("verify", cmd_replay_verify, "rebuild read tables from the events and "
                   "re-run every verdict; exit 0 if all agree")
    audit = commands.group("audit", "tamper evidence")
    audit.command("verify", cmd_audit_verify, "check every event's keyed hash chain and "
                  "every signed checkpoint")
    checkpoints = commands.group("checkpoint", "signed checkpoints of the history")
    p = checkpoints.command("verify", cmd_checkpoint_verify, "check published checkpoints "
                            "(or a case export) with the notary's public key only",
                            needs_operator=False)
    p.add_argument("paths", nargs="+", metavar="PATH", help="a .checkpoint.json, a "
                   "directory of them (the portal), or an export zip")
    p.add_argument("--public-key", required=True, metavar="FILE",
                   help="the notary's public key file")
