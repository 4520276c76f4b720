"""Start the local cluster afresh (development and the demo only): drop the database and
delete the queues, so no message of an old run is delivered into the new one.

Refuses unless the services are stopped (`make down`) and --yes is given."""
import sys

import shared  # noqa: F401 - quiets eventlet's notice
import psycopg2
from kombu import Connection

from shared import config as config_module

QUEUES = [f"{s}.{q}" for s in ("registry", "evaluation", "decisions", "notices")
          for q in ("inbox", "dead-letter", "directory")]


def main(argv):
    if "--yes" not in argv:
        print("usage: python -m services.reset --yes   (drops the database "
              "and the queues of the local cluster)", file=sys.stderr)
        return 2
    config = config_module.load()
    conn = psycopg2.connect(config.admin_dsn("postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                    (config.pg_dbname,))
        if cur.fetchone()[0]:
            print(f"reset: {config.pg_dbname} is in use; stop the services first (make down)",
                  file=sys.stderr)
            return 1
        cur.execute(f'DROP DATABASE IF EXISTS "{config.pg_dbname}"')
    conn.close()
    # The queues are deleted as a service's user (which may configure them), provisioned
    # first so that it exists on a fresh machine.
    from services import provision
    provision.provision_broker(config)
    with Connection(config.amqp_uri_for("registry")) as amqp:
        channel = amqp.channel()
        for name in QUEUES:
            channel.queue_delete(name)
    print(f"reset: dropped database {config.pg_dbname} and queues {', '.join(QUEUES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
