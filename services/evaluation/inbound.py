"""The evaluation's inbound translation: the registry's filings (一) open and update the
case files, read through their contracts (shared/contracts/registry.py)."""
from shared import contracts, metadata
from shared.application import case_id
from shared.integration import position_of, typed
from services.evaluation.domain import CaseFile

FILING_EVENTS = (contracts.registry.InstitutionFiled, contracts.registry.FilingChanged)


class Inbound:
    """Mixed into the Evaluation application: `on_upstream` is its inbox's handler."""

    def on_upstream(self, envelope):
        """The registry's filings open and update the case files."""
        event = typed(envelope)
        if not isinstance(event, FILING_EVENTS):
            return False
        filing, uscc = contracts.to_data(event.filing), event.filing.uscc
        version = envelope.get("caseversion")

        def handle(processing_event):
            case = self.get_or_none(case_id(uscc))
            with metadata.about_fact("filing", version):
                if case is None:
                    case = CaseFile(uscc=uscc, filing=filing)
                elif case.is_newer("filing", version):
                    case.update_filing(filing)
            processing_event.collect_events(case)
        return self.process_upstream(envelope["source"], position_of(envelope), handle)
