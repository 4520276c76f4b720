"""The decisions' inbound translation: each upstream fact, read through its contract
(shared/contracts), becomes a `…Noted` event of the case, which is then reconsidered
(四(一), 四(二), 六(二)); evaluation's campaign (三, 五) becomes the decisions' own.

Which fact an event states (`fact_key`) decides which version wins: an older version of
a fact that arrives late is neither noted nor reconsidered."""
from shared import contracts, metadata
from shared.application import campaign_id, case_id
from shared.contracts import evaluation as ev, registry as reg
from shared.integration import position_of, typed
from services.decisions.domain import Campaign, Case

# The upstream events decisions reads; its inbox is bound to these only (shared/bus.py
# INBOXES). Any other type that still comes (a queue bound before issue 14) is ignored
# before its data is read: CaseFile.Opened, one for every filing, cost a contract read.
HANDLED = (reg.InstitutionFiled, reg.FilingChanged, reg.LegalStatusReported,
           reg.ActivityReported, ev.CampaignOpened, ev.SelfAssessed, ev.Scored,
           ev.FindingRecorded, ev.FindingWithdrawn, ev.ExcuseAccepted,
           ev.RectificationSubmitted)
_HANDLED_TYPES = frozenset(contract.TYPE for contract in HANDLED)


def fact_key(event):
    """Which fact of the case an upstream event states (the latest version wins)."""
    if isinstance(event, (reg.InstitutionFiled, reg.FilingChanged)):
        return "filing"
    if isinstance(event, reg.ActivityReported):
        return f"activity:{event.year}"
    if isinstance(event, (ev.FindingRecorded, ev.FindingWithdrawn)):
        return f"finding:{event.finding_id}"
    return event.TYPE.split(".")[-2]  # e.g. LegalStatusReported


def note_of(event, source_event, today):
    """How an upstream event changes the case's facts: a function of the case, or None
    for an event that states none."""
    if isinstance(event, (reg.InstitutionFiled, reg.FilingChanged)):
        filing = contracts.to_data(event.filing)
        return lambda c: c.note_filing(filing, source_event)
    if isinstance(event, reg.LegalStatusReported):
        return lambda c: c.note_legal_status(event.status, event.legal_valid_until,
                                             source_event)
    if isinstance(event, reg.ActivityReported):
        return lambda c: c.note_activity(event.year, sum(r.certified for r in event.rows),
                                         source_event)
    if isinstance(event, ev.SelfAssessed):
        assessed = sum(row.get("assessed", 0) for row in event.activity)
        return lambda c: c.note_self_assessment(event.on_time, event.derived, source_event,
                                                event.submitted_on, assessed)
    if isinstance(event, ev.Scored):
        score = {"kind": event.kind, "total": event.total, "grade": event.grade,
                 "rubric_version": event.rubric_version, "evaluated_on": event.evaluated_on}
        return lambda c: c.note_score(score, source_event)
    if isinstance(event, (ev.FindingRecorded, ev.FindingWithdrawn)):
        active = isinstance(event, ev.FindingRecorded)
        return lambda c: c.note_finding(event.finding_id, event.clause, active, source_event)
    if isinstance(event, ev.ExcuseAccepted):
        return lambda c: c.note_excuse(event.reason, source_event)
    if isinstance(event, ev.RectificationSubmitted):
        return lambda c: c.note_rectification(event.submitted_on, source_event,
                                              today.isoformat())
    return None


def uscc_of(event):
    filing = getattr(event, "filing", None)
    return filing.uscc if filing is not None else event.uscc


class Inbound:
    """Mixed into the Decisions application: `on_upstream` is its inbox's handler."""

    def on_upstream(self, envelope, today):
        if envelope["type"] not in _HANDLED_TYPES:
            return False
        event = typed(envelope)
        if isinstance(event, ev.CampaignOpened):
            return self.process_upstream(envelope["source"], position_of(envelope),
                                         lambda pe: self._note_campaign(pe, envelope, event))
        note = note_of(event, envelope["id"], today) if event is not None else None
        if note is None:
            return False
        uscc, key, version = uscc_of(event), fact_key(event), envelope.get("caseversion")

        def handle(processing_event):
            case, campaign_of = self.case_and_campaign(case_id(uscc))
            case = case or Case(uscc)
            if case.is_newer(key, version):
                campaign = campaign_of()
                with metadata.about_fact(key, version):
                    case.receive(note, today, campaign)
            processing_event.collect_events(case)
        return self.process_upstream(envelope["source"], position_of(envelope), handle)

    def _note_campaign(self, processing_event, envelope, event):
        if self.get_or_none(campaign_id(event.notice)) is not None:
            return
        processing_event.collect_events(Campaign(
            notice=event.notice, cohorts=event.cohorts, milestones=event.milestones,
            evaluated_through_year=event.evaluated_through_year,
            readings=None if event.readings is contracts.ABSENT else event.readings,
            # The business date the campaign was opened on starts the period in which an
            # expiring filing is extended (六(四)).
            opened_on=envelope.get("businessdate") or event.milestones["self_assessment_due"]))
