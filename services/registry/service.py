"""The registry service: the province's filings."""
from nameko.rpc import rpc

from shared import batch, upload
from shared.nameko_ext import EventStore, inbox
from shared.service import EXPECTED, Acting, AuditEntrypoints
from services.registry.application import Filings, Registry
from services.registry.directory_service import DirectoryEntrypoints


class RegistryService(AuditEntrypoints, DirectoryEntrypoints):
    name = "registry"

    store = EventStore(Registry, projections=[Filings])
    acting = Acting()

    @rpc(expected_exceptions=EXPECTED)
    def import_roster(self, identity, file):
        with self.acting(identity) as operator:
            operator.require_role("province")
            rows = upload.parse(file, "roster", today=self.acting.clock.today())
            return self.store.import_roster([row.to_dict() for row in rows])

    @rpc(expected_exceptions=EXPECTED)
    def report_legal_status(self, identity, file):
        return self._report(identity, file, "legal-status", self.store.report_legal_status)

    @rpc(expected_exceptions=EXPECTED)
    def report_activity(self, identity, file):
        return self._report(identity, file, "activity", self.store.report_activity)

    def _report(self, identity, file, kind, record):
        with self.acting(identity) as operator:
            operator.require_role("province")
            rows = upload.parse(file, kind, today=self.acting.clock.today())
            return record(rows, source=f"xlsx:{operator.id}", filename=file["filename"])

    @inbox("registry")
    def on_external_events(self, envelopes):
        return batch.handle(self.store, envelopes, self._on_external_event)

    def _on_external_event(self, envelope):
        with self.acting.system(causation_id=envelope["id"],
                                campaign=envelope.get("campaign")):
            self.store.on_upstream(envelope)

    @rpc(expected_exceptions=EXPECTED)
    def institutions(self, identity, jurisdiction=None, cohort=None, in_scope=None):
        self.acting.verify(identity)
        return self.store.institutions(jurisdiction, cohort, in_scope)

    @rpc
    def health(self):
        return {"service": self.name, "ok": True}
