"""Integration tests: the applications in this process, on the machine's real PostgreSQL
and RabbitMQ, each module in a database and a vhost of its own."""
import os

import pytest

from tests.support import Cluster


@pytest.fixture(scope="module")
def environment():
    cluster = Cluster().create()
    saved = {k: os.environ.get(k) for k in cluster.env if k.startswith("PINGGU_")}
    os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("PINGGU_")})
    try:
        from shared import config
        yield config.load(), cluster
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        cluster.destroy()
