"""Backup mid-campaign, machine lost, restore into a fresh database and a fresh broker
(issue 11): the restored cluster passes `replay verify` and `audit verify`, and its
services, though every event is published to them again, decide nothing again."""
import os

from tests.chaos import compare
from tests.support import Cluster


def event_counts(cluster):
    return compare.snapshot(cluster)["stores"]


def backup_and_restore(cluster, workdir, log=print):
    """Back `cluster` up while it runs, lose it (services, database, virtual host), restore
    the backup into a new database and virtual host, start the services on it and let them
    catch up. `cluster` is then the restored one. Returns what was checked."""
    dump = os.path.join(workdir, "backup.dump")
    cluster.wait_healthy()  # a service restarted by the last fault may still be starting
    cluster.cli("settle", "--timeout", "300", check=True, timeout=330)
    cluster.cli("backup", "--out", dump, check=True)
    before = event_counts(cluster)
    log(f"restore: backup of {cluster.name} taken ({os.path.getsize(dump)} bytes)")
    fresh = Cluster().create()
    fresh.drop_database()  # a new machine: its broker is set up, its database is the backup's
    cluster.destroy()  # the machine is lost: processes, database and queues
    for attribute in ("name", "vhost", "env", "logdir", "http_port"):
        setattr(cluster, attribute, getattr(fresh, attribute))
    cluster.cli("restore", dump, "--yes", check=True)
    cluster.start()
    cluster.cli("settle", "--timeout", "300", check=True, timeout=330)
    after = event_counts(cluster)
    checks = {"events before == after restore": before == after}
    for command in (("replay", "verify"), ("audit", "verify")):
        rc, out, err = cluster.cli(*command, operator="auditor", timeout=600)
        checks[" ".join(command)] = rc == 0
        if rc != 0:
            log(f"restore: pinggu {' '.join(command)} exited {rc}: {(out + err)[-800:]}")
    if before != after:
        log(f"restore: events changed: {diff(before, after)}")
    log(f"restore: into {cluster.name}: {checks}")
    return checks


def diff(before, after):
    return {(s, t): (before.get(s, {}).get(t, 0), after.get(s, {}).get(t, 0))
            for s in set(before) | set(after)
            for t in set(before.get(s, {})) | set(after.get(s, {}))
            if before.get(s, {}).get(t, 0) != after.get(s, {}).get(t, 0)}
