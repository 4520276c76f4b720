"""Time-driven facts of a decisions case (issue 17): a legal registration lapsing, the
jurisdiction's self-assessment deadline, a rectification deadline, a filing's 六(四)
extension and its end, each decided on as of the first day it changed.

A mixin of services/decisions/domain.py's `Case`: it finds the next change and calls the
case's commands, which record the events.
"""
import datetime

from services.decisions.case_facts import CLOSED, RECTIFYING, _date


class TimeDriven:
    def advance(self, today, campaign):
        """Bring the case up to `today`: every time-driven fact that changed since the case
        last looked (a legal registration lapsing, the jurisdiction's self-assessment
        deadline, a rectification deadline, a filing's 六(四) extension) is decided on as
        of the first day it changed, in date order. So the verdict on a date depends on
        the facts and the date only, not on which events arrived in between nor on when
        the sweep ran (issue 17). Called by the sweep and before every upstream fact."""
        commands = {
            "legal-registration": lambda day: self.reconsider(day, campaign),
            "self-assessment": lambda day: self.self_assessment_due_passed(day, campaign),
            "rectification": lambda day: self.rectification_deadline_passed(day, campaign),
            "extension": lambda day: self.extend_expired_filing(day, campaign),
            "extension-end": lambda day: self.end_extension(day),
        }
        changed = 0
        for _ in range(len(commands) * 2):  # each change happens once; bounded anyway
            due = self.next_change(today, campaign)
            if due is None:
                break
            day, kind = due
            commands[kind](day)
            changed += 1
        return changed

    def next_change(self, today, campaign):
        """(first day, kind) of the earliest time-driven change not yet decided on."""
        if not self.in_scope or self.filing is None or campaign is None:
            return None
        one = datetime.timedelta(days=1)
        points = []
        legal_until = self.legal_valid_until()
        if (legal_until and _date(legal_until) < today and self.legal_lapse_seen != legal_until
                and not self.terminated):
            points.append((_date(legal_until) + one, "legal-registration"))
        due = campaign.self_assessment_due(self.filing["jurisdiction"])
        if (due < today and not self.self_assessment_missed and self.phase != CLOSED
                and self.cohort in campaign.cohorts and not self.self_assessed_in_time(campaign)):
            points.append((due + one, "self-assessment"))
        if (self.phase == RECTIFYING and _date(self.deadline) < today
                and self.counted_rectification() is None):
            points.append((_date(self.deadline) + one, "rectification"))
        valid_until = _date(self.filing["valid_until"])
        if valid_until and valid_until < today and self._extendable(valid_until, campaign):
            points.append((valid_until + one, "extension"))
        if (self.extension and not self.extension["ended"]
                and _date(self.extension["until"]) < today):
            points.append((_date(self.extension["until"]) + one, "extension-end"))
        return min(points) if points else None
