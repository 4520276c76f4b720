"""The decisions' aggregate: one institution's case under the notice's rules.

The case gathers facts from upstream events (the filing, the score) and records a verdict
whenever the facts give a different one, with every input it used, so that a verdict can
be re-derived and explained from its own event.
"""
import datetime

from eventsourcing.domain import event

from shared.aggregate import CaseAggregate
from shared.application import case_id
from services.decisions import rulebook


class Case(CaseAggregate):
    @staticmethod
    def create_id(uscc):
        return case_id(uscc)

    @event("Opened")
    def __init__(self, uscc: str):
        self.uscc = uscc
        self.filing = None
        self.score = None
        self.inputs = {}
        self.verdict = None
        self.deadline = None
        self.decided_on = None

    @event("FilingNoted")
    def note_filing(self, filing: dict, source_event: str):
        self.filing = filing
        self.inputs["filing"] = {"event": source_event, "cohort": filing["cohort"],
                                 "jurisdiction": filing["jurisdiction"],
                                 "name": filing["name"]}

    @event("ScoreNoted")
    def note_score(self, score: dict, source_event: str):
        self.score = score
        self.inputs["score"] = {"event": source_event, "grade": score["grade"],
                                "total": score["total"],
                                "rubric_version": score["rubric_version"]}

    @property
    def cohort(self):
        return self.filing["cohort"] if self.filing else None

    @property
    def in_scope(self):
        return self.cohort in rulebook.COHORTS

    def facts(self):
        return rulebook.Facts(cohort=self.cohort,
                              grade=self.score["grade"] if self.score else None)

    def decide(self, today: datetime.date):
        """Record a verdict if the facts now give one that differs from the last."""
        if not self.in_scope:
            return None
        facts = self.facts()
        verdict = rulebook.decide(facts)
        if not verdict.decided:
            return None
        if self.verdict and self.verdict["outcome"] == verdict.outcome \
                and self.verdict["clauses"] == list(verdict.clauses):
            return None
        deadline = (rulebook.rectification_deadline(today).isoformat()
                    if verdict.klass == rulebook.RECTIFY else None)
        self._decide(uscc=self.uscc, verdict=verdict.to_dict(), facts=facts.to_dict(),
                     inputs=dict(self.inputs), decided_on=today.isoformat(),
                     deadline=deadline, revises=self.verdict)
        return verdict

    @event("Decided")
    def _decide(self, uscc: str, verdict: dict, facts: dict, inputs: dict, decided_on: str,
                deadline, revises):
        self.verdict = verdict
        self.deadline = deadline
        self.decided_on = decided_on
