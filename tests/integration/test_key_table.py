"""The key table of a service is created by whichever call comes first: the directory's
consumer, an RPC's token check, or a second instance of the service. Two concurrent
CREATE TABLE IF NOT EXISTS fail one of them on pg_type's unique key, so a creator takes
an advisory lock first, and one that comes while another is creating waits for it."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.registry.application import Registry
from shared import directory

DDL = ("CREATE TABLE IF NOT EXISTS registry.operator_keys (operator_id text PRIMARY KEY, "
       "entry jsonb NOT NULL, version int NOT NULL)")


@pytest.fixture(scope="module")
def registry(environment):
    config, _ = environment
    app = Registry(config)
    yield app
    app.close()


def test_a_first_call_while_another_instance_creates_the_table_waits_for_it(environment,
                                                                            registry):
    config, _ = environment
    datastore = registry.recorder.datastore
    with datastore.transaction(commit=True) as cur:
        cur.execute("DROP TABLE IF EXISTS registry.operator_keys")
    with ThreadPoolExecutor(1) as thread:
        with datastore.transaction(commit=True) as other:  # another instance, mid-creation
            other.execute("SELECT pg_advisory_xact_lock(hashtext('registry.operator_keys'))")
            other.execute(DDL)
            first = thread.submit(directory.KeyTable(registry, config).applied)
            with pytest.raises(TimeoutError):  # it has reached the database and waits
                first.result(timeout=0.5)
        assert first.result(timeout=30) == 0  # once the other's table is committed
