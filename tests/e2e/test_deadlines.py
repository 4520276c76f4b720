"""Deadlines fire exactly once: two instances of decisions sweeping at once, one of them
killed while they do (issue 5)."""
import pytest

from tests import factories
from tests.e2e import flow
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def test_two_decisions_instances_fire_every_deadline_exactly_once(own_cluster, tmp_path):
    cluster = own_cluster.start().open_campaign()
    cluster.start("decisions", instance="-2")
    rows = [factories.institution(4000 + i, cohort=2020 + i % 2, city="140900")
            for i in range(40)]
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, rows)
    flow.self_assess(cluster, tmp_path, rows, "city-140900")
    flow.clock(cluster, "2023-09-20")
    flow.score(cluster, tmp_path, {r.uscc: 70 for r in rows}, "city-140900")
    for row in rows:
        assert flow.verdict(cluster, row.uscc)["deadline"] == "2023-11-20"

    flow.clock(cluster, "2024-01-01")
    # Kill one instance while both sweep; the other finishes the work.
    wait_for(lambda: cluster.sql("SELECT count(*) FROM decisions.decisions_events "
                                 "WHERE topic LIKE '%.DeadlinePassed'")[0][0] > 0,
             interval=0.05, what="the sweep to start")
    cluster.kill("decisions")
    wait_for(lambda: cluster.sql("SELECT count(*) FROM decisions.decisions_events "
                                 "WHERE topic LIKE '%.DeadlinePassed'")[0][0] >= len(rows),
             timeout=60, what="every deadline to fire")
    cluster.start("decisions")  # a restart sweeps again and must find nothing to do
    for row in rows:
        assert flow.verdict(cluster, row.uscc, "终止备案")["clauses"] == ["四(二)"]
    per_case = cluster.sql(
        "SELECT originator_id, count(*) FILTER (WHERE topic LIKE '%.DeadlinePassed'),"
        " count(*) FILTER (WHERE topic LIKE '%.Decided') FROM decisions.decisions_events"
        " WHERE topic LIKE '%Case.%' GROUP BY originator_id")
    assert len(per_case) == len(rows)
    # Exactly one deadline and two verdicts (rectify, then terminate) per case.
    assert {(fired, decided) for _, fired, decided in per_case} == {(1, 2)}
