"""The decisions service: the notice's rules applied to each case; the cluster's clock."""
import datetime

from nameko.rpc import rpc

from shared import batch, db
from shared.errors import BadInput
from shared.nameko_ext import EventStore, inbox
from shared.service import EXPECTED, Acting, AuditEntrypoints
from services.decisions.application import Cases, Decisions


class DecisionsService(AuditEntrypoints):
    name = "decisions"

    store = EventStore(Decisions, projections=[Cases],
                       tick=lambda app, today: app.sweep(today))
    acting = Acting()

    @inbox("decisions")
    def on_upstream_events(self, envelopes):
        return batch.handle(self.store, envelopes, self._on_upstream_event)

    def _on_upstream_event(self, envelope):
        with self.acting.system(causation_id=envelope["id"],
                                campaign=envelope.get("campaign")):
            # Decided as of the day the fact was recorded upstream, not the day it arrived.
            day = envelope.get("businessdate")
            today = datetime.date.fromisoformat(day) if day else self.acting.clock.today()
            self.store.on_upstream(envelope, today)

    @rpc(expected_exceptions=EXPECTED)
    @db.read_retried
    def recheck_step(self, identity, start=1):
        self.acting.verify(identity)
        return self.store.recheck_verdicts(start)

    @rpc(expected_exceptions=EXPECTED)
    def explain(self, identity, uscc):
        self.acting.verify(identity)
        return self.store.explain(uscc)

    @rpc(expected_exceptions=EXPECTED)
    def cases(self, identity, jurisdiction):
        self.acting.verify(identity).require_reader_of(jurisdiction)
        return self.store.cases(jurisdiction)

    @rpc(expected_exceptions=EXPECTED)
    def rectification_windows(self, identity, usccs):
        """For evaluation checking a rectification form: one call per file (issue 17), with
        the token the operator minted for that submission."""
        self.acting.verify_delegated(identity, "evaluation", "submit_rectification")
        return self.store.rectification_windows(usccs)

    @rpc(expected_exceptions=EXPECTED)
    def under_rectification(self, identity, jurisdiction):
        """The jurisdiction's cases under rectification: the only rows of its
        rectification and re-score templates (issue 15)."""
        self.acting.verify(identity).require_reader_of(jurisdiction)
        return self.store.under_rectification(jurisdiction)

    @rpc(expected_exceptions=EXPECTED)
    def set_clock(self, identity, date):
        with self.acting(identity) as operator:
            operator.require_role("province")
            try:
                day = None if date is None else datetime.date.fromisoformat(date)
            except ValueError:
                raise BadInput(f"not a date (YYYY-MM-DD): {date!r}")
            try:
                self.acting.clock.set(day, operator.id, cases_exist=bool(
                    self.store.recorder.max_notification_id()))
            except PermissionError as exc:
                raise BadInput(str(exc))
            return self.acting.clock.show()

    @rpc(expected_exceptions=EXPECTED)
    def clock_history(self, identity):
        self.acting.verify(identity)
        return self.acting.clock.history()

    @rpc(expected_exceptions=EXPECTED)
    def show_clock(self, identity):
        self.acting.verify(identity)
        return self.acting.clock.show()

    @rpc
    def health(self):
        return {"service": self.name, "ok": True}
