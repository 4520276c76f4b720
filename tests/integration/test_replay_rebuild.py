"""Replay verification rebuilds the read tables in its own transactions (shared/replay.py,
issue 14): larger ones, allowed to sit idle longer and committed without waiting for the
log's flush, through `Projection.catch_up` with its own batch, settings and decoding. What
they rebuild must be what the projection's own catch-up builds, a row changed in the live
table must still be found, the settings must not outlive them, and the service's own
catch-up must keep its defaults."""
import datetime

import pytest

from shared import replay
from shared.projection import Projection
from shared.metadata import caused_by
from services.registry.application import Filings, Registry
from tests import factories


@pytest.fixture(scope="module")
def registry(environment):
    config, _ = environment
    app = Registry(config)
    app.attach_projections([Filings])
    try:
        with caused_by("province", "province", business_date=datetime.date(2023, 8, 28)):
            rows = [factories.institution(8900 + i) for i in range(7)]
            app.import_roster([r.to_dict() for r in rows])
            app.import_roster([dict(rows[0].to_dict(), name="改名后的学校")])
        app.projections["filings"].catch_up()
        yield app
    finally:
        app.close()


def _setting(app, name):
    with app.recorder.datastore.transaction(commit=False) as cur:
        cur.execute(f"SHOW {name}")
        return list(cur.fetchone().values())[0]


def _watch(monkeypatch):
    """(events, settings) of each transaction that applies events to the filings."""
    seen = []
    apply_all = Filings.apply_all

    def watched(self, cur, events):
        cur.execute("SELECT current_setting('idle_in_transaction_session_timeout') AS idle, "
                    "current_setting('synchronous_commit') AS sync")
        seen.append((len(events), dict(cur.fetchone())))
        return apply_all(self, cur, events)
    monkeypatch.setattr(Filings, "apply_all", watched)
    return seen


@pytest.mark.parametrize("batch", [1, 3, 10000])
def test_the_rebuilt_tables_agree_whatever_the_transactions_hold(registry, batch,
                                                                 monkeypatch):
    monkeypatch.setattr(replay, "BATCH", batch)
    seen = _watch(monkeypatch)
    registry._decoded.clear()
    run = replay.start(registry)["run"]
    step = replay.step(registry, run, limit=5)
    assert step["applied"] >= 5 and step["position"] == step["applied"]
    while replay.step(registry, run)["applied"]:
        pass
    # Decoded by the mapper: the old events did not go into what app.decoded holds.
    assert not registry._decoded
    assert replay.finish(registry, run) == []
    assert seen and max(n for n, _ in seen) <= batch
    assert replay.IDLE_ALLOWED == "120s"
    assert {s["idle"] for _, s in seen} == {"2min"}  # as PostgreSQL shows 120 s
    assert {s["sync"] for _, s in seen} == {"off"}
    # SET LOCAL: the pooled connections go back with their own settings.
    assert _setting(registry, "synchronous_commit") == "on"
    assert _setting(registry, "idle_in_transaction_session_timeout") != "2min"


def test_the_services_own_catch_up_keeps_its_defaults(registry, monkeypatch):
    """Batches of `Projection.BATCH` events, the pool's own settings, and the events
    through `app.decoded` (where the outbox left those it has just decoded)."""
    monkeypatch.setattr(Projection, "BATCH", 2)
    seen = _watch(monkeypatch)
    decoded = []
    monkeypatch.setattr(registry, "decoded",
                        lambda n: decoded.append(n.id) or Registry.decoded(registry, n))
    before = registry.recorder.max_notification_id()
    with caused_by("province", "province", business_date=datetime.date(2023, 8, 29)):
        registry.import_roster([factories.institution(8950 + i).to_dict() for i in range(3)])
    new = registry.recorder.max_notification_id() - before
    assert registry.projections["filings"].catch_up() == new >= 3
    assert decoded and set(decoded) <= set(range(before + 1, before + new + 1))
    assert len(seen) >= 2 and max(n for n, _ in seen) <= 2
    assert {s["sync"] for _, s in seen} == {"on"}
    assert "2min" not in {s["idle"] for _, s in seen}


def test_a_row_changed_in_the_live_table_is_found(registry):
    table = registry.projections["filings"].table("current")
    run = replay.start(registry)["run"]
    while replay.step(registry, run)["applied"]:
        pass
    with registry.recorder.datastore.transaction(commit=True) as cur:
        cur.execute(f"UPDATE {table} SET name = 'altered' WHERE name = '改名后的学校'")
    try:
        differences = replay.finish(registry, run)
        assert [(d["table"], d["rows"], d["side"]) for d in differences] == [
            (table, 1, "only in the live table"), (table, 1, "only in the rebuilt table")]
    finally:
        with registry.recorder.datastore.transaction(commit=True) as cur:
            cur.execute(f"UPDATE {table} SET name = '改名后的学校' WHERE name = 'altered'")
