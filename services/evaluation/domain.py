"""The evaluation's aggregate: one institution's case file in the campaign.

Opened from the registry's filing; then what the institution and its jurisdiction hand in:
the self-assessment (附件1), scores (附件2), findings, an accepted excuse, a rectification.
Events carry the facts derived from them that the rules need, so that decisions never
has to re-read a form.

A fact handed in again exactly as recorded writes no event (issue 11): a re-sent form (an
operator's retry, a redelivered request) then changes nothing downstream either. Each
command returns whether it recorded something.
"""
from eventsourcing.domain import event

from shared.aggregate import CaseAggregate, ordered_per_case


def derive_activity(filing, activity, evaluated_through_year):
    """What the rules need from the reported activity: the years with activity, and the
    activity outside the filing scope (an occupation or level not filed).

    "Seriously beyond the scope" (四(一)3) is taken to be certificates issued outside the
    scope; assessment without certificates outside it is flagged but does not terminate.
    """
    filed = {item["occupation"]: set(item["levels"]) for item in filing["scope"]}
    years = sorted({row["year"] for row in activity if row["assessed"] > 0})
    outside = [row for row in activity
               if row["occupation"] not in filed or row["level"] not in filed[row["occupation"]]]
    return {
        "activity_years": years,
        "filed_year": int(filing["published_on"][:4]),
        "evaluated_through_year": evaluated_through_year,
        "out_of_scope": [{k: row[k] for k in ("year", "occupation", "level", "assessed",
                                              "certified")} for row in outside],
        "seriously_out_of_scope": any(row["certified"] > 0 for row in outside),
    }


def _facts(activity):
    """The reported activity without where it stood in the sheet."""
    return [{k: v for k, v in row.items() if k != "row_number"} for row in activity]


@ordered_per_case
class CaseFile(CaseAggregate):
    @event("Opened")
    def __init__(self, uscc: str, filing: dict):
        self.uscc = uscc
        self.filing = filing
        self.self_assessment = None
        self.scores = []
        self.findings = {}
        self.excuse = None
        self.rectifications = []

    @event("FilingUpdated")
    def update_filing(self, filing: dict):
        self.filing = filing

    @property
    def jurisdiction(self):
        return self.filing["jurisdiction"]

    def in_scope(self, cohorts):
        return self.filing["cohort"] in cohorts

    # -- 附件1 ------------------------------------------------------------------------
    def self_assess(self, row, submitted_on, on_time, evaluated_through_year):
        """Record the self-assessment; returns what was derived from it and whether it was
        recorded. The same content again (whatever the day) keeps the first submission:
        its date is the one the deadline was judged by."""
        derived = derive_activity(self.filing, row["activity"], evaluated_through_year)
        staff = {k: row[k] for k in ("assessors", "supervisors", "experts")}
        recorded = self.self_assessment
        if recorded is not None and (recorded["staff"], recorded["self_score"],
                                     _facts(recorded["activity"]), recorded["derived"]) == (
                staff, row["self_score"], _facts(row["activity"]), derived):
            return derived, False
        self._self_assessed(uscc=self.uscc, staff=staff,
                            self_score=row["self_score"], activity=row["activity"],
                            submitted_on=submitted_on, on_time=on_time, derived=derived)
        return derived, True

    @event("SelfAssessed")
    def _self_assessed(self, uscc: str, staff: dict, self_score, activity: list,
                       submitted_on: str, on_time: bool, derived: dict):
        self.self_assessment = {"staff": staff, "self_score": self_score,
                                "activity": activity, "submitted_on": submitted_on,
                                "on_time": on_time, "derived": derived}

    # -- 附件2 ------------------------------------------------------------------------
    def score(self, score, evaluator, evaluated_on, rubric):
        """Record a score sheet row: a re-score after a rectification, a revision if the
        case was scored before without one, else the initial score. The same score as the
        last one, with no rectification since, records nothing (returns False)."""
        if not self.scores:
            kind = "initial"
        elif self.rectifications and self.rectifications[-1]["after_score"] == len(self.scores):
            kind = "rescore"
        else:
            kind = "revised"
            if self._same_score(self.scores[-1], score, evaluator, evaluated_on):
                return False
        self._scored(uscc=self.uscc, kind=kind, areas=score["areas"], total=score["total"],
                     grade=score["grade"], rubric_version=score["rubric_version"],
                     rubric=rubric, evaluator=evaluator, evaluated_on=evaluated_on)
        return True

    @staticmethod
    def _same_score(last, score, evaluator, evaluated_on):
        return (last["areas"], last["total"], last["grade"], last["rubric_version"],
                last["evaluator"], last["evaluated_on"]) == (
            score["areas"], score["total"], score["grade"], score["rubric_version"],
            evaluator, evaluated_on)

    @event("Scored")
    def _scored(self, uscc: str, kind: str, areas: dict, total, grade: str,
                rubric_version: str, rubric: dict, evaluator: str, evaluated_on: str):
        self.scores.append({"kind": kind, "total": total, "grade": grade,
                            "rubric_version": rubric_version, "evaluator": evaluator,
                            "evaluated_on": evaluated_on, "areas": areas})

    # -- findings, excuses, rectification ----------------------------------------------
    def record_finding(self, clause, evidence, recorded_on):
        if any(f["clause"] == clause and f["evidence"] == evidence and f["active"]
               for f in self.findings.values()):
            return False  # the same finding handed in again
        finding_id = f"{clause}#{len(self.findings) + 1}"
        self._finding_recorded(uscc=self.uscc, finding_id=finding_id, clause=clause,
                               evidence=evidence, recorded_on=recorded_on)
        return True

    @event("FindingRecorded")
    def _finding_recorded(self, uscc: str, finding_id: str, clause: str, evidence: str,
                          recorded_on: str):
        self.findings[finding_id] = {"clause": clause, "evidence": evidence,
                                     "recorded_on": recorded_on, "active": True}

    def withdraw_finding(self, clause, reason):
        active = [fid for fid, f in self.findings.items() if f["clause"] == clause and f["active"]]
        for finding_id in active:
            self._finding_withdrawn(uscc=self.uscc, finding_id=finding_id, clause=clause,
                                    reason=reason)
        return len(active)

    @event("FindingWithdrawn")
    def _finding_withdrawn(self, uscc: str, finding_id: str, clause: str, reason: str):
        self.findings[finding_id]["active"] = False

    @property
    def active_clauses(self):
        return sorted({f["clause"] for f in self.findings.values() if f["active"]})

    def accept_excuse(self, uscc, reason):
        """Accept an excuse; the same reason again records nothing (returns False)."""
        if self.excuse == reason:
            return False
        self._excuse_accepted(uscc=uscc, reason=reason)
        return True

    @event("ExcuseAccepted")
    def _excuse_accepted(self, uscc: str, reason: str):
        self.excuse = reason

    def submit_rectification(self, report, submitted_on):
        """Record a rectification report; the same report as the last one, with no score
        since, records nothing (returns False)."""
        last = self.rectifications[-1] if self.rectifications else None
        if last is not None and (last["report"], last["submitted_on"], last["after_score"]) \
                == (report, submitted_on, len(self.scores)):
            return False
        self._rectification_submitted(uscc=self.uscc, report=report,
                                      submitted_on=submitted_on,
                                      after_score=len(self.scores))
        return True

    @event("RectificationSubmitted")
    def _rectification_submitted(self, uscc: str, report: str, submitted_on: str,
                                 after_score: int):
        self.rectifications.append({"report": report, "submitted_on": submitted_on,
                                    "after_score": after_score})

    def to_dict(self):
        return {"uscc": self.uscc, "jurisdiction": self.jurisdiction,
                "self_assessment": self.self_assessment, "scores": self.scores,
                "findings": list(self.findings.values()), "excuse": self.excuse,
                "rectifications": self.rectifications}
