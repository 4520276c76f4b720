"""The evaluation service: the campaign, and the forms handed in by jurisdiction."""
from nameko.rpc import rpc

from shared import db, faults, upload
from shared.nameko_ext import EventStore, inbox
from shared.service import EXPECTED, Acting, AuditEntrypoints
from services.evaluation import campaign as campaign_module, forms
from services.evaluation.application import CaseFiles, Evaluation
from services.evaluation.rubric import Rubric


class EvaluationService(AuditEntrypoints):
    name = "evaluation"

    store = EventStore(Evaluation, projections=[CaseFiles])
    acting = Acting()

    @inbox("evaluation")
    def on_registry_event(self, envelope):
        with self.acting.system(causation_id=envelope["id"],
                                campaign=envelope.get("campaign")):
            self.store.on_upstream(envelope)

    @rpc(expected_exceptions=EXPECTED)
    def open_campaign(self, identity, spec=None):
        spec = campaign_module.validate(spec or campaign_module.DEFAULT_2023)
        with self.acting(identity, campaign=spec["notice"]) as operator:
            operator.require_role("province")
            return self.store.open_campaign(spec)

    @rpc(expected_exceptions=EXPECTED)
    @db.read_retried
    def campaign(self, identity):
        """The open campaign, with its rubric (templates are written from it)."""
        self.acting.verify(identity)
        campaign = self.store.require_campaign()
        return {**campaign.to_dict(), "rubric": campaign.rubric}

    @rpc(expected_exceptions=EXPECTED)
    @db.read_retried
    def campaign_status(self, identity):
        self.acting.verify(identity)
        return self.store.status(self.acting.clock.today())

    def _campaign(self):
        campaign = self.store.current_campaign()
        return campaign.notice if campaign else None

    def _submit(self, identity, file, read, record):
        with self.acting(identity, campaign=self._campaign()) as operator:
            operator.require_writer()
            with upload.received(file) as path:
                rows = read(path, file["filename"])
            result = record(operator, file["filename"], rows)
            # Committed, not yet answered or acknowledged: where a crash re-runs the request.
            faults.point("evaluation.submit.committed")
            return result

    @rpc(expected_exceptions=EXPECTED)
    def submit_self_assessment(self, identity, file):
        today = self.acting.clock.today()
        return self._submit(identity, file, lambda p, n: forms.read_self_assessment(p, name=n),
                            lambda op, n, rows: self.store.submit_self_assessments(
                                op, n, rows, today))

    @rpc(expected_exceptions=EXPECTED)
    def submit_score_sheet(self, identity, file):
        def read(path, name):
            rubric = Rubric.from_dict(self.store.require_campaign().rubric)
            return forms.read_score_sheet(path, rubric, name=name)
        return self._submit(identity, file, read, self.store.submit_scores)

    @rpc(expected_exceptions=EXPECTED)
    def submit_findings(self, identity, file):
        today = self.acting.clock.today()
        return self._submit(identity, file, lambda p, n: forms.read_findings(p, name=n),
                            lambda op, n, rows: self.store.submit_findings(op, n, rows, today))

    @rpc(expected_exceptions=EXPECTED)
    def submit_rectification(self, identity, file):
        return self._submit(identity, file, lambda p, n: forms.read_rectification(p, name=n),
                            self.store.submit_rectifications)

    @rpc(expected_exceptions=EXPECTED)
    def accept_excuse(self, identity, uscc, reason):
        with self.acting(identity, campaign=self._campaign()) as operator:
            return self.store.accept_excuse(operator, uscc, reason)

    @rpc(expected_exceptions=EXPECTED)
    def withdraw_finding(self, identity, uscc, clause, reason):
        with self.acting(identity, campaign=self._campaign()) as operator:
            return self.store.withdraw_finding(operator, uscc, clause, reason)

    @rpc
    def health(self):
        return {"service": self.name, "ok": True}
