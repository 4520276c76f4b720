"""Backup and restore (issue 11): a backup taken mid-campaign, restored into a fresh
database and virtual host, passes `replay verify` and `audit verify`; the services resume
from their recorded positions, decide nothing again, and the campaign goes on.
Institution numbers 9070-9089."""
import pytest

from tests import factories
from tests.chaos.restore import backup_and_restore
from tests.e2e import flow

pytestmark = pytest.mark.e2e


def test_a_backup_restored_into_a_fresh_database_resumes_without_deciding_again(
        own_cluster, tmp_path):
    cluster = own_cluster
    cluster.start().open_campaign()
    rows = [factories.institution(9070 + i, cohort=2021, city="140600") for i in range(3)]
    flow.file(cluster, tmp_path, rows)
    flow.self_assess(cluster, tmp_path, rows, "city-140600")
    flow.clock(cluster, "2023-09-20")
    flow.score(cluster, tmp_path, {rows[0].uscc: 90, rows[1].uscc: 72, rows[2].uscc: 50},
               "city-140600")
    flow.clock(cluster, "2023-10-31")
    flow.verdict(cluster, rows[1].uscc, "暂停评价活动")
    first_name = cluster.name

    checks = backup_and_restore(cluster, str(tmp_path), log=lambda m: None)
    assert cluster.name != first_name
    assert checks == {"events before == after restore": True, "replay verify": True,
                      "audit verify": True}
    # The restored cluster goes on: the rectification deadline passes without a re-score.
    assert flow.verdict(cluster, rows[0].uscc)["outcome"] is not None
    flow.clock(cluster, "2024-01-01")
    flow.verdict(cluster, rows[1].uscc, "终止备案")
