"""The decisions' application: facts in from upstream, verdicts out, deadlines swept."""
from shared import log, metadata
from shared.application import ServiceApplication, campaign_id, case_id
from shared.integration import position_of, short_type
from shared.projection import Projection
from services.decisions.domain import CLOSED, RECTIFYING, Campaign, Case


class Cases(Projection):
    """Where each case stands, and what is due: the sweep's index of deadlines."""

    name = "cases"
    tables = (
        "CREATE TABLE IF NOT EXISTS {t}current ("
        " case_id uuid PRIMARY KEY, uscc text NOT NULL, jurisdiction text, cohort int,"
        " phase text NOT NULL, class text, outcome text, deadline date,"
        " self_assessed boolean NOT NULL DEFAULT false,"
        " self_assessment_missed boolean NOT NULL DEFAULT false,"
        " excused boolean NOT NULL DEFAULT false, valid_until date, rectified_on date,"
        " extension_until date, extension_ended text)",
        # Issue 17: what the sweep needs to find time-driven facts that changed.
        "ALTER TABLE {t}current ADD COLUMN IF NOT EXISTS filing_legal_until date,"
        " ADD COLUMN IF NOT EXISTS status_legal_until date,"
        " ADD COLUMN IF NOT EXISTS legal_lapse_seen date,"
        " ADD COLUMN IF NOT EXISTS self_assessed_on date,"
        " ADD COLUMN IF NOT EXISTS window_opened date",
        "CREATE TABLE IF NOT EXISTS {t}campaigns ("
        " campaign_id uuid PRIMARY KEY, position bigint NOT NULL)",
    )

    def apply(self, cur, event, position):
        name = type(event).__qualname__
        table = self.table("current")
        case = str(event.originator_id)
        if name == "Campaign.Noted":
            cur.execute(f"INSERT INTO {self.table('campaigns')} VALUES (%s, %s) "
                        "ON CONFLICT DO NOTHING", (case, position))
        elif name == "Case.Opened":
            cur.execute(f"INSERT INTO {table} (case_id, uscc, phase) VALUES (%s, %s, "
                        "'undecided') ON CONFLICT DO NOTHING", (case, event.uscc))
        elif name == "Case.FilingNoted":
            cur.execute(f"UPDATE {table} SET jurisdiction = %s, cohort = %s, valid_until = %s, "
                        "filing_legal_until = %s WHERE case_id = %s",
                        (event.filing["jurisdiction"], event.filing["cohort"],
                         event.filing["valid_until"], event.filing.get("legal_valid_until"),
                         case))
        elif name == "Case.LegalStatusNoted":
            cur.execute(f"UPDATE {table} SET status_legal_until = %s WHERE case_id = %s",
                        (event.legal_valid_until, case))
        elif name == "Case.SelfAssessmentNoted":
            # A late re-submission does not undo an on-time one (as in the aggregate).
            cur.execute(f"UPDATE {table} SET self_assessed = self_assessed OR %s, "
                        "self_assessed_on = LEAST(self_assessed_on, %s::date) "
                        "WHERE case_id = %s",
                        (event.on_time, getattr(event, "submitted_on", None), case))
        elif name == "Case.RectificationNoted":
            # The first submission counts (LEAST skips NULL), as in the aggregate.
            cur.execute(f"UPDATE {table} SET rectified_on = LEAST(rectified_on, %s::date) "
                        "WHERE case_id = %s", (event.submitted_on, case))
        elif name == "Case.ExcuseNoted":
            cur.execute(f"UPDATE {table} SET excused = true WHERE case_id = %s", (case,))
        elif name == "Case.DeadlinePassed" and event.kind == "self-assessment":
            cur.execute(f"UPDATE {table} SET self_assessment_missed = true WHERE case_id = %s",
                        (case,))
        elif name == "Case.DeadlinePassed" and event.kind == "legal-registration":
            cur.execute(f"UPDATE {table} SET legal_lapse_seen = %s WHERE case_id = %s",
                        (event.due, case))
        elif name == "Case.Decided":
            periods = getattr(event, "periods", None) or {}
            opened = min((periods[c]["opened_on"] for c in event.verdict["clauses"]
                          if c in periods), default=None)
            cur.execute(f"UPDATE {table} SET phase = %s, class = %s, outcome = %s, "
                        "deadline = %s, window_opened = %s WHERE case_id = %s",
                        (event.phase, event.verdict["klass"], event.verdict["outcome"],
                         event.deadline, opened, case))
        elif name == "Case.FilingExtended":
            cur.execute(f"UPDATE {table} SET extension_until = %s WHERE case_id = %s",
                        (event.until, case))
        elif name == "Case.ExtensionEnded":
            cur.execute(f"UPDATE {table} SET extension_ended = %s WHERE case_id = %s",
                        ("renewed" if event.renewed else "ended", case))


class Decisions(ServiceApplication):
    name = "decisions"

    # -- upstream facts ---------------------------------------------------------------
    def on_upstream(self, envelope, today):
        kind = short_type(envelope)
        data = envelope["data"]
        source_event = envelope["id"]
        if kind in ("evaluation.Campaign.Opened",):
            return self.process_upstream(envelope["source"], position_of(envelope),
                                         lambda pe: self._note_campaign(pe, envelope, data))
        note = self._notes(kind, data, source_event, today)
        if note is None:
            return False
        uscc = data["filing"]["uscc"] if "filing" in data else data["uscc"]
        key = self._fact(kind, data)

        def handle(processing_event):
            case = self.get_or_none(case_id(uscc)) or Case(uscc)
            if case.is_newer(key, envelope.get("caseversion")):
                campaign = self.campaign()
                with metadata.about_fact(key, envelope.get("caseversion")):
                    case.receive(note, today, campaign)
            processing_event.collect_events(case)
        return self.process_upstream(envelope["source"], position_of(envelope), handle)

    @staticmethod
    def _fact(kind, data):
        """Which fact of the case an upstream event states (the latest version wins)."""
        name = kind.rsplit(".", 1)[1]
        if name in ("Filed", "FilingChanged"):
            return "filing"
        if name == "ActivityReported":
            return f"activity:{data['year']}"
        if name in ("FindingRecorded", "FindingWithdrawn"):
            return f"finding:{data['finding_id']}"
        return name

    def _notes(self, kind, data, source_event, today):
        """How each upstream event type changes the case's facts."""
        return {
            "registry.Institution.Filed": lambda c: c.note_filing(data["filing"], source_event),
            "registry.Institution.FilingChanged":
                lambda c: c.note_filing(data["filing"], source_event),
            "registry.Institution.LegalStatusReported":
                lambda c: c.note_legal_status(data["status"], data["legal_valid_until"],
                                              source_event),
            "registry.Institution.ActivityReported":
                lambda c: c.note_activity(data["year"],
                                          sum(r["certified"] for r in data["rows"]),
                                          source_event),
            "evaluation.CaseFile.SelfAssessed":
                lambda c: c.note_self_assessment(
                    data["on_time"], data["derived"], source_event, data.get("submitted_on"),
                    sum(row.get("assessed", 0) for row in data.get("activity") or ())),
            "evaluation.CaseFile.Scored":
                lambda c: c.note_score({k: data[k] for k in (
                    "kind", "total", "grade", "rubric_version", "evaluated_on")}, source_event),
            "evaluation.CaseFile.FindingRecorded":
                lambda c: c.note_finding(data["finding_id"], data["clause"], True, source_event),
            "evaluation.CaseFile.FindingWithdrawn":
                lambda c: c.note_finding(data["finding_id"], data["clause"], False,
                                         source_event),
            "evaluation.CaseFile.ExcuseAccepted":
                lambda c: c.note_excuse(data["reason"], source_event),
            "evaluation.CaseFile.RectificationSubmitted":
                lambda c: c.note_rectification(data["submitted_on"], source_event,
                                               today.isoformat()),
        }.get(kind)

    def _note_campaign(self, processing_event, envelope, data):
        if self.get_or_none(campaign_id(data["notice"])) is not None:
            return
        processing_event.collect_events(Campaign(
            notice=data["notice"], cohorts=data["cohorts"], milestones=data["milestones"],
            evaluated_through_year=data["evaluated_through_year"],
            readings=data.get("readings"),
            # The business date the campaign was opened on starts the period in which an
            # expiring filing is extended (六(四)).
            opened_on=envelope.get("businessdate") or data["milestones"]["self_assessment_due"]))

    def campaign(self):
        """The current campaign. Called for every upstream event, so it reads the latest
        campaign's id only, and keeps the (never changing) campaigns in memory; the
        projection is caught up only while no campaign is known."""
        row = self._latest_campaign()
        if row is None:
            self.projections["cases"].catch_up()
            row = self._latest_campaign()
        if row is None:
            return None
        cache = self.__dict__.setdefault("_campaigns", {})
        if row["campaign_id"] not in cache:
            cache[row["campaign_id"]] = self.repository.get(row["campaign_id"])
        return cache[row["campaign_id"]]

    def _latest_campaign(self):
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
        from services.decisions import rulebook
        notifications = self.recorder.select_notifications(start, limit)
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
