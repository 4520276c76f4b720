"""Backup and restore of a cluster's database (issue 11: nothing lost across a machine loss).

Everything a cluster knows is in its PostgreSQL database: every service's events, their
read tables and positions, the inbox tracking, the simulated clock. `pg_dump` takes one
consistent snapshot of all of it (one transaction), so a backup needs no service stopped.

The broker holds nothing that cannot be rebuilt: on restore every service's outbox is
rewound to the start, so each event is published again once the services run, and each
consumer drops what its tracking records (ServiceApplication.process_upstream) — whatever
was in the queues when the machine was lost is delivered again, nothing twice. The
services then resume from their recorded positions and decide nothing again.

    pinggu backup --out FILE         pg_dump (custom format) of PINGGU_PG_DBNAME
    pinggu restore FILE --yes        into PINGGU_PG_DBNAME, which must not exist yet
"""
import os
import subprocess

import psycopg2
from psycopg2 import sql

from shared.errors import BadInput

SERVICES = ("registry", "evaluation", "decisions", "notices")


# Backup and restore are the database administrator's (PINGGU_PG_ADMIN_USER): no
# service role may read another's schema, and a restore recreates every owner and grant
# (docs/security.md).
def _env(config):
    env = dict(os.environ)
    password = config.secrets.get("PINGGU_PG_ADMIN_PASSWORD")
    if password:
        env["PGPASSWORD"] = password  # not on the command line, where ps shows it
    return env


def _connection_args(config):
    return ["--host", config.pg_host, "--port", str(config.pg_port),
            "--username", config.pg_admin_user]


def backup(config, out):
    """Dump the cluster's database to `out`, written beside and renamed when complete, so
    a failed backup never leaves a file that looks whole."""
    partial = out + ".partial"
    done = subprocess.run(["pg_dump", *_connection_args(config), "--format=custom",
                           "--file", partial, "--dbname", config.pg_dbname],
                          env=_env(config), capture_output=True, text=True)
    if done.returncode != 0:
        if os.path.exists(partial):
            os.remove(partial)
        raise RuntimeError(f"pg_dump failed: {done.stderr.strip()}")
    os.replace(partial, out)
    return {"file": out, "database": config.pg_dbname, "bytes": os.path.getsize(out)}


def restore(config, dump):
    """Restore `dump` into a new database named by the config, then rewind the outboxes.
    Refuses an existing database: a restore never mixes with what is there."""
    if not os.path.isfile(dump):
        raise BadInput("no such backup file", file=dump)
    from services import provision
    admin = psycopg2.connect(config.admin_dsn("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (config.pg_dbname,))
            if cur.fetchone():
                raise BadInput(f"database {config.pg_dbname} exists: restore only into a "
                               "new one (set PINGGU_PG_DBNAME, or drop it first)")
    finally:
        admin.close()
    # The roles first (a new machine has none), so the restore keeps every owner and
    # grant; then the provisioning again, for what a dump does not carry (the database's
    # own grants) — it is idempotent.
    provision.ensure_database(config)
    done = subprocess.run(["pg_restore", *_connection_args(config),
                           "--exit-on-error", "--single-transaction",
                           "--dbname", config.pg_dbname, dump],
                          env=_env(config), capture_output=True, text=True)
    if done.returncode != 0:
        _drop(config)  # nothing half-restored is left behind
        raise RuntimeError(f"pg_restore failed: {done.stderr.strip()}")
    provision.provision_database(config)
    rewound = rewind_outboxes(config)
    return {"file": dump, "database": config.pg_dbname, "outboxes_rewound": rewound}


def rewind_outboxes(config):
    """Publish every event again from the start; the consumers' tracking drops repeats."""
    conn = psycopg2.connect(config.admin_dsn())
    rewound = []
    try:
        with conn, conn.cursor() as cur:
            for service in SERVICES:
                cur.execute("SELECT to_regclass(%s)", (f"{service}.outbox_position",))
                if cur.fetchone()[0]:
                    cur.execute(sql.SQL("UPDATE {}.outbox_position SET position = 0").format(
                        sql.Identifier(service)))
                    rewound.append(service)
    finally:
        conn.close()
    return rewound


def _drop(config):
    admin = psycopg2.connect(config.admin_dsn("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(config.pg_dbname)))
    finally:
        admin.close()
