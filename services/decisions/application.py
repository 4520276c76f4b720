"""The decisions' application: verdicts (四, 六(二)) on the facts noted from upstream
(inbound.py), deadlines swept, and the queries that explain them. The read table of cases
and deadlines is in projections.py."""
import threading

import psycopg2
import psycopg2.extras

from shared import batch, bulk, db, log, metadata
from shared.application import ServiceApplication, case_id
from services.decisions.domain import CLOSED, RECTIFYING, Campaign, Case
from services.decisions.inbound import Inbound
from services.decisions.projections import Cases  # noqa: F401  (the service attaches it)


_CAMPAIGN_NOTED = "services.decisions.domain:Campaign.Noted"


class Decisions(Inbound, ServiceApplication):
    name = "decisions"
    _reader = None  # see _read_alone

    def campaign(self):
        """The current campaign. Called for every upstream event, so it reads the latest
        campaign's id only, and keeps the (never changing) campaigns in memory; the
        projection is caught up only while no campaign is known. A campaign opened earlier
        in the batch being handled is not committed yet: the batch has it."""
        in_batch = batch.current(self)
        if in_batch is None:
            return self._committed_campaign()
        opened = in_batch.collected(Campaign)
        return opened[-1] if opened else \
            in_batch.remembered("campaign", self._committed_campaign)

    def case_and_campaign(self, aggregate_id):
        """(the case or None, a function giving the current campaign).

        An upstream event alone (no batch) reads both in one statement, one round trip
        (issue 14, latency at rest: they were two reads from the pool, each a pre-ping, a
        BEGIN and a ROLLBACK besides its query, and on a loaded machine every round trip
        waits for a core); the campaign is the one `campaign()` would read."""
        if batch.current(self) is not None or not hasattr(self.recorder, "datastore"):
            return self.get_or_none(aggregate_id), self.campaign
        rows = self._read_alone(
            "SELECT originator_id, originator_version, topic, state, NULL::uuid AS "
            f"campaign_id FROM {self.recorder.events_table_name} WHERE originator_id = %s "
            "UNION ALL (SELECT NULL, NULL, NULL, NULL, campaign_id FROM "
            "decisions.cases_campaigns ORDER BY position DESC LIMIT 1) "
            "ORDER BY originator_version", (aggregate_id,))
        campaign = rows.pop() if rows and rows[-1]["originator_id"] is None else None
        case = bulk.aggregate_of(self, rows)
        if campaign is None:  # none projected yet: as campaign() finds it
            return case, self._committed_campaign
        return case, lambda: self._campaign_by_id(campaign["campaign_id"])

    def _read_alone(self, statement, params):
        """The rows of one read-only statement, on a connection of its own in autocommit:
        one round trip, where a checkout of the pool costs four. A connection found
        broken (PostgreSQL restarted) is opened again for one more try (db.read_retried),
        as the pool's pre-ping would."""
        # The inbox reads one event at a time; the lock is for any other green thread.
        with self.__dict__.setdefault("_reader_lock", threading.Lock()):
            return self._query_alone(statement, params)

    @db.read_retried
    def _query_alone(self, statement, params):
        try:
            if self._reader is None or self._reader.closed:
                self._reader = psycopg2.connect(self.config.dsn(role=self.schema),
                                                cursor_factory=psycopg2.extras.DictCursor)
                self._reader.autocommit = True
            with self._reader.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall()
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            if self._reader is not None:
                self._reader.close()  # psycopg2's close does not raise
            self._reader = None
            raise

    def close(self):
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        super().close()

    def _committed_campaign(self):
        row = self._latest_campaign()
        if row is None and hasattr(self, "projections"):
            self.projections["cases"].catch_up()
            row = self._latest_campaign()
        if row is None:
            return None
        return self._campaign_by_id(row["campaign_id"])

    def _campaign_by_id(self, aggregate_id):
        cache = self.__dict__.setdefault("_campaigns", {})
        if aggregate_id not in cache:
            cache[aggregate_id] = self.repository.get(aggregate_id)
        return cache[aggregate_id]

    def _latest_campaign(self):
        if not hasattr(self.recorder, "datastore"):
            # The in-memory store of unit tests has no read tables: the log says it.
            noted = self.recorder.select_notifications(1, 1_000_000,
                                                       topics=[_CAMPAIGN_NOTED])
            return {"campaign_id": noted[-1].originator_id} if noted else None
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT campaign_id FROM decisions.cases_campaigns "
                        "ORDER BY position DESC LIMIT 1")
            return cur.fetchone()

    # -- deadlines --------------------------------------------------------------------
    def sweep(self, today):
        """Bring every case whose time-driven facts changed up to `today` (issue 17): a
        legal registration lapsing, the jurisdiction's self-assessment deadline, a
        rectification deadline, a filing's extension and its end. Safe to run anywhere, any
        number of times: `Case.advance` is a no-op once a change has been dealt with, and
        two instances racing on one case meet optimistic concurrency, retry and find it
        done. The queries only find candidates; the case decides."""
        campaign = self.campaign()
        if campaign is None:
            return 0
        self.projections["cases"].catch_up()
        window_from, window_to = campaign.extension_window()
        due = {
            # A case rectified in time waits for its re-score, not for the sweep.
            "rectification": ("phase = %s AND deadline < %s AND (rectified_on IS NULL OR "
                              "rectified_on > deadline OR rectified_on < window_opened)",
                              (RECTIFYING, today)),
            "legal-registration": (
                "cohort = ANY(%s) AND COALESCE(status_legal_until, filing_legal_until) < %s "
                "AND legal_lapse_seen IS DISTINCT FROM "
                "COALESCE(status_legal_until, filing_legal_until) "
                "AND (class IS NULL OR class <> 'terminate')", (campaign.cohorts, today)),
            "extension": ("cohort = ANY(%s) AND extension_until IS NULL AND valid_until < %s "
                          "AND valid_until BETWEEN %s AND %s "
                          "AND (class IS NULL OR class <> 'terminate')",
                          (campaign.cohorts, today, window_from, window_to)),
            "extension-end": ("extension_until < %s AND extension_ended IS NULL", (today,)),
        }
        # 三(一): each jurisdiction's own self-assessment deadline.
        by = campaign.readings["self_assessment_due"]["by_jurisdiction"]
        groups = [("jurisdiction = %s", (j, campaign.self_assessment_due(j))) for j in by]
        groups.append(("NOT (jurisdiction = ANY(%s))", (list(by), campaign.self_assessment_due(
            None))))
        for n, (where_j, (j, deadline)) in enumerate(groups):
            if deadline >= today:
                continue
            due[f"self-assessment:{n}"] = (
                f"{where_j} AND cohort = ANY(%s) AND NOT excused AND NOT self_assessment_missed"
                " AND phase <> %s AND (self_assessed_on IS NULL OR self_assessed_on > %s)"
                " AND NOT (self_assessed AND self_assessed_on IS NULL)",
                (j, campaign.cohorts, CLOSED, deadline))
        fired = 0
        for kind, (where, params) in due.items():
            with self.recorder.datastore.transaction(commit=False) as cur:
                cur.execute(f"SELECT case_id FROM decisions.cases_current WHERE {where} "
                            "ORDER BY case_id LIMIT 500", params)
                ids = [row["case_id"] for row in cur.fetchall()]
            for aggregate_id in ids:
                with metadata.caused_by("system", "system", causation_id=f"deadline:{kind.split(':')[0]}",
                                        campaign=campaign.notice, business_date=today):
                    try:
                        fired += self.run_command(
                            lambda: self._fire(aggregate_id,
                                               lambda case: case.advance(today, campaign)))
                    except Exception:
                        # One case that fails must not hold up every other deadline; it is
                        # tried again on the next round.
                        log.get("sweep").exception("sweep.case_failed", kind=kind,
                                                   case=str(aggregate_id))
        return fired

    def _fire(self, aggregate_id, command):
        case = self.repository.get(aggregate_id)
        command(case)
        pending = case.collect_events()
        if not pending:
            return 0
        self.save(*pending)
        return 1

    # -- queries ----------------------------------------------------------------------
    def recheck_verdicts(self, start=1, limit=5000):
        """Re-run the rulebook on the recorded facts of every verdict from `start` on (a
        notification position); report any that would now come out differently."""
        from eventsourcing.persistence import Notification
        from eventsourcing.utils import get_topic
        from services.decisions import rulebook
        # Only the verdicts read (issue 14): the other events are most of the log. What
        # the recorder's select_notifications(start, limit, topics) reads, through a plain
        # cursor of its connection: tuples cost a third of its DictRows' time to fetch.
        with self.recorder.datastore.transaction(commit=False) as cur:
            with cur.pg_cursor.connection.cursor() as plain:
                plain.execute(f"SELECT notification_id, originator_id, originator_version, "
                              f"topic, state FROM {self.recorder.events_table_name} WHERE "
                              "notification_id >= %s AND topic = %s "
                              "ORDER BY notification_id LIMIT %s",
                              (start, get_topic(Case.Decided), limit))
                notifications = [Notification(id=r[0], originator_id=r[1],
                                              originator_version=r[2], topic=r[3],
                                              state=bytes(r[4])) for r in plain.fetchall()]
        problems, checked = [], 0
        for notification in notifications:
            if not notification.topic.endswith(".Decided"):
                continue
            event = self.mapper.to_domain_event(notification)
            checked += 1
            recorded = rulebook.Verdict.from_dict(event.verdict)
            if recorded.rulebook_version not in rulebook.REDERIVABLE:
                problems.append({"case": event.uscc, "position": notification.id,
                                 "problem": f"rulebook {recorded.rulebook_version} is not "
                                            "available to re-run"})
                continue
            rectified = (event.revises or {}).get("clauses", ())
            again = rulebook.rederive(event.basis, rulebook.Facts.from_dict(event.facts),
                                      rectified)
            if (again.klass, again.outcome, again.clauses, again.also_fired) != (
                    recorded.klass, recorded.outcome, recorded.clauses, recorded.also_fired):
                problems.append({"case": event.uscc, "position": notification.id,
                                 "problem": f"recorded {recorded.outcome} {list(recorded.clauses)}"
                                            f", re-run gives {again.outcome} "
                                            f"{list(again.clauses)}"})
        next_start = notifications[-1].id + 1 if notifications else start
        return {"problems": problems, "checked": checked, "next": next_start,
                "done": len(notifications) < limit,
                "target": self.recorder.max_notification_id()}

    def explain(self, uscc):
        """Why the case stands where it does: each verdict with its facts, clauses, inputs
        (the upstream events) and rulebook version, then deadlines and extension."""
        from services.decisions import rulebook
        case = self.get_or_none(case_id(uscc))
        if case is None:
            return None
        verdicts = []
        for event in self.events.get(case.id):
            if type(event).__name__ != "Decided":
                continue
            verdict = rulebook.Verdict.from_dict(event.verdict)
            verdicts.append({
                "decided_on": event.decided_on, "outcome": verdict.outcome,
                "class": verdict.klass, "clauses": list(verdict.clauses),
                "rulebook_version": verdict.rulebook_version, "deadline": event.deadline,
                "phase": event.phase, "facts": event.facts, "inputs": event.inputs,
                "revises": (event.revises or {}).get("outcome"),
                "lines": rulebook.explain(rulebook.Facts.from_dict(event.facts), verdict),
                "caused_by": event.meta.get("causation_id"),
            })
        campaign = self.campaign()
        readings = None
        if campaign is not None and case.filing is not None and case.in_scope:
            readings = case.readings(campaign)
        return {"uscc": uscc, "phase": case.phase, "verdicts": verdicts,
                "deadline": case.deadline, "extension": case.extension,
                "self_assessment_missed": case.self_assessment_missed,
                "excused": case.excused, "periods": case.periods,
                # Issue 17: each reading of the notice and the campaign setting applied.
                "readings": readings,
                "reading_lines": rulebook.describe_readings(readings) if readings else []}

    def under_rectification(self, jurisdiction):
        """The USCCs of a jurisdiction's cases under rectification, in order."""
        self.projections["cases"].catch_up()
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT uscc FROM decisions.cases_current WHERE phase = %s AND "
                        "jurisdiction = %s ORDER BY uscc", (RECTIFYING, jurisdiction))
            return [row["uscc"] for row in cur.fetchall()]

    def cases(self, jurisdiction):
        """Where each case of the jurisdiction stands (the desk's case list)."""
        self.projections["cases"].catch_up()
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT uscc, phase, class, outcome, deadline::text AS deadline"
                        " FROM decisions.cases_current WHERE jurisdiction = %s ORDER BY uscc",
                        (jurisdiction,))
            return [dict(r) for r in cur.fetchall()]

    def rectification_windows(self, usccs):
        """Per case under rectification, the period a rectification must fall in: from the
        decision that opened it to its deadline (evaluation checks 提交日期 against it)."""
        windows = {}
        for uscc in usccs:
            case = self.get_or_none(case_id(uscc))
            window = case and case.rectification_window()
            windows[uscc] = window and {"opened_on": window[0], "deadline": window[1]}
        return windows
