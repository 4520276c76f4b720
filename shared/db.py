"""PostgreSQL set-up the event stores need before eventsourcing creates its tables."""
import psycopg2
from psycopg2 import sql


def ensure_database(config):
    """Create the cluster's database if missing, so a fresh machine needs no manual step."""
    conn = psycopg2.connect(config.dsn("postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (config.pg_dbname,))
            if cur.fetchone() is None:
                try:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(
                        sql.Identifier(config.pg_dbname)))
                except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    pass  # another service, starting at the same moment, created it
    finally:
        conn.close()


def ensure_schema(config, schema):
    conn = psycopg2.connect(config.dsn())
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            try:
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            except psycopg2.errors.UniqueViolation:
                pass  # concurrent CREATE SCHEMA IF NOT EXISTS races on the catalog
    finally:
        conn.close()



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
