"""What a decisions case knows, turned into the rulebook's facts (DESIGN.md §1): its
cohort and scope, the legal registration, whether the self-assessment came by the
jurisdiction's own deadline (三(一)), the campaign's readings as they apply to it, and
`facts`, everything the rules look at on a given day.

A mixin of services/decisions/domain.py's `Case`: it reads the case's state and records
nothing, so the aggregate (and its events' topics) stays where it is.
"""
import datetime

from shared.language.outcomes import COHORTS
from services.decisions import rulebook


# The phases of a case: undecided, decided, rectifying (四(二), two months), closed.
UNDECIDED, DECIDED, RECTIFYING, CLOSED = "undecided", "decided", "rectifying", "closed"


def _date(text):
    return datetime.date.fromisoformat(text) if text else None


class CaseFacts:
    @property
    def cohort(self):
        return self.filing["cohort"] if self.filing else None

    @property
    def in_scope(self):
        return self.cohort in COHORTS

    def legal_valid_until(self):
        legal = self.legal_status or {}
        return legal.get("legal_valid_until") or (self.filing or {}).get("legal_valid_until")

    def self_assessed_in_time(self, campaign):
        """三(一): in time by the jurisdiction's own deadline (by evaluation's verdict on
        time when the submission date is not known, as in events before issue 17)."""
        sa = self.self_assessment
        if not sa:
            return False
        if sa.get("submitted_on") and campaign is not None:
            return (_date(sa["submitted_on"])
                    <= campaign.self_assessment_due(self.filing["jurisdiction"]))
        return bool(sa.get("ever_on_time") or sa.get("on_time"))

    def readings(self, campaign):
        """The campaign's readings of the notice as they apply to this case (its
        jurisdiction's self-assessment deadline); None without a campaign."""
        if campaign is None:
            return None
        return {**campaign.readings, "self_assessment_due": {
            **campaign.readings["self_assessment_due"],
            "applied": campaign.self_assessment_due(self.filing["jurisdiction"]).isoformat()}}

    def facts(self, today, campaign):
        legal = self.legal_status or {}
        legal_until = self.legal_valid_until()
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
        readings = self.readings(campaign)
        seriously_out_of_scope = bool(derived and derived["seriously_out_of_scope"])
        if readings is not None:
            if derived is not None:
                seriously_out_of_scope = rulebook.seriously_beyond_scope(
                    derived["out_of_scope"], self.self_assessment.get("assessed_total"),
                    readings["beyond_scope"])
        return rulebook.Facts(
            cohort=self.cohort,
            grade=self.score["grade"] if self.score else None,
            findings=frozenset(f["clause"] for f in self.findings.values() if f["active"]),
            filed_year=filed_year,
            activity_years=frozenset(years) if years is not None else None,
            evaluated_through_year=campaign.evaluated_through_year if campaign else None,
            seriously_out_of_scope=seriously_out_of_scope,
            legal_registration_expired=(legal.get("status") == "expired"
                                        or bool(legal_until and _date(legal_until) < today)),
            annual_report_problem=legal.get("status") == "annual-report-problem",
            self_assessed=self.self_assessed_in_time(campaign),
            excused=self.excused,
            self_assessment_due_passed=self.self_assessment_missed,
            filed_on=self.filing["published_on"] if readings else None,
            activity_window_ends=readings["no_activity"]["window_ends"] if readings else None,
            inactive_months=readings["no_activity"]["months"] if readings else 24,
            readings=readings,
        )
