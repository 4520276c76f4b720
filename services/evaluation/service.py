"""The evaluation service: the campaign, and the forms handed in by jurisdiction."""
from nameko.rpc import RpcProxy, rpc

from shared import batch, db, faults, upload, xlsx
from shared.errors import BadInput
from shared.nameko_ext import EventStore, inbox
from shared.service import EXPECTED, Acting, AuditEntrypoints
from services.evaluation import campaign as campaign_module, forms, rectification
from services.evaluation.application import CaseFiles, Evaluation
from services.evaluation.forms.templates import PER_FILE, part_ranges
from services.evaluation.rubric import Rubric


class EvaluationService(AuditEntrypoints):
    name = "evaluation"

    store = EventStore(Evaluation, projections=[CaseFiles])
    acting = Acting()
    decisions = RpcProxy("decisions")  # rectification periods (issue 17)
    # How many institutions a template part lists (a test's worker may list fewer).
    template_per_file = PER_FILE

    @inbox("evaluation")
    def on_registry_events(self, envelopes):
        return batch.handle(self.store, envelopes, self._on_registry_event)

    def _on_registry_event(self, envelope):
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

    @rpc(expected_exceptions=EXPECTED)
    @db.read_retried
    def case_files(self, identity, jurisdiction):
        operator = self.acting.verify(identity)
        operator.require_reader_of(jurisdiction)
        return self.store.case_files(jurisdiction)

    @rpc(expected_exceptions=EXPECTED)
    @db.read_retried
    def template(self, identity, kind, jurisdiction=None, usccs=None, part=None):
        """A form of `kind` pre-filled for a jurisdiction (the caller's own, 属地管理), with
        all its institutions in scope or only `usccs` of them; the xlsx, base64.

        `parts`: how many files the form is handed in as, at most `template_per_file`
        institutions each, cut as `pinggu template` cuts its files (issue 14). `part` k
        (from 1) lists only the k-th of them (None when there is no such part); without
        it, the whole in one file, as before parts existed: a caller that has not learnt
        about parts still gets every institution, and `parts` tells it to ask again."""
        import base64
        import tempfile
        jurisdiction, chosen = self._template_scope(identity, jurisdiction, usccs)
        if kind not in forms.KINDS:
            raise BadInput(f"unknown form {kind!r}; one of {', '.join(forms.KINDS)}")
        if part is not None and (type(part) is not int or part < 1):
            raise BadInput(f"part must be a whole number from 1, not {part!r}")
        rubric = Rubric.from_dict(self.store.require_campaign().rubric)
        parts = part_ranges(len(chosen), self.template_per_file)
        if part is not None:
            if part > len(parts):
                return None
            listed = parts[part - 1]
            chosen = chosen[listed.start:listed.stop]
        # The names of the listed institutions only: a part loads its own case files.
        institutions = self.store.named_institutions(jurisdiction, chosen)
        with tempfile.TemporaryDirectory(prefix="pinggu-template-") as tmp:
            path = forms.write_template(kind, f"{tmp}/{kind}.xlsx", institutions,
                                        rubric=rubric)
            with open(path, "rb") as f:
                return {"content": base64.b64encode(f.read()).decode(),
                        "institutions": len(institutions), "part": part,
                        "parts": len(parts)}

    @rpc(expected_exceptions=EXPECTED)
    @db.read_retried
    def template_parts(self, identity, jurisdiction=None, usccs=None):
        """The parts `template` cuts a jurisdiction's form into (all in scope, or only
        `usccs` of them), without writing any: per part, its number, the positions of its
        first and last institution (from 1) and how many it lists. The desk's forms page
        links each part."""
        _, chosen = self._template_scope(identity, jurisdiction, usccs)
        return [{"part": n, "first": r.start + 1, "last": r.stop, "institutions": len(r)}
                for n, r in enumerate(part_ranges(len(chosen), self.template_per_file), 1)]

    def _template_scope(self, identity, jurisdiction, usccs):
        """The jurisdiction a template is for (属地管理 checked) and the USCCs it lists, in
        the order it lists them (by USCC, as the registry's list the CLI cuts)."""
        operator = self.acting.verify(identity)
        jurisdiction = jurisdiction or operator.jurisdiction
        operator.require_reader_of(jurisdiction)
        return jurisdiction, self.store.template_usccs(jurisdiction, usccs)

    def _campaign(self):
        campaign = self.store.current_campaign()
        return campaign.notice if campaign else None

    def _submit(self, identity, file, kind, record, **params):
        with self.acting(identity, campaign=self._campaign()) as operator:
            operator.require_writer()
            rows = upload.parse(file, kind, **params)
            result = record(operator, file["filename"], rows)
            # Committed, not yet answered or acknowledged: where a crash re-runs the request.
            faults.point("evaluation.submit.committed")
            return result

    def _period(self):
        """The dates a form may give: from the campaign's year to the business date
        (and the days a form may be dated ahead, xlsx.latest_date)."""
        campaign = self.store.require_campaign()
        first = min(campaign.milestone(m) for m in campaign_module.MILESTONES)
        return first.replace(month=1, day=1), xlsx.latest_date(self.acting.clock.today())

    @rpc(expected_exceptions=EXPECTED)
    def submit_self_assessment(self, identity, file):
        today = self.acting.clock.today()
        return self._submit(identity, file, forms.SELF_ASSESSMENT,
                            lambda op, n, rows: self.store.submit_self_assessments(
                                op, n, rows, today))

    @rpc(expected_exceptions=EXPECTED)
    def submit_score_sheet(self, identity, file):
        rubric = Rubric.from_dict(self.store.require_campaign().rubric)
        return self._submit(identity, file, forms.SCORE_SHEET, self.store.submit_scores,
                            rubric=rubric, period=self._period())

    @rpc(expected_exceptions=EXPECTED)
    def submit_findings(self, identity, file):
        today = self.acting.clock.today()
        return self._submit(identity, file, forms.FINDINGS,
                            lambda op, n, rows: self.store.submit_findings(op, n, rows, today))

    @rpc(expected_exceptions=EXPECTED)
    def submit_rectification(self, identity, file):
        today = self.acting.clock.today()

        def record(operator, filename, rows):
            # One call for the whole file: the periods decisions holds for its institutions.
            windows = self.decisions.rectification_windows(
                identity, sorted({row.uscc for row in rows}))
            rectification.check_periods(filename, rows, windows, today)
            return self.store.submit_rectifications(operator, filename, rows)
        return self._submit(identity, file, forms.RECTIFICATION, record,
                            period=self._period())

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
