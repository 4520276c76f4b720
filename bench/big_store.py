"""A large event store built in this process, for the `replay-verify` benchmark
(bench/README.md).

Building 100,000 events through the running services over RabbitMQ takes minutes, so the
four services' own eventsourcing applications are run here instead, on the cluster's
database, and their events are handed downstream the way the outbox and the inboxes do
it: each new notification of a service becomes `integration.to_cloudevent(...)` and goes
to the consumers' `on_upstream`, under the cause the inbox binds (actor `system`, the
envelope's id as causation, the business date). Operator commands (roster import,
campaign, forms) run under the cause `bench`/`system` with the business date. The
decisions' deadline sweep is run the way the service's tick runs it. At the end each
service's outbox position is recorded as published, as the outbox would after publishing
what was pumped here, so the services started on the store do not publish it all again.

The applications' projections are created (as shared.nameko_ext.EventStore.setup does) but
only caught up where the applications themselves catch them up; the running services
catch up the rest.
"""
import contextlib
import datetime as dt
import os
import time

from common import COHORTS, PROVINCE, progress

OPENED_ON = dt.date(2023, 8, 28)     # the campaign is opened, rosters imported, self-assessed
SCORED_ON = dt.date(2023, 10, 31)    # the score sheets
SERVICES = ("registry", "evaluation", "decisions", "notices")
# Who consumes whose events (the inboxes' bindings; on_upstream ignores the other types).
CONSUMERS = {"registry": ("evaluation", "decisions", "notices"),
             "evaluation": ("decisions",), "decisions": ("notices",), "notices": ()}
BATCH = 500
FIRST_SEED = 2023


@contextlib.contextmanager
def cluster_environment(cluster):
    """os.environ with the cluster's PINGGU_* settings, restored afterwards."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("PINGGU_")})
    os.environ.pop("PINGGU_OPERATOR", None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Store:
    """The four applications of a cluster, in this process."""

    def __init__(self, cluster):
        from shared import config
        from services.decisions.application import Cases, Decisions
        from services.evaluation.application import CaseFiles, Evaluation
        from services.notices.application import Listing, Notices
        from services.registry.application import Filings, Registry
        with cluster_environment(cluster):
            self.config = config.load()
            classes = {"registry": (Registry, Filings), "evaluation": (Evaluation, CaseFiles),
                       "decisions": (Decisions, Cases), "notices": (Notices, Listing)}
            self.apps = {}
            for service, (app_class, projection_class) in classes.items():
                app = app_class(self.config)
                app.attach_projections([projection_class])
                self.apps[service] = app
        self.pumped = {s: 0 for s in SERVICES}   # the "outbox" position of each service
        self.deliveries = 0                       # on_upstream calls
        self.processed = 0                        # ... that recorded something
        self._last_report = 0

    def close(self):
        for app in self.apps.values():
            with contextlib.suppress(Exception):
                app.close()

    # -- counts -------------------------------------------------------------------
    def counts(self):
        return {s: app.recorder.max_notification_id() or 0 for s, app in self.apps.items()}

    def total(self):
        return sum(self.counts().values())

    def report(self, what, force=False):
        total = self.total()
        if force or total - self._last_report >= 5000:
            self._last_report = total
            counts = self.counts()
            progress(f"replay-verify: build: {total} events so far ({what}): "
                     + ", ".join(f"{s} {n}" for s, n in counts.items()))

    # -- the outbox and the inboxes, in this process ---------------------------------
    def pump(self, today):
        """Hand every new event to its consumers, until no service has anything new."""
        from shared import integration
        from shared.metadata import caused_by
        moved = True
        while moved:
            moved = False
            for service in SERVICES:
                app = self.apps[service]
                while True:
                    batch = app.recorder.select_notifications(self.pumped[service] + 1, BATCH)
                    if not batch:
                        break
                    moved = True
                    for notification in batch:
                        envelope = integration.to_cloudevent(
                            service, notification.id, app.mapper.to_domain_event(notification))
                        for consumer in CONSUMERS[service]:
                            with caused_by("system", "system", causation_id=envelope["id"],
                                           business_date=today):
                                target = self.apps[consumer]
                                done = target.on_upstream(envelope, today) \
                                    if consumer == "decisions" else target.on_upstream(envelope)
                            self.deliveries += 1
                            self.processed += bool(done)
                        self.pumped[service] = notification.id
                    self.report(f"pumping {service}'s events downstream")

    def sweep(self, today):
        """The decisions' deadline sweep, run until it fires nothing (as the tick would)."""
        fired = 0
        while True:
            n = self.apps["decisions"].sweep(today)
            fired += n
            if not n:
                return fired

    def mark_published(self):
        """Record each service's outbox position at what was pumped here."""
        from shared.outbox import Outbox
        for service, app in self.apps.items():
            head = app.recorder.max_notification_id() or 0
            if service != "notices" and head != self.pumped[service]:
                raise RuntimeError(f"{service}: {head} events but {self.pumped[service]} "
                                   "pumped")
            outbox = Outbox(app, self.config)
            outbox.position()              # creates the position table
            outbox._record_position(head)  # noqa: SLF001 - the outbox's own bookkeeping
            outbox.close()

    # -- commands -------------------------------------------------------------------
    def open_campaign(self, today):
        from services.evaluation import campaign
        from shared.metadata import caused_by
        with caused_by("bench", "system", business_date=today):
            return self.apps["evaluation"].open_campaign(
                campaign.validate(campaign.DEFAULT_2023))

    def import_roster(self, rows, today):
        from shared.metadata import caused_by
        with caused_by("bench", "system", business_date=today):
            return self.apps["registry"].import_roster([row.to_dict() for row in rows])

    def self_assess(self, rows, today, chunk=250):
        """One self-assessment per in-scope institution: staff counts, a self score, and
        activity in 2021 and 2022 on the first occupation and level of its scope."""
        from services.evaluation.forms import SelfAssessmentRow
        forms = []
        for i, row in enumerate(rows):
            occupation, levels = row.scope[0]
            activity = [{"year": year, "occupation": occupation, "level": levels[0],
                         "assessed": 40, "passed": 36, "certified": 36,
                         "row_number": 2 * i + k + 2} for k, year in enumerate((2021, 2022))]
            forms.append(SelfAssessmentRow(i + 2, row.uscc, 12, 3, 5, 85, activity))
        return self._submit("submit_self_assessments", forms, today, chunk, today)

    def score(self, rows, today, chunk=250):
        """One score sheet row per in-scope institution: every area at 85 % of its
        maximum, every fourth at 72 % (rectify for 2021, terminate for 2020)."""
        from decimal import Decimal
        from services.evaluation.forms import ScoreRow
        from services.evaluation.rubric import DEFAULT_RUBRIC
        from common import area_scores
        high, low = area_scores(Decimal("0.85")), area_scores(Decimal("0.72"))
        forms = []
        for i, row in enumerate(rows):
            areas = low if i % 4 == 0 else high
            forms.append(ScoreRow(i + 2, row.uscc, dict(areas),
                                  DEFAULT_RUBRIC.score(areas).to_dict(), "评估员甲",
                                  today.isoformat()))
        return self._submit("submit_scores", forms, today, chunk)

    def _submit(self, method, forms, today, chunk, *extra):
        from shared.metadata import caused_by
        from shared.operators import Operator
        operator = Operator("province", "province", PROVINCE)
        done = 0
        for start in range(0, len(forms), chunk):
            part = forms[start:start + chunk]
            with caused_by("bench", "system", business_date=today):
                answer = getattr(self.apps["evaluation"], method)(
                    operator, f"bench-{method}-{start // chunk + 1}.xlsx", part, *extra)
            done += answer.get("self_assessed", answer.get("scored", 0))
            self.report(method)
        return done


def rosters(target_institutions, first_seed=FIRST_SEED):
    """Sample provinces of consecutive seeds, without a USCC seen in an earlier seed, until
    `target_institutions` rows. Returns (rows, seeds used, duplicates skipped)."""
    from services.registry.sample import sample_province
    seen, rows, seeds, skipped = set(), [], [], 0
    seed = first_seed
    while len(rows) < target_institutions:
        province = sample_province(seed)
        seeds.append(seed)
        for row in province:
            if row.uscc in seen:
                skipped += 1
                continue
            seen.add(row.uscc)
            rows.append(row)
        seed += 1
    return rows, seeds, skipped


def build(cluster, target_events, events_per_institution=9.4):
    """At least `target_events` events in the four stores, through the campaign of
    several sample provinces. Returns a description of what was built."""
    from shared.clock import Clock
    start = time.perf_counter()
    store = Store(cluster)
    try:
        # The simulated date starts where the store's story does, before any case exists
        # (the wall clock is years later), so that moving it to the scores goes forwards;
        # moved as the decisions service, which keeps the cluster's clock.
        clock = Clock(cluster.config(role="decisions"))
        clock.set(OPENED_ON, "bench", cases_exist=False)
        # Enough provinces for the target, by an estimate per filed institution (about
        # 9.5 events: in scope ~12.5, out of scope ~6); the benchmark reports it if short.
        wanted = int(target_events / events_per_institution) + 1
        rows, seeds, skipped = rosters(wanted)
        in_scope = [r for r in rows if r.cohort in COHORTS]
        progress(f"replay-verify: build: {len(rows)} institutions ({len(in_scope)} in scope) "
                 f"from sample provinces of seeds {seeds[0]}..{seeds[-1]} "
                 f"({skipped} USCCs already used by an earlier seed skipped)")
        store.open_campaign(OPENED_ON)
        store.pump(OPENED_ON)
        imported = store.import_roster(rows, OPENED_ON)
        if imported["filed"] != len(rows):
            raise RuntimeError(f"roster import of {len(rows)} rows answered {imported}")
        store.report("roster imported", force=True)
        store.pump(OPENED_ON)
        self_assessed = store.self_assess(in_scope, OPENED_ON)
        store.pump(OPENED_ON)
        fired = store.sweep(OPENED_ON)
        store.pump(OPENED_ON)
        store.report(f"{self_assessed} self-assessed on {OPENED_ON}", force=True)
        # The business date moves on (the sweep fires what is due), then the scores.
        fired += store.sweep(SCORED_ON)
        store.pump(SCORED_ON)
        scored = store.score(in_scope, SCORED_ON)
        store.pump(SCORED_ON)
        fired += store.sweep(SCORED_ON)
        store.pump(SCORED_ON)
        store.report(f"{scored} scored on {SCORED_ON}", force=True)
        store.mark_published()
        clock.set(SCORED_ON, "bench")
        counts = store.counts()
        seconds = time.perf_counter() - start
        total = sum(counts.values())
        progress(f"replay-verify: build: {total} events in {seconds:.1f} s "
                 f"({total / seconds:.0f} events/s in process): "
                 + ", ".join(f"{s} {n}" for s, n in counts.items()))
        return {"institutions": len(rows), "in_scope": len(in_scope), "seeds": seeds,
                "duplicate_usccs_skipped": skipped, "self_assessed": self_assessed,
                "scored": scored, "deadlines_fired": fired, "events": counts,
                "events_total": total, "build_s": seconds,
                "upstream_deliveries": store.deliveries,
                "upstream_processed": store.processed, "business_date": SCORED_ON}
    finally:
        store.close()
