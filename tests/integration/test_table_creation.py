"""A service creates its own tables (the key table, the projections' and the outbox's) by
whichever call comes first: the directory's consumer, an RPC's token check, a worker, or a
second instance of the service. Two concurrent CREATE TABLE IF NOT EXISTS fail one of them
on pg_type's unique key, so a creator takes the schema's DDL lock first
(`db.creating_tables`), and one that comes while another is creating waits for it."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.registry.application import Filings, Registry
from shared import db, directory

CREATORS = {
    "operator_keys": ("operator_id text PRIMARY KEY, entry jsonb NOT NULL, version int NOT NULL",
                      lambda app, config: directory.KeyTable(app, config).applied()),
    "projection_position": ("name text PRIMARY KEY, position bigint NOT NULL",
                            lambda app, config: Filings(app).create_tables()),
}


@pytest.fixture(scope="module")
def registry(environment):
    config, _ = environment
    app = Registry(config)
    yield app
    app.close()


@pytest.mark.parametrize("table", sorted(CREATORS))
def test_a_first_call_while_another_instance_creates_the_table_waits_for_it(environment,
                                                                            registry, table):
    config, _ = environment
    columns, first_call = CREATORS[table]
    datastore = registry.recorder.datastore
    with datastore.transaction(commit=True) as cur:
        cur.execute(f"DROP TABLE IF EXISTS registry.{table}")
    with ThreadPoolExecutor(1) as thread:
        with datastore.transaction(commit=True) as other:  # another instance, mid-creation
            db.creating_tables(other, "registry")
            other.execute(f"CREATE TABLE IF NOT EXISTS registry.{table} ({columns})")
            first = thread.submit(first_call, registry, config)
            with pytest.raises(TimeoutError):  # it has reached the database and waits
                first.result(timeout=0.5)
        first.result(timeout=30)  # once the other's table is committed: no error
    with datastore.transaction(commit=False) as cur:
        cur.execute(f"SELECT to_regclass('registry.{table}') AS found")
        assert cur.fetchone()["found"] is not None
