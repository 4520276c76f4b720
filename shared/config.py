"""Configuration from environment variables, with defaults for the local machine."""
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    amqp_uri: str
    pg_host: str
    pg_port: str
    pg_user: str
    pg_password: str
    pg_dbname: str
    exchange: str
    operators_file: str
    operator_secret: str
    allow_simulated_clock: bool
    http_port: int
    log_json: bool | None

    @property
    def nameko(self):
        """The nameko container config: one place so every process talks to the same broker."""
        from shared import bus  # noqa: F401 - registers the cloudevents serializer
        return {"AMQP_URI": self.amqp_uri, "max_workers": 10, "serializer": "json",
                "ACCEPT": ["json", "cloudevents"],
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{self.http_port}"}

    def pg_env(self, schema):
        """eventsourcing's PostgreSQL settings; every service keeps its events in its own schema."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.pg_dbname,
            "POSTGRES_HOST": self.pg_host,
            "POSTGRES_PORT": self.pg_port,
            "POSTGRES_USER": self.pg_user,
            "POSTGRES_PASSWORD": self.pg_password,
            "POSTGRES_SCHEMA": schema,
            # Small pools: PostgreSQL's default of 100 connections is shared by every
            # service of every cluster on the machine (tests run several at once).
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_POOL_MAX_OVERFLOW": "3",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_PRE_PING": "yes",
        }

    def dsn(self, dbname=None):
        from psycopg2.extensions import make_dsn
        params = {"host": self.pg_host, "port": self.pg_port, "user": self.pg_user,
                  "dbname": dbname or self.pg_dbname}
        if self.pg_password:  # an empty "password=" would swallow the next parameter
            params["password"] = self.pg_password
        return make_dsn(**params)


def _flag(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.lower() in ("1", "yes", "true", "on")


def load():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return Config(
        amqp_uri=os.environ.get("PINGGU_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
        pg_host=os.environ.get("PINGGU_PG_HOST", "127.0.0.1"),
        pg_port=os.environ.get("PINGGU_PG_PORT", "5432"),
        pg_user=os.environ.get("PINGGU_PG_USER", "postgres"),
        pg_password=os.environ.get("PINGGU_PG_PASSWORD", ""),
        pg_dbname=os.environ.get("PINGGU_PG_DBNAME", "pinggu"),
        exchange=os.environ.get("PINGGU_EXCHANGE", "pinggu.events"),
        operators_file=os.environ.get("PINGGU_OPERATORS_FILE",
                                      os.path.join(here, "etc", "operators.json")),
        # The development secret; production sets its own.
        operator_secret=os.environ.get("PINGGU_OPERATOR_SECRET", "pinggu-development-secret"),
        allow_simulated_clock=_flag("PINGGU_ALLOW_SIMULATED_CLOCK", True),
        http_port=int(os.environ.get("PINGGU_HTTP_PORT", "8023")),
        log_json=None if os.environ.get("PINGGU_LOG_JSON") in (None, "")
        else _flag("PINGGU_LOG_JSON", True),
    )
