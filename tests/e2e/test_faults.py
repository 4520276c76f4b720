"""Faults (issue 11) end to end: a re-sent form changes nothing, and reads survive a
database blip. Institution numbers 9000-9099."""
import random
import threading
import time

import pytest

from tests import factories
from tests.e2e import flow

pytestmark = pytest.mark.e2e


def evaluation_events(cluster):
    # The facts: a command's journal entry (shared.commands) acknowledges a command and
    # changes no state.
    return cluster.sql("SELECT count(*) FROM evaluation.evaluation_events "
                       "WHERE topic NOT LIKE %s", ("%CommandJournal%",))[0][0]


def test_the_same_score_sheet_twice_writes_no_new_evaluation_event(cluster, tmp_path):
    rows = [factories.institution(9001 + i, cohort=2020 + i % 2, city="140500")
            for i in range(3)]
    flow.clock(cluster, "2023-08-28")
    flow.file(cluster, tmp_path, rows)
    flow.self_assess(cluster, tmp_path, rows, "city-140500")
    flow.clock(cluster, "2023-09-20")
    sheet = factories.score_sheet(tmp_path / "s.xlsx", {r.uscc: 80 + i for i, r in
                                                        enumerate(rows)})
    first = cluster.cli_json("submit", "score-sheet", sheet, operator="city-140500")
    before = evaluation_events(cluster)
    again = cluster.cli_json("submit", "score-sheet", sheet, operator="city-140500")
    sa = flow.self_assess(cluster, tmp_path, rows, "city-140500")
    assert (first["scored"], first["unchanged"]) == (3, 0)
    assert (again["scored"], again["unchanged"]) == (0, 3)
    assert "0 self_assessed, 3 unchanged" in sa[1], sa
    assert evaluation_events(cluster) == before
    assert cluster.cli_json("case", "show", rows[0].uscc)["score"]["kind"] == "initial"


def test_settle_and_reads_succeed_across_terminated_backends(own_cluster, tmp_path):
    """Backends terminated again and again while `pinggu settle` and `case show` run: a read
    that meets a broken connection is retried, so neither needs a manual retry."""
    cluster = own_cluster
    cluster.start().open_campaign()
    rows = [factories.institution(9050 + i, cohort=2021, city="140500") for i in range(3)]
    flow.file(cluster, tmp_path, rows)
    cluster.cli("settle", check=True)
    stop, terminated = threading.Event(), []

    def terminate_now_and_then():
        rng = random.Random(11)
        while not stop.wait(rng.uniform(0.05, 0.4)):
            terminated.append(cluster.terminate_backends())
    terminator = threading.Thread(target=terminate_now_and_then, daemon=True)
    terminator.start()
    failures = []
    try:
        for _ in range(8):
            rc, out, err = cluster.cli("settle", "--timeout", "60")
            if rc != 0:
                failures.append(err[-300:])
            rc, out, err = cluster.cli("case", "show", rows[0].uscc, "--json",
                                       operator="province")
            if rc != 0:
                failures.append(err[-300:])
    finally:
        stop.set()
        terminator.join()
    assert sum(terminated) > 0
    assert not failures, failures


def test_services_started_from_a_helper_thread_outlive_that_thread(own_cluster):
    """PR_SET_PDEATHSIG is tied to the thread that forked: the harness starts services from
    a thread of its own, so a restart from a short-lived helper thread keeps them alive."""
    helper = threading.Thread(target=own_cluster.start)
    helper.start()
    helper.join()
    time.sleep(1.0)
    assert {key: p.poll() for key, p in own_cluster.processes.items()} == {
        key: None for key in own_cluster.processes}
    own_cluster.wait_healthy()
