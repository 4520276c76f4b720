"""Provision the broker's users and the database's roles of one pinggu deployment (issue 10,
items 2 and 3). Idempotent: run it before the services start, every time; `make up`,
`make demo`, `.ci/run` and the test clusters do. The same command is the production
procedure (docs/security.md):

    python -m services.provision              # broker and database, for $PINGGU_AMQP_URI / $PINGGU_PG_DBNAME
    python -m services.provision --definitions out.json   # the broker part as a file
    python -m services.provision keys --out DIR            # new history and notary keys

The broker (RabbitMQ, through `rabbitmqctl import_definitions`, or the definitions file
uploaded through the management API of a remote broker):
- one user per service, per connected HR system and for the CLI, `<prefix><role>`;
- services configure and read what they need; they write only to `pinggu.events`, the
  dead-letter exchange, nameko's RPC exchange and queues (never the default exchange, so a
  message cannot be dropped straight into another's inbox), and on `pinggu.events` the
  topic permission lets each write only its own routing keys (`registry.#` ...);
- an HR system writes `external.#` on `pinggu.events` and nothing else, and reads the
  replayable log, the stream queue `pinggu.events.log` (docs/integration.md);
- the stream is declared here, bound to `pinggu.events` with `#`; its retention is a policy
  (PINGGU_STREAM_MAX_AGE, default 10Y; PINGGU_STREAM_MAX_BYTES, default 20 GB), so it can
  be changed on a running broker by provisioning again;
- the CLI uses RPC only: nameko's RPC exchange and its own reply queues; so does the desk
  (`desk`, docs/desk.md), which has no database account: it keeps nothing.

The database (PostgreSQL, as its administrator):
- one login role per service, owning its schema (its read tables are its own);
- its event and tracking tables are owned by the NOLOGIN role `<prefix>history`; the
  service may SELECT and INSERT (and TRUNCATE, which eventsourcing's EXCLUSIVE lock needs,
  refused by a trigger) but never UPDATE or DELETE;
- `<prefix>auditor` reads everything and writes nothing; the notices service also reads
  every event table, to sign the checkpoints (shared/checkpoint.py);
- the schema `cluster` holds the clock's moves and the checkpoints, append-only.
"""
import argparse
import json
import os
import subprocess
import sys

import psycopg2
from psycopg2 import sql

from shared import config as config_module
from shared.config import SERVICES
# The broker's part, re-exported: callers (tests, .ci/run, tools) name provision.X.
from services.broker_accounts import (  # noqa: F401
    broker_definitions, broker_permissions, provision_broker, remove_broker_users,
    stream_retention, vhost_of)

APPEND_ONLY = "cluster.refuse_change"


# -- the database ----------------------------------------------------------------------
def _ident(name):
    return sql.Identifier(name)


def _ensure_role(cur, name, password=None):
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    exists = cur.fetchone() is not None
    if password is None:
        if not exists:
            try:
                cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(_ident(name)))
            except psycopg2.errors.DuplicateObject:
                pass  # another provisioning, at the same moment
        return
    verb = "ALTER" if exists else "CREATE"
    try:
        cur.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
            _ident(name), sql.Literal(password)))
    except psycopg2.errors.DuplicateObject:
        cur.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
            _ident(name), sql.Literal(password)))


def ensure_database(config):
    conn = psycopg2.connect(config.admin_dsn("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (config.pg_dbname,))
            if cur.fetchone() is None:
                try:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(_ident(config.pg_dbname)))
                except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    pass
            for role in SERVICES:
                _ensure_role(cur, config.account(role), config.pg_credentials(role)[1])
            _ensure_role(cur, config.account("auditor"), config.pg_credentials("cli")[1])
            _ensure_role(cur, config.account("history"))
    finally:
        conn.close()


def _create_event_tables(config, service):
    """The tables exactly as eventsourcing makes them, made by the administrator."""
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment
    env = config.pg_env(service)
    env.update({"POSTGRES_USER": config.pg_admin_user, "CREATE_TABLE": "yes",
                "POSTGRES_PASSWORD": config.secrets.get("PINGGU_PG_ADMIN_PASSWORD", "")})
    factory = InfrastructureFactory.construct(Environment(service, env))
    try:
        factory.process_recorder()
    finally:
        factory.datastore.close()


def _append_only(cur, table):
    cur.execute(sql.SQL("CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE OR "
                        "TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION "
                        "cluster.refuse_change()").format(sql.SQL(table)))


def provision_database(config):
    ensure_database(config)
    account = config.account
    history, auditor = _ident(account("history")), _ident(account("auditor"))
    services = [_ident(account(s)) for s in SERVICES]
    conn = psycopg2.connect(config.admin_dsn())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            database = _ident(config.pg_dbname)
            cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
            cur.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}, {}").format(
                database, sql.SQL(", ").join(services), auditor))
            # The services make their replay-verification scratch schemas (shared/replay.py).
            cur.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
                database, sql.SQL(", ").join(services)))
            cur.execute("CREATE SCHEMA IF NOT EXISTS cluster")
            cur.execute(sql.SQL("ALTER SCHEMA cluster OWNER TO {}").format(history))
            cur.execute("CREATE OR REPLACE FUNCTION cluster.refuse_change() RETURNS trigger "
                        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
                        "'permission denied: % is append-only (% refused)', TG_TABLE_NAME, "
                        "TG_OP USING ERRCODE = 'insufficient_privilege'; END $$")
            from shared import checkpoint, clock
            for statement in (clock.DDL, checkpoint.DDL):
                cur.execute(statement)
            for table in ("cluster.clock_moves", "cluster.checkpoints"):
                cur.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.SQL(table), history))
                _append_only(cur, table)
            cur.execute(sql.SQL("GRANT USAGE ON SCHEMA cluster TO {}, {}").format(
                sql.SQL(", ").join(services), auditor))
            cur.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA cluster TO {}, {}").format(
                sql.SQL(", ").join(services), auditor))
            for table, role in (("clock_moves", "decisions"), ("checkpoints", "notices")):
                cur.execute(sql.SQL("GRANT INSERT ON cluster.{} TO {}").format(
                    sql.SQL(table), _ident(account(role))))
                cur.execute(sql.SQL("GRANT USAGE ON SEQUENCE cluster.{} TO {}").format(
                    sql.SQL(f"{table}_sequence_seq"), _ident(account(role))))
        for service in SERVICES:
            _provision_service(conn, config, service)
    finally:
        conn.close()


def _provision_service(conn, config, service):
    owner = _ident(config.account(service))
    history, auditor = _ident(config.account("history")), _ident(config.account("auditor"))
    notices = _ident(config.account("notices"))
    schema = _ident(service)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
            schema, owner))
        cur.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, owner))
    _create_event_tables(config, service)
    with conn.cursor() as cur:
        for table in (f"{service}_events", f"{service}_tracking"):
            qualified = sql.SQL(".").join([schema, _ident(table)])
            cur.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(qualified, history))
            cur.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(qualified, owner))
            cur.execute(sql.SQL("GRANT SELECT, INSERT, TRUNCATE ON {} TO {}").format(
                qualified, owner))
            _append_only(cur, f"{service}.{table}")
        cur.execute(sql.SQL("GRANT USAGE ON SEQUENCE {}.{} TO {}").format(
            schema, _ident(f"{service}_events_notification_id_seq"), owner))
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(schema, auditor,
                                                                          notices))
        cur.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            schema, auditor))
        cur.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT "
                            "ON TABLES TO {}").format(owner, schema, auditor))
        cur.execute(sql.SQL("GRANT SELECT ON {}.{} TO {}").format(
            schema, _ident(f"{service}_events"), notices))


def remove_database_roles(config):
    """Drop the deployment's roles (test runs, once their databases are gone)."""
    conn = psycopg2.connect(config.admin_dsn("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for role in (*SERVICES, "auditor", "history"):
                try:
                    cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(
                        _ident(config.account(role))))
                except psycopg2.Error:
                    pass  # still owns something in a database that is not yet dropped
    finally:
        conn.close()


# -- keys ------------------------------------------------------------------------------
def generate_keys(directory, key_id):
    """A new history key, and notary and desk issuer key pairs, each file written once,
    mode 0600 (the public keys 0644). Refuses to overwrite: rotation adds a key, it does
    not replace one."""
    from shared import checkpoint
    os.makedirs(directory, exist_ok=True)
    seed, desk = checkpoint.generate_seed(), checkpoint.generate_seed()
    files = {"history.key": f"{key_id} {os.urandom(32).hex()}\n",
             "notary.key": f"{key_id} {seed.hex()}\n",
             "notary.pub": f"{key_id} {checkpoint.public_key_of(seed).hex()}\n",
             "desk.key": f"{key_id} {desk.hex()}\n",
             "desk.pub": f"{key_id} {checkpoint.public_key_of(desk).hex()}\n"}
    for name, content in files.items():
        path = os.path.join(directory, name)
        mode = 0o644 if name.endswith(".pub") else 0o600
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w") as f:
            f.write(content)
    return [os.path.join(directory, n) for n in files]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m services.provision",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="all",
                        choices=("all", "broker", "database", "keys"))
    parser.add_argument("--definitions", help="broker: write the definitions to this file "
                        "instead of importing them (for a remote broker's management API)")
    parser.add_argument("--out", help="keys: the directory to write them to")
    parser.add_argument("--key-id", default=None, help="keys: the new keys' id (default: "
                        "today's date)")
    args = parser.parse_args(argv)
    try:
        config = config_module.load()
        if args.what == "keys":
            if not args.out:
                parser.error("keys needs --out DIR")
            import datetime
            key_id = args.key_id or datetime.date.today().strftime("k%Y%m%d")
            for path in generate_keys(args.out, key_id):
                print(f"provision: wrote {path}")
            return 0
        if args.what in ("all", "broker"):
            if args.definitions:
                fd = os.open(args.definitions, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    json.dump(broker_definitions(config), f, indent=2)
                print(f"provision: broker definitions written to {args.definitions}")
            else:
                provision_broker(config)
                print(f"provision: broker users of vhost {vhost_of(config)!r} ready")
        if args.what in ("all", "database"):
            provision_database(config)
            print(f"provision: database {config.pg_dbname!r} roles and tables ready")
        return 0
    except config_module.ConfigError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 2
    except FileExistsError as exc:
        print(f"provision: {exc.filename} exists; a new key gets a new directory",
              file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"provision: rabbitmqctl failed: {exc.stderr.decode(errors='replace')}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
