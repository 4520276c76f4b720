"""The decisions' aggregates: one institution's case under the notice's rules, and the
campaign whose milestones the rules look at.

A case gathers facts from upstream events and records a verdict whenever the facts give a
different one, with the facts and the upstream events it used, so that any verdict can be
re-derived and explained from its own event. Deadlines are part of the case's state and
fire through commands that do nothing when the deadline has already been dealt with: a
sweep may call them any number of times, from any number of instances.
"""
import datetime

from eventsourcing.domain import event

from shared.aggregate import CaseAggregate
from shared.application import campaign_id
from services.decisions import rulebook

UNDECIDED, DECIDED, RECTIFYING, CLOSED = "undecided", "decided", "rectifying", "closed"


def _date(text):
    return datetime.date.fromisoformat(text) if text else None


class Campaign(CaseAggregate):
    """The campaign as decisions knows it (from evaluation's Campaign events)."""

    @staticmethod
    def create_id(notice, **_):
        return campaign_id(notice)

    @event("Noted")
    def __init__(self, notice: str, cohorts: list, milestones: dict,
                 evaluated_through_year: int, opened_on: str):
        self.notice = notice
        self.cohorts = cohorts
        self.milestones = milestones
        self.evaluated_through_year = evaluated_through_year
        self.opened_on = opened_on

    def milestone(self, name):
        return _date(self.milestones[name])


class Case(CaseAggregate):
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
        self.decided_score = None
        self.first_deadline = None
        self.extension = None

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
    def note_self_assessment(self, on_time: bool, derived: dict, source_event: str):
        # A corrected self-assessment handed in late does not undo one that was on time.
        on_time = on_time or bool(self.self_assessment and self.self_assessment["on_time"])
        self.self_assessment = {"on_time": on_time, "derived": derived}
        self.inputs["self_assessment"] = {"event": source_event, "on_time": on_time,
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
    def note_rectification(self, submitted_on: str, source_event: str):
        # The first submission is what counts against the deadline.
        first = self.rectification["submitted_on"] if self.rectification else submitted_on
        self.rectification = {"submitted_on": min(first, submitted_on)}
        self.inputs["rectification"] = {"event": source_event, "submitted_on": submitted_on}

    # -- the rules --------------------------------------------------------------------
    @property
    def cohort(self):
        return self.filing["cohort"] if self.filing else None

    @property
    def in_scope(self):
        return self.cohort in rulebook.COHORTS

    def facts(self, today, campaign):
        legal = self.legal_status or {}
        legal_until = legal.get("legal_valid_until") or self.filing.get("legal_valid_until")
        derived = (self.self_assessment or {}).get("derived")
        filed_year = int(self.filing["published_on"][:4])
        reported = {int(y) for y in self.registry_activity}
        active = {int(y) for y, certified in self.registry_activity.items() if certified}
        window = set(range(filed_year, (campaign.evaluated_through_year if campaign
                                        else filed_year) + 1))
        if derived is not None:
            years = set(derived["activity_years"]) | active
        elif reported and window <= reported:
            # Without a self-assessment, another system's reports decide only if they
            # cover every year: a year nobody reported is unknown, not inactive.
            years = active
        else:
            years = None
        return rulebook.Facts(
            cohort=self.cohort,
            grade=self.score["grade"] if self.score else None,
            findings=frozenset(f["clause"] for f in self.findings.values() if f["active"]),
            filed_year=filed_year,
            activity_years=frozenset(years) if years is not None else None,
            evaluated_through_year=campaign.evaluated_through_year if campaign else None,
            seriously_out_of_scope=bool(derived and derived["seriously_out_of_scope"]),
            legal_registration_expired=(legal.get("status") == "expired"
                                        or bool(legal_until and _date(legal_until) < today)),
            annual_report_problem=legal.get("status") == "annual-report-problem",
            self_assessed=bool(self.self_assessment and self.self_assessment["on_time"]),
            excused=self.excused,
            self_assessment_due_passed=self.self_assessment_missed,
        )

    def reconsider(self, today, campaign):
        """Decide again on the facts as they now are; record a verdict only if it differs.

        A re-score after a rectification closes the rectification: passed if the rules on
        the new facts give a pass, else terminated (四(二)).
        """
        if self.phase == CLOSED or not self.in_scope or self.filing is None:
            return None
        facts = self.facts(today, campaign)
        if self.phase == RECTIFYING and self.score and self.score["kind"] == "rescore":
            passed = rulebook.decide(facts).klass == rulebook.PASS
            verdict = rulebook.after_rectification(self.cohort, passed,
                                                   rectified=self.verdict["clauses"])
            return self._record(verdict, facts, today, deadline=None, phase=CLOSED,
                                basis="rescore")
        verdict = rulebook.verdict_for(facts)
        current = self.verdict or {"klass": None, "outcome": None, "clauses": []}
        # A revised score with the same outcome is recorded too: the opinions list scores.
        if (current["outcome"], current["clauses"], self.decided_score) == (
                verdict.outcome, list(verdict.clauses), self.inputs.get("score")):
            return None
        if not verdict.decided:
            return self._record(verdict, facts, today, deadline=None, phase=UNDECIDED)
        if verdict.klass == rulebook.RECTIFY:
            # A revised verdict keeps the first deadline rather than granting a new one.
            deadline = self.first_deadline or rulebook.rectification_deadline(today).isoformat()
            return self._record(verdict, facts, today, deadline=deadline, phase=RECTIFYING)
        return self._record(verdict, facts, today, deadline=None, phase=DECIDED)

    def _record(self, verdict, facts, today, deadline, phase, basis="rules"):
        """`basis` says how the verdict follows from its facts, so it can be re-derived:
        the rules on the facts; a re-score closing a rectification; a deadline passed."""
        self._decide(uscc=self.uscc, verdict=verdict.to_dict(), facts=facts.to_dict(),
                     inputs=dict(self.inputs), decided_on=today.isoformat(),
                     deadline=deadline, phase=phase, revises=self.verdict, basis=basis)
        return verdict

    @event("Decided")
    def _decide(self, uscc: str, verdict: dict, facts: dict, inputs: dict, decided_on: str,
                deadline, phase: str, revises, basis: str):
        self.verdict = verdict
        self.deadline = deadline
        self.decided_on = decided_on
        self.phase = phase
        self.decided_score = inputs.get("score")
        self.first_deadline = self.first_deadline or deadline

    # -- deadlines --------------------------------------------------------------------
    def rectification_deadline_passed(self, today, campaign):
        """Nothing rectified and re-scored by the deadline: terminated (四(二))."""
        if self.phase != RECTIFYING or today <= _date(self.deadline):
            return None
        if self.rectification and _date(self.rectification["submitted_on"]) <= _date(
                self.deadline):
            return None  # rectified in time: the jurisdiction's re-evaluation decides
        self._deadline_passed(kind="rectification", due=self.deadline)
        verdict = rulebook.after_rectification(self.cohort, False,
                                               rectified=self.verdict["clauses"])
        return self._record(verdict, self.facts(today, campaign), today, deadline=None,
                            phase=CLOSED, basis="deadline")

    def self_assessment_due_passed(self, today, campaign):
        """No self-assessment by the milestone and no excuse: 六(二) on reconsidering."""
        due = campaign.milestone("self_assessment_due")
        if (self.self_assessment_missed or today <= due or not self.in_scope
                or (self.self_assessment and self.self_assessment["on_time"])):
            return None
        self._deadline_passed(kind="self-assessment", due=due.isoformat())
        return self.reconsider(today, campaign)

    @event("DeadlinePassed")
    def _deadline_passed(self, kind: str, due: str):
        if kind == "self-assessment":
            self.self_assessment_missed = True

    def extend_expired_filing(self, today, campaign):
        """六(四): a filing that expires during the campaign may go on two months."""
        valid_until = _date(self.filing["valid_until"]) if self.filing else None
        if (self.extension or not self.in_scope or valid_until is None or today <= valid_until
                or valid_until < _date(campaign.opened_on)
                or (self.verdict and self.verdict["klass"] == rulebook.TERMINATE)):
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

