import pytest

from tests.support import Cluster, remove_own_accounts, remove_stale_clusters


def pytest_sessionstart(session):
    remove_stale_clusters()


def pytest_sessionfinish(session):
    remove_own_accounts()


@pytest.fixture(scope="session")
def cluster():
    """The four services, started once for the session's end-to-end tests."""
    c = Cluster().create()
    try:
        c.start().open_campaign()
        yield c
        _check_contract(c)
    finally:
        c.destroy()


@pytest.fixture
def own_cluster():
    """A cluster of a test's own, for tests that kill and restart services."""
    c = Cluster().create()
    try:
        yield c
        _check_contract(c)
    finally:
        c.destroy()


def _check_contract(cluster):
    """Every event the cluster published validates against its published JSON Schema
    (issue 12): read back from the replayable log when the cluster's tests are done."""
    problems = cluster.invalid_events()
    assert not problems, "events that break their schema:\n" + "\n".join(problems[:30])
