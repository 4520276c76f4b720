"""The registry's inbound translation: facts other provincial HR systems publish on the bus
(`external.*`, docs/events.md "Consumed events") become the institution's own events,
the same as from an xlsx report (services/registry/facts.py): 四(二)2's legal registration,
四(一)1's certification activity.

A message whose data does not fit its contract, names an unknown institution or carries an
invalid value is refused: it is dead-lettered (PoisonMessage), and a Refusal.Recorded event
tells its publisher why (services/registry/refusals.py)."""
from eventsourcing.persistence import IntegrityError

from shared import contracts
from shared.application import case_id
from shared.integration import PoisonMessage, position_of
from services.registry import facts
from services.registry.refusals import Refusal


class Inbound:
    """Mixed into the Registry application: `on_upstream` is its inbox's handler."""

    def on_upstream(self, envelope):
        """Facts published on the bus by other provincial HR systems."""
        kind, source = envelope["type"], envelope["source"]
        try:
            typed = contracts.read(envelope)
            if typed is None:
                return False  # a type the registry does not know: ignored
            if isinstance(typed, contracts.external.LegalRegistration):
                fact = facts.legal_status_from_event(typed)
                change = self.legal_status_change(source)
            else:
                fact = facts.activity_from_event(typed)

                def change(inst, a):
                    return facts.activity_supersedes(a, inst) and inst.report_activity(
                        a.year, list(a.rows), source, a.reported_on)
        except (contracts.ContractError, ValueError) as exc:
            self.refuse(envelope, str(exc))

        def handle(processing_event):
            institution = self.get_or_none(case_id(fact.uscc))
            if institution is None:
                self.refuse(envelope, f"institution {fact.uscc} is not filed")
            if change(institution, fact):
                processing_event.collect_events(institution)
        return self.process_upstream(source, position_of(envelope), handle)

    def legal_status_change(self, source):
        """Record a legal-status report if it is newer than the one the institution has
        (facts.supersedes: by report date, whatever the order of arrival)."""
        def change(inst, s):
            return facts.supersedes(s, inst.legal_status) and inst.report_legal_status(
                s.status, s.legal_valid_until, s.reported_on, source)
        return change

    def refuse(self, envelope, reason):
        """Tell the publisher why (once per message, however often it is redelivered),
        then dead-letter it. Nothing of the refused fact is recorded, so the same
        (source, sequence) may be sent again once the cause is fixed."""
        refusal = Refusal(source=envelope["source"], refused_id=str(envelope["id"]),
                          refused_type=envelope["type"], sequence=str(envelope["sequence"]),
                          reason=reason[:2000])
        try:
            self.save(refusal)
        except IntegrityError:
            pass  # a redelivery: its refusal was recorded the first time
        raise PoisonMessage(f"{envelope['type']}: {reason}")
