"""Reads survive a database blip (issue 11): a pooled connection whose backend was
terminated is replaced, and the read that met it runs once more instead of failing."""
import pytest
from eventsourcing.persistence import InterfaceError, OperationalError

from services.evaluation.application import CaseFiles, Evaluation
from shared import db


@pytest.fixture(scope="module")
def evaluation(environment):
    """The application without the pool's pre-ping (eventsourcing's default): a dead
    connection is then met by the read itself, as it is when a backend dies between the
    ping and the query."""
    config, _ = environment
    Evaluation(config).close()  # checks the provisioned schema and tables
    env = dict(config.pg_env("evaluation", create_table=False), POSTGRES_PRE_PING="no")
    app = Evaluation(config, env=env)
    app.attach_projections([CaseFiles])
    yield app
    app.close()


def test_a_read_on_a_terminated_backend_is_retried_once(environment, evaluation):
    _, cluster = environment
    projection = evaluation.projections["casefiles"]
    assert projection.position() == 0  # a connection now waits in the pool
    assert cluster.terminate_backends() >= 1
    with pytest.raises((InterfaceError, OperationalError)):
        type(projection).position.__wrapped__(projection)  # the read as it was
    projection.position()  # the failed read dropped its connection: warm the pool again
    assert cluster.terminate_backends() >= 1
    assert projection.position() == 0


def test_a_read_that_fails_twice_raises_and_other_errors_are_not_retried():
    calls = []

    @db.read_retried
    def broken():
        calls.append(1)
        raise OperationalError("server closed the connection unexpectedly")
    with pytest.raises(OperationalError):
        broken()
    assert len(calls) == 2

    @db.read_retried
    def wrong():
        calls.append(1)
        raise ValueError("not a connection error")
    with pytest.raises(ValueError):
        wrong()
    assert len(calls) == 3
