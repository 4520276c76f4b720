"""PostgreSQL: the database, roles, schemas and event tables are the provisioning's
(services/provision.py); a service only checks they are there, with a clear message when
they are not, since as its own role it may not create them."""
import zlib

import psycopg2


class NotProvisioned(Exception):
    pass


def require_provisioned(config, schema):
    table = f"{schema}.{schema}_events"
    try:
        conn = psycopg2.connect(config.dsn(role=schema))
    except psycopg2.OperationalError as exc:
        raise NotProvisioned(f"cannot connect to {config.pg_dbname} as "
                             f"{config.pg_credentials(schema)[0]}: {exc}".strip()
                             + " (run: python -m services.provision)")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", (table,))
            if cur.fetchone()[0] is None:
                raise NotProvisioned(f"{config.pg_dbname} has no {table}: run "
                                     "python -m services.provision")
    finally:
        conn.close()


def creating_tables(cur, schema):
    """Call first in a transaction that creates a service's own tables (CREATE TABLE IF NOT
    EXISTS): two such transactions at once, a second instance starting or two workers of
    one, fail one of them on pg_type's unique key, so the tables of a schema are created
    by one transaction at a time, across processes; the lock ends with the transaction."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)",
                (zlib.crc32(f"pinggu.ddl.{schema}".encode()),))


def _disconnections():
    from eventsourcing import persistence
    return (psycopg2.OperationalError, psycopg2.InterfaceError,
            persistence.OperationalError, persistence.InterfaceError)


def read_retried(read):
    """Run a read once more if its connection broke under it (a terminated backend, a
    database restart): the pool replaces a broken connection, so the second try gets a
    fresh one. For reads only: a command must not be run twice on a guess (issue 11)."""
    import functools
    import inspect

    @functools.wraps(read)
    def wrapper(*args, **kwargs):
        try:
            return read(*args, **kwargs)
        except _disconnections() as exc:
            from shared import log
            log.get("db").warning("db.read_retried", read=read.__qualname__,
                                  error=str(exc).strip()[:200])
            return read(*args, **kwargs)
    # nameko checks an RPC's arguments against the signature it sees: keep the read's.
    wrapper.__signature__ = inspect.signature(read)
    return wrapper
