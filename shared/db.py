"""PostgreSQL: the database, roles, schemas and event tables are the provisioning's
(services/provision.py); a service only checks they are there, with a clear message when
they are not, since as its own role it may not create them."""
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
