"""The decisions' aggregates: one institution's case under the notice's rules, and the
campaign whose milestones the rules look at.

A case gathers facts from upstream events and records a verdict whenever the facts give a
different one, with the facts and the upstream events it used, so that any verdict can be
re-derived and explained from its own event. Deadlines are part of the case's state and
fire through commands that do nothing when the deadline has already been dealt with: a
sweep may call them any number of times, from any number of instances.
"""
from eventsourcing.domain import event

from shared.aggregate import CaseAggregate, ordered_per_case
from shared.language.clauses import PASS, RECTIFY, REGISTRATION_PROBLEM, TERMINATE
from shared.language.identifiers import campaign_id
from shared.language.readings import readings_with_defaults
from services.decisions import rulebook
from services.decisions.case_facts import (  # noqa: F401  (the phases, re-exported)
    CLOSED, DECIDED, RECTIFYING, UNDECIDED, CaseFacts, _date)
from services.decisions.timeline import TimeDriven


class Campaign(CaseAggregate):
    """The campaign as decisions knows it (from evaluation's Campaign events)."""

    @staticmethod
    def create_id(notice, **_):
        return campaign_id(notice)

    @event("Noted")
    def __init__(self, notice: str, cohorts: list, milestones: dict,
                 evaluated_through_year: int, opened_on: str, readings: dict = None):
        self.notice = notice
        self.cohorts = cohorts
        self.milestones = milestones
        self.evaluated_through_year = evaluated_through_year
        self.opened_on = opened_on
        # Campaigns opened before issue 17 carry no readings: the notice's defaults.
        self.readings = readings_with_defaults(readings, milestones)

    def milestone(self, name):
        return _date(self.milestones[name])

    def self_assessment_due(self, jurisdiction):
        """三(一): each city sets its own self-assessment deadline; the default otherwise."""
        due = self.readings["self_assessment_due"]
        return _date(due["by_jurisdiction"].get(jurisdiction) or due["default"])

    def extension_window(self):
        window = self.readings["extension_window"]
        return _date(window["from"] or self.opened_on), _date(window["to"])


@ordered_per_case
class Case(CaseFacts, TimeDriven, CaseAggregate):
    """One institution's case: the facts gathered (CaseFacts), the verdicts recorded and the
    time-driven changes decided on as of their own dates (TimeDriven)."""

    @event("Opened")
    def __init__(self, uscc: str):
        self.uscc = uscc
        self.filing = None
        self.legal_status = None
        self.registry_activity = {}
        self.self_assessment = None
        self.score = None
        self.findings = {}
        self.excused = False
        self.rectification = None
        self.self_assessment_missed = False
        self.inputs = {}
        self.phase = UNDECIDED
        self.verdict = None
        self.deadline = None
        self.decided_on = None
        self.extension = None
        self.periods = {}  # rectify clause -> {"opened_on", "deadline"} (四(二), issue 17)
        self.rectifications = []
        self.legal_lapse_seen = None  # the legal_valid_until whose lapse has been decided on

    # -- facts ------------------------------------------------------------------------
    @event("FilingNoted")
    def note_filing(self, filing: dict, source_event: str):
        self.filing = filing
        self.inputs["filing"] = {"event": source_event, "cohort": filing["cohort"],
                                 "jurisdiction": filing["jurisdiction"],
                                 "name": filing["name"], "category": filing["category"],
                                 "level": filing["level"], "valid_until": filing["valid_until"],
                                 "legal_valid_until": filing["legal_valid_until"]}

    @event("LegalStatusNoted")
    def note_legal_status(self, status: str, legal_valid_until, source_event: str):
        self.legal_status = {"status": status, "legal_valid_until": legal_valid_until}
        self.inputs["legal_status"] = {"event": source_event, "status": status,
                                       "legal_valid_until": legal_valid_until}

    @event("ActivityNoted")
    def note_activity(self, year: int, certified: int, source_event: str):
        self.registry_activity[str(year)] = certified
        self.inputs.setdefault("activity", {})[str(year)] = {"event": source_event,
                                                             "certified": certified}

    @event("SelfAssessmentNoted")
    def note_self_assessment(self, on_time: bool, derived: dict, source_event: str,
                             submitted_on: str = None, assessed_total: int = None):
        # `on_time` as evaluation judged it against the province's milestone; decisions
        # judges `submitted_on` against the jurisdiction's own deadline (三(一)).
        first = self.self_assessment or {}
        self.self_assessment = {"on_time": on_time, "derived": derived,
                                "submitted_on": min(filter(None, (
                                    first.get("submitted_on"), submitted_on)), default=None),
                                "ever_on_time": on_time or bool(first.get("ever_on_time")
                                                                or first.get("on_time")),
                                "assessed_total": assessed_total}
        self.inputs["self_assessment"] = {"event": source_event, "on_time": on_time,
                                          "submitted_on": submitted_on,
                                          "activity_years": derived["activity_years"],
                                          "out_of_scope": len(derived["out_of_scope"])}

    @event("ScoreNoted")
    def note_score(self, score: dict, source_event: str):
        self.score = score
        self.inputs["score"] = {"event": source_event, "kind": score["kind"],
                                "grade": score["grade"], "total": score["total"],
                                "rubric_version": score["rubric_version"]}

    @event("FindingNoted")
    def note_finding(self, finding_id: str, clause: str, active: bool, source_event: str):
        self.findings[finding_id] = {"clause": clause, "active": active}
        self.inputs.setdefault("findings", {})[finding_id] = {
            "event": source_event, "clause": clause, "active": active}

    @event("ExcuseNoted")
    def note_excuse(self, reason: str, source_event: str):
        self.excused = True
        self.inputs["excuse"] = {"event": source_event, "reason": reason}

    @event("RectificationNoted")
    def note_rectification(self, submitted_on: str, source_event: str, recorded_on: str = None):
        # Each submission is kept: whether one counts depends on the period it falls in.
        self.rectifications.append({"submitted_on": submitted_on, "recorded_on": recorded_on})
        first = self.rectification["submitted_on"] if self.rectification else submitted_on
        self.rectification = {"submitted_on": min(first, submitted_on)}
        self.inputs["rectification"] = {"event": source_event, "submitted_on": submitted_on,
                                        "recorded_on": recorded_on}

    # -- the rules --------------------------------------------------------------------
    @property
    def terminated(self):
        return bool(self.verdict and self.verdict["klass"] == TERMINATE)

    def reconsider(self, today, campaign):
        """Decide again on the facts as they now are; record a verdict only if the verdict,
        its clauses or its deadline change (issue 11: the same facts again are a no-op).

        While rectifying, a re-score after a rectification handed in within the period
        closes it: passed if the rules on the new facts give a pass, else terminated
        (四(二)). A reason that goes away by itself while rectifying (a renewed legal
        registration) is cured through the same path, never back to a plain pass. Once
        closed, a termination clause still terminates, and a new reason to rectify opens
        a new period (issue 17).
        """
        if not self.in_scope or self.filing is None:
            return None
        if self.phase == CLOSED and self.terminated:
            return None  # the filing is gone; nothing more to decide
        facts = self.facts(today, campaign)
        legal_until = self.legal_valid_until()
        if legal_until and _date(legal_until) < today and self.legal_lapse_seen != legal_until:
            # Recorded once, so the sweep knows this lapse has been decided on.
            self._deadline_passed(kind="legal-registration", due=legal_until)
        if self.phase == RECTIFYING and self.score and self.score["kind"] == "rescore" \
                and self.counted_rectification() is not None:
            passed = rulebook.decide(facts).klass == PASS
            verdict = rulebook.after_rectification(self.cohort, passed,
                                                   rectified=self.verdict["clauses"])
            return self._record(verdict, facts, today, phase=CLOSED, basis="rescore")
        verdict = rulebook.verdict_for(facts)
        if self.phase == CLOSED and verdict.klass == PASS:
            return None  # still 延续备案 / 恢复评价活动
        if self.phase == CLOSED and verdict.klass is None:
            return None
        if self.phase == RECTIFYING and verdict.klass in (PASS, None):
            gone = set(self.verdict["clauses"])
            if REGISTRATION_PROBLEM in gone:
                # Cured within its period (the sweep fires the deadline first otherwise).
                cured = rulebook.after_rectification(self.cohort, True,
                                                     rectified=self.verdict["clauses"])
                return self._record(cured, facts, today, phase=CLOSED, basis="cured")
            if self.score and self.score["kind"] == "rescore":
                return None  # a re-score counts only after a rectification in the period
        if verdict.klass == RECTIFY:
            return self._record(verdict, facts, today, phase=RECTIFYING,
                                periods=self._periods_for(verdict.clauses, today))
        return self._record(verdict, facts, today,
                            phase=UNDECIDED if not verdict.decided else DECIDED)

    def _periods_for(self, clauses, today):
        """四(二) 限期2个月内完成整改: each reason has two months from the decision that
        opened it; a reason still in its period keeps it, any other opens its own."""
        periods = {}
        for clause in clauses:
            period = self.periods.get(clause)
            if period is None or _date(period["deadline"]) < today:
                period = {"opened_on": today.isoformat(),
                          "deadline": rulebook.rectification_deadline(today).isoformat()}
            periods[clause] = period
        return periods

    def rectification_window(self):
        """(opened_on, deadline) of the period a rectification must fall in now: from the
        earliest decision that opened a period of the current reasons to the case's
        deadline; None when not rectifying."""
        if self.phase != RECTIFYING or not self.deadline:
            return None
        opened = min((self.periods[c]["opened_on"] for c in self.verdict["clauses"]
                      if c in self.periods), default=self.decided_on)
        return opened, self.deadline

    def counted_rectification(self):
        """The first rectification handed in within the period: its 提交日期 not before
        the decision that opened the period nor after the deadline, and recorded by the
        deadline. None if there is none."""
        window = self.rectification_window()
        if window is None:
            return None
        opened = window[0]
        for r in self.rectifications:
            recorded = r.get("recorded_on") or r["submitted_on"]
            if opened <= r["submitted_on"] <= self.deadline and recorded <= self.deadline:
                return r
        return None

    def _record(self, verdict, facts, today, phase, basis="rules", periods=None):
        """`basis` says how the verdict follows from its facts, so it can be re-derived:
        the rules on the facts; a re-score closing a rectification; a deadline passed; a
        reason cured in its period. Nothing is recorded if the verdict, its clauses and
        its deadline are what they were."""
        periods = periods or {}
        deadline = min((p["deadline"] for p in periods.values()), default=None)
        current = self.verdict or {"klass": None, "outcome": None, "clauses": []}
        if (current["klass"], current["outcome"], list(current["clauses"]), self.deadline) == (
                verdict.klass, verdict.outcome, list(verdict.clauses), deadline):
            return None
        self._decide(uscc=self.uscc, verdict=verdict.to_dict(), facts=facts.to_dict(),
                     inputs=dict(self.inputs), decided_on=today.isoformat(),
                     deadline=deadline, phase=phase, revises=self.verdict, basis=basis,
                     periods=periods or None)
        return verdict

    @event("Decided")
    def _decide(self, uscc: str, verdict: dict, facts: dict, inputs: dict, decided_on: str,
                deadline, phase: str, revises, basis: str, periods: dict = None):
        self.verdict = verdict
        self.deadline = deadline
        self.decided_on = decided_on
        self.phase = phase
        # Periods outlive the verdict: a reason back within its period keeps its deadline.
        self.periods = {**self.periods, **(periods or {})}
        if deadline and not periods:  # verdicts recorded before issue 17
            self.periods = {c: {"opened_on": decided_on, "deadline": deadline}
                            for c in verdict["clauses"]}

    def receive(self, note, today, campaign):
        """An upstream fact recorded on `today`: time-driven facts are brought up to date
        first, as of their own dates, then the fact is noted and the case reconsidered."""
        self.advance(today, campaign)
        note(self)
        return self.reconsider(today, campaign)

    # -- time-driven facts ------------------------------------------------------------
    # -- deadlines --------------------------------------------------------------------
    def rectification_deadline_passed(self, today, campaign):
        """Nothing rectified in the period and re-scored by the deadline: terminated (四(二))."""
        if self.phase != RECTIFYING or today <= _date(self.deadline):
            return None
        if self.counted_rectification() is not None:
            return None  # rectified in time: the jurisdiction's re-evaluation decides
        self._deadline_passed(kind="rectification", due=self.deadline)
        verdict = rulebook.after_rectification(self.cohort, False,
                                               rectified=self.verdict["clauses"])
        return self._record(verdict, self.facts(today, campaign), today, phase=CLOSED,
                            basis="deadline")

    def self_assessment_due_passed(self, today, campaign):
        """No self-assessment by the jurisdiction's deadline and no excuse: 六(二) on
        reconsidering (withdrawn again once the institution is evaluated on site)."""
        if not self.in_scope or self.filing is None:
            return None
        due = campaign.self_assessment_due(self.filing["jurisdiction"])
        if (self.self_assessment_missed or today <= due
                or self.self_assessed_in_time(campaign)):
            return None
        self._deadline_passed(kind="self-assessment", due=due.isoformat())
        return self.reconsider(today, campaign)

    @event("DeadlinePassed")
    def _deadline_passed(self, kind: str, due: str):
        if kind == "self-assessment":
            self.self_assessment_missed = True
        elif kind == "legal-registration":
            self.legal_lapse_seen = due

    def _extendable(self, valid_until, campaign):
        window_from, window_to = campaign.extension_window()
        return not (self.extension or not self.in_scope or self.terminated
                    or not rulebook.extension_applies(valid_until, window_from, window_to))

    def extend_expired_filing(self, today, campaign):
        """六(四): a filing that expires during the campaign (its opening to the province's
        publication, campaign setting extension_window) may go on two months."""
        valid_until = _date(self.filing["valid_until"]) if self.filing else None
        if valid_until is None or today <= valid_until or not self._extendable(valid_until,
                                                                                campaign):
            return None
        until = rulebook.extension_end(valid_until)
        self._extended(valid_until=valid_until.isoformat(), until=until.isoformat())
        return until

    @event("FilingExtended")
    def _extended(self, valid_until: str, until: str):
        self.extension = {"valid_until": valid_until, "until": until, "ended": None}

    def end_extension(self, today):
        """The extension ends by itself, unless the filing was renewed meanwhile."""
        if not self.extension or self.extension["ended"] or today <= _date(self.extension["until"]):
            return None
        renewed = _date(self.filing["valid_until"]) > _date(self.extension["valid_until"])
        self._extension_ended(renewed=renewed, until=self.extension["until"])
        return renewed

    @event("ExtensionEnded")
    def _extension_ended(self, renewed: bool, until: str):
        self.extension["ended"] = "renewed" if renewed else "ended"

    def to_dict(self):
        verdict = self.verdict or {}
        return {"uscc": self.uscc, "in_scope": self.in_scope, "cohort": self.cohort,
                "phase": self.phase, "class": verdict.get("klass"),
                "outcome": verdict.get("outcome"), "clauses": verdict.get("clauses", []),
                "also_fired": verdict.get("also_fired", []), "deadline": self.deadline,
                "decided_on": self.decided_on,
                "rulebook_version": verdict.get("rulebook_version"),
                "extension": self.extension,
                "self_assessment_missed": self.self_assessment_missed,
                "excused": self.excused}

