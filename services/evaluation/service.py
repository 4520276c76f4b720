"""The evaluation service: case files, self-assessments and scores, by jurisdiction."""
from nameko.rpc import rpc

from shared import upload
from shared.nameko_ext import EventStore, inbox
from shared.service import EXPECTED, Acting
from services.evaluation.application import Evaluation


class EvaluationService:
    name = "evaluation"

    store = EventStore(Evaluation)
    acting = Acting()

    @inbox("evaluation", ["registry.Institution.#"])
    def on_registry_event(self, envelope):
        with self.acting.system(causation_id=envelope["id"]):
            self.store.on_upstream(envelope)

    @rpc(expected_exceptions=EXPECTED)
    def submit_score_sheet(self, identity, file):
        from services.evaluation.forms import read_score_sheet
        with self.acting(identity) as operator:
            operator.require_writer()
            with upload.received(file) as path:
                rows = read_score_sheet(path, self.store.rubric, name=file["filename"])
            return self.store.submit_scores(operator, file["filename"], [
                (r.row_number, r.uscc, r.areas, r.evaluator, r.evaluated_on) for r in rows])

    @rpc(expected_exceptions=EXPECTED)
    def case(self, identity, uscc):
        self.acting.verify(identity)
        return self.store.case(uscc)

    @rpc
    def health(self):
        return {"service": self.name, "ok": True}
