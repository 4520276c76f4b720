"""The evaluation's aggregate: one institution's case file in the campaign."""
from eventsourcing.domain import event

from shared.aggregate import CaseAggregate
from shared.application import case_id

IN_SCOPE_2023 = (2020, 2021)


class CaseFile(CaseAggregate):
    """What the evaluators know and have recorded of one institution.

    Opened from the registry's filing; scored by its jurisdiction with a rubric version.
    """

    @staticmethod
    def create_id(uscc, **_):
        return case_id(uscc)

    @event("Opened")
    def __init__(self, uscc: str, filing: dict):
        self.uscc = uscc
        self.filing = filing
        self.scores = []

    @event("FilingUpdated")
    def update_filing(self, filing: dict):
        self.filing = filing

    @property
    def jurisdiction(self):
        return self.filing["jurisdiction"]

    @property
    def in_scope(self):
        return self.filing["cohort"] in IN_SCOPE_2023

    def score(self, score, evaluator, evaluated_on, rubric):
        """Record a score sheet row. A later score (after rectification) is a re-score."""
        kind = "rescore" if self.scores else "initial"
        self._scored(uscc=self.uscc, kind=kind, areas=score["areas"], total=score["total"],
                     grade=score["grade"], rubric_version=score["rubric_version"],
                     rubric=rubric, evaluator=evaluator, evaluated_on=evaluated_on)

    @event("Scored")
    def _scored(self, uscc: str, kind: str, areas: dict, total, grade: str,
                rubric_version: str, rubric: dict, evaluator: str, evaluated_on: str):
        self.scores.append({"kind": kind, "total": total, "grade": grade,
                            "rubric_version": rubric_version, "evaluator": evaluator,
                            "evaluated_on": evaluated_on, "areas": areas})
