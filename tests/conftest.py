import pytest

from tests import support
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
    finally:
        c.destroy()


@pytest.fixture
def own_cluster():
    """A cluster of a test's own, for tests that kill and restart services."""
    c = Cluster().create()
    try:
        yield c
    finally:
        c.destroy()


@pytest.fixture(scope="session", autouse=True)
def events_keep_their_contract():
    """Every event a test cluster published validates against its published JSON Schema
    (issue 12): each cluster reads back its replayable log when it is destroyed
    (Cluster.destroy); what broke a schema fails the session here, at its end."""
    yield
    problems = support.CONTRACT_PROBLEMS
    assert not problems, "events that break their schema:\n" + "\n".join(problems[:30])
