"""The fault-injection suite (issue 11): the province campaign on a clean cluster (the
reference), then again on a cluster under faults, compared per case and per store.

    python -m tests.chaos.run [--short] [--with-server-restarts] [--seed N]

`make chaos` runs the full variant with the server restarts (only where nothing else uses
the machine's RabbitMQ and PostgreSQL: CI); `make chaos-ci` the short one without them.
Exit 0 only with 0 mismatches, 0 duplicates, 0 dead letters and empty inboxes.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

from tests.chaos import campaign, compare, restore
from tests.chaos.faults import Faults
from tests.support import Cluster, remove_stale_clusters


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


SHORT_JURISDICTIONS = ["140000", "140100", "140400", "140700"]


def one_run(name, workdir, faulty=None, jurisdictions=None):
    """A campaign on a fresh cluster; `faulty(cluster)` gives the Faults to inject."""
    cluster = Cluster().create()
    try:
        faults = faulty(cluster) if faulty else None
        cluster.start()
        if faults:
            faults.start()
        log(f"{name}: cluster {cluster.name}")
        restored = {}

        def on_phase(phase):
            """Under faults, mid-campaign: a backup, the machine lost, a restore."""
            if faults and phase == "scored":
                faults.stop()
                restored.update(restore.backup_and_restore(
                    cluster, os.path.join(workdir, name), log=log))
                faults.start()
        started = time.monotonic()
        operator = campaign.run(cluster, os.path.join(workdir, name),
                                on_submit=faults.during_submit if faults else None,
                                on_phase=on_phase, log=log, jurisdictions=jurisdictions)
        campaign_seconds = time.monotonic() - started
        if faults:
            faults.stop()
        settle_started = time.monotonic()
        operator.settle()
        settle_seconds = time.monotonic() - settle_started
        return {"snapshot": compare.snapshot(cluster), "campaign": campaign_seconds,
                "settle": settle_seconds, "retries": operator.retries,
                "faults": dict(faults.injected) if faults else {}, "restored": restored,
                "redelivered": faults.redelivered if faults else 0}
    finally:
        cluster.destroy()


def table(reference, run, result):
    rows = [("faults injected", sum(run["faults"].values()))]
    rows += [(f"  {kind}", n) for kind, n in sorted(run["faults"].items())]
    rows += [("  messages published again, in all", run["redelivered"])]
    rows += [(key, value) for key, value in result.items() if not key.startswith("_")]
    rows += [(f"backup, restore mid-campaign: {check}", "ok" if ok else "FAILED")
             for check, ok in run["restored"].items()]
    rows += [("commands retried by the operator", run["retries"]),
             ("campaign (s), reference / under faults",
              f"{reference['campaign']:.0f} / {run['campaign']:.0f}"),
             ("time to settle after the last fault (s)", f"{run['settle']:.1f}")]
    width = max(len(k) for k, _ in rows) + 2
    print("\n".join(f"{k:<{width}}{v}" for k, v in rows))
    for key in ("_mismatches", "_store_diffs", "_duplicates", "_dead_letters"):
        if result[key]:
            print(f"{key[1:]}: {result[key]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true",
                        help="the CI variant: 4 of the 12 jurisdictions hand in forms (all "
                             "862 filed, all 507 decided), faults more often")
    parser.add_argument("--with-server-restarts", action="store_true",
                        help="also restart the machine's RabbitMQ and PostgreSQL mid-campaign "
                             "(never where other clusters share them)")
    parser.add_argument("--seed", type=int, default=223)
    args = parser.parse_args(argv)
    remove_stale_clusters()
    workdir = tempfile.mkdtemp(prefix="pinggu-chaos-")
    try:
        log("reference run, no faults")
        jurisdictions = SHORT_JURISDICTIONS if args.short else None
        reference = one_run("reference", workdir, jurisdictions=jurisdictions)
        log("run under faults")
        interval = (3.0, 6.0) if args.short else (5.0, 10.0)
        run = one_run("faults", workdir, lambda cluster: Faults(
            cluster, args.seed, interval=interval, log=log,
            server_restarts=args.with_server_restarts,
            commit_kills=2 if args.short else 4), jurisdictions=jurisdictions)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result = compare.compare(reference["snapshot"], run["snapshot"])
    table(reference, run, result)
    bad = result["mismatches"] or result["duplicates"] or result["dead letters"] \
        or result["inbox messages left"] or result["store differences"] \
        or not all(run["restored"].values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
