"""Replay and audit verify in this process, on a kept store (issue 14): where their time
goes, in CPU seconds, which a loaded machine moves less than wall-clock time.

    bench/verify_in_process.py build --events 33000   # a store in a database kept for later
    bench/verify_in_process.py run [--profile FILE] [--only replay|audit|recheck]
    bench/verify_in_process.py cli [--repeat N]   # the services started, the CLI timed
    bench/verify_in_process.py floor [--repeat N] # what any replay or audit must do, timed
    bench/verify_in_process.py drop

`build` makes a database and vhost of their own (bench/big_store.py, as the replay-verify
benchmark does) and writes the cluster's settings to /tmp/pinggu-verify-in-process.json;
`run` opens the four services' applications on it and runs each verification as the
services' RPC handlers do (shared.replay's start/step/finish, decisions' recheck_verdicts,
shared.audit.verify_chains, in steps), one service after another, printing the CPU seconds
(time.process_time) of each; `drop` drops the database and vhost. No service runs: there
is no RPC and no CLI start-up, only the verifying process's own work, plus PostgreSQL's,
which is printed beside it (the backends' CPU from /proc when the server is local).
`floor` times, per service, the least work of each verification beside the raw read it is
measured against: decoding every record through the application's mapper (a replay
through the domain model cannot do less), and parsing, writing as canonical JSON and
keying every record (an audit of the hash chains cannot do less): the ratio neither
verification can pass on this machine, in one process. `cli`
starts the four services on the store and times the raw reads and `pinggu clock show`,
`replay verify` and `audit verify` as processes, with the CPU of the CLI, of each service
and of PostgreSQL's backends (VERIFY_COMMANDS="a b;c d" names others, VERIFY_CLI_PROFILE=
DIR profiles each CLI process).
"""
import argparse
import cProfile
import json
import os
import sys
import time

import big_store
from common import cpu_seconds_or_zero, postgres_cpu, progress  # and the repository on sys.path

# Where `build` leaves the kept store's settings; another path keeps two stores apart.
STATE = os.environ.get("PINGGU_VERIFY_STATE", "/tmp/pinggu-verify-in-process.json")


def build(events):
    from tests.support import Cluster
    import uuid
    cluster = Cluster(name=f"pinggu_bench_inproc_{uuid.uuid4().hex[:8]}")
    cluster.logdir = f"/tmp/{cluster.name}-logs"
    cluster.create()
    built = big_store.build(cluster, events)
    with open(STATE, "w") as f:
        json.dump({"name": cluster.name, "env": {k: v for k, v in cluster.env.items()
                                                 if k.startswith("PINGGU_")}}, f)
    progress(f"built {built['events_total']} events in {cluster.name}: {built['events']}")


def _cluster():
    from tests.support import Cluster
    with open(STATE) as f:
        state = json.load(f)
    cluster = Cluster(name=state["name"])
    cluster.env.update(state["env"])
    return cluster


def drop():
    cluster = _cluster()
    from tests.support import rabbitmqctl
    import subprocess
    try:
        rabbitmqctl("delete_vhost", cluster.vhost)
    except subprocess.CalledProcessError:
        pass
    cluster.drop_database()
    os.remove(STATE)
    progress(f"dropped {cluster.name}")


def run(only, profile):
    from shared import audit, replay
    cluster = _cluster()
    store = big_store.Store(cluster)
    results = {}
    try:
        # The live read tables caught up first, as the running services keep them.
        for app in store.apps.values():
            for projection in app.projections.values():
                projection.catch_up()
        profiler = cProfile.Profile() if profile else None
        for service, app in store.apps.items():
            for what in only:
                if what == "recheck" and service != "decisions":
                    continue
                pg0, cpu0, wall0 = postgres_cpu(cluster.name), time.process_time(), \
                    time.perf_counter()
                if profiler:
                    profiler.enable()
                if what == "replay":
                    started = replay.start(app)
                    while replay.step(app, started["run"])["applied"]:
                        pass
                    outcome = replay.finish(app, started["run"])
                elif what == "recheck":
                    start, outcome = 1, []
                    while True:
                        step = app.recheck_verdicts(start)
                        outcome += step["problems"]
                        start = step["next"]
                        if step["done"]:
                            break
                else:
                    token, outcome, done = None, [], False
                    while not done:
                        problems, token, done, _ = audit.verify_chains(app, token)
                        outcome += problems
                if profiler:
                    profiler.disable()
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                pg = postgres_cpu(cluster.name) - pg0
                results[f"{service} {what}"] = (cpu, pg, wall, len(outcome))
                progress(f"{service} {what}: {cpu:.2f} s CPU here, PostgreSQL {pg:.2f} s, "
                         f"wall {wall:.2f} s, problems {len(outcome)}")
        for what in only:
            rows = [v for k, v in results.items() if k.endswith(" " + what)]
            progress(f"TOTAL {what}: {sum(r[0] for r in rows):.2f} s CPU here, PostgreSQL "
                     f"{sum(r[1] for r in rows):.2f} s, wall {sum(r[2] for r in rows):.2f} s, "
                     f"problems {sum(r[3] for r in rows)}")
        if profiler:
            profiler.dump_stats(profile)
    finally:
        store.close()
    return results


def cli(repeat):
    """The services started on the kept store, then the CLI's verifications timed as whole
    processes (as the replay-verify benchmark times them), with each process's CPU."""
    from services import provision
    from replay_verify import RAW_SQL, RAW_TEXT_SQL, raw_read
    cluster = _cluster()
    cluster.logdir = f"/tmp/{cluster.name}-logs"
    os.makedirs(cluster.logdir, exist_ok=True)
    provision.provision_broker(cluster.config())  # a test run may have removed its users
    cluster.start(wait=False)  # no portal
    try:
        cluster.wait_healthy()
        cluster.cli("clock", "set", big_store.SCORED_ON.isoformat(), operator="province")
        for _ in range(repeat):
            for sql in (RAW_SQL, RAW_TEXT_SQL):
                n, seconds, _ = raw_read(cluster.name, sql)
                progress(f"raw read {'text' if sql is RAW_TEXT_SQL else 'bytea'}: {n} events "
                         f"{seconds:.2f} s")
            for args in COMMANDS:
                before, services = _children_cpu(), _services_cpu(cluster)
                pg, wall = postgres_cpu(cluster.name), time.perf_counter()
                rc, out, err = _pinggu(cluster, args)
                wall = time.perf_counter() - wall
                services = {k: v - services[k] for k, v in _services_cpu(cluster).items()}
                progress(f"pinggu {' '.join(args)}: rc {rc}, {wall:.2f} s, CPU: CLI "
                         f"{_children_cpu() - before:.2f} s, services "
                         f"{sum(services.values()):.2f} s ("
                         + ", ".join(f"{k} {v:.2f}" for k, v in services.items())
                         + f"), PostgreSQL {postgres_cpu(cluster.name) - pg:.2f} s (backends "
                         f"alive throughout); {out.strip()[-100:]!r}")
    finally:
        cluster.stop_all()


def floor(repeat):
    """The raw read of each service's events beside the least a verification does with
    them (see the docstring); the best of `repeat` runs of each."""
    import hashlib
    import hmac
    import json as json_module
    import uuid
    from eventsourcing.persistence import StoredEvent
    from replay_verify import RAW_SQL, RAW_TEXT_SQL
    cluster = _cluster()
    store = big_store.Store(cluster)
    key, totals = b"k" * 32, {"raw": 0.0, "text": 0.0, "decode": 0.0, "hash": 0.0}
    try:
        for service, app in store.apps.items():
            table = app.recorder.events_table_name

            def read(sql):
                with app.recorder.datastore.transaction(commit=False) as cur:
                    with cur.pg_cursor.connection.cursor() as plain:
                        started = time.perf_counter()
                        plain.execute(sql.format(table=table))
                        rows = plain.fetchall()
                        return rows, time.perf_counter() - started

            def decode(rows):
                to_event = app.mapper.to_domain_event
                for stream, version, topic, state in rows:
                    to_event(StoredEvent(uuid.UUID(str(stream)), version, topic, bytes(state)))

            def canonical(rows):
                for _, _, _, text in rows:
                    hmac.digest(key, json_module.dumps(json_module.loads(text), sort_keys=True,
                                                       ensure_ascii=False).encode(),
                                hashlib.sha256)

            best = {}
            for _ in range(repeat):
                rows, raw = read(RAW_SQL)
                texts, text = read(RAW_TEXT_SQL)
                timed = {"raw": raw, "text": text}
                for name, work, given in (("decode", decode, rows), ("hash", canonical, texts)):
                    started = time.perf_counter()
                    work(given)
                    timed[name] = time.perf_counter() - started
                best = {k: min(v, best.get(k, v)) for k, v in timed.items()}
            for k in totals:
                totals[k] += best[k]
            progress(f"{service}: {len(rows)} events: raw read {best['raw']:.2f} s, as text "
                     f"{best['text']:.2f} s; decode {best['decode']:.2f} s; parse + canonical "
                     f"JSON + HMAC {best['hash']:.2f} s")
    finally:
        store.close()
    t = totals
    progress(f"TOTAL: raw read {t['raw']:.2f} s; replay can reach at most "
             f"{t['raw'] / (t['raw'] + t['decode']):.3f}x of the raw read (read + decode "
             f"{t['raw'] + t['decode']:.2f} s); audit at most "
             f"{t['raw'] / (t['text'] + t['hash']):.3f}x (text read + parse, canonical JSON "
             f"and HMAC {t['text'] + t['hash']:.2f} s)")
    return totals


COMMANDS = [a.split() for a in os.environ.get(
    "VERIFY_COMMANDS", "clock show;replay verify --json;audit verify --json").split(";")]


def _pinggu(cluster, args):
    """`pinggu ARGS` as the auditor; VERIFY_CLI_PROFILE=DIR profiles each process."""
    import subprocess
    from tests.support import ROOT
    env = dict(cluster.env, PINGGU_LANG="en", PINGGU_OPERATOR="auditor")
    profile = os.environ.get("VERIFY_CLI_PROFILE")
    prefix = ["-m", "cProfile", "-o", os.path.join(profile, "-".join(args[:2]) + ".prof")] \
        if profile else []
    done = subprocess.run([sys.executable, *prefix, "-m", "services.cli", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    return done.returncode, done.stdout, done.stderr


def _services_cpu(cluster):
    return {key: cpu_seconds_or_zero(process.pid) for key, process in cluster.processes.items()}


def _children_cpu():
    times = os.times()
    return times.children_user + times.children_system


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "run", "cli", "floor", "drop"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--events", type=int, default=33000)
    parser.add_argument("--only", default="replay,recheck,audit")
    parser.add_argument("--profile", metavar="FILE", help="cProfile's stats to FILE")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.events)
    elif args.command == "run":
        run(args.only.split(","), args.profile)
    elif args.command == "cli":
        cli(args.repeat)
    elif args.command == "floor":
        floor(args.repeat)
    else:
        drop()


if __name__ == "__main__":
    sys.exit(main())
