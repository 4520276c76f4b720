"""The notices' inbound translation: the registry's filings and the decisions' verdicts,
read through their contracts (shared/contracts), become each case's publication row
(四(三)'s outcomes as the notices list them)."""
from shared import metadata
from shared.application import case_id
from shared.contracts import decisions as dec, registry as reg
from shared.integration import position_of, typed
from services.notices.domain import Entry


def filing_of(event):
    f = event.filing
    return {"uscc": f.uscc, "name": f.name, "category": f.category, "level": f.level,
            "jurisdiction": f.jurisdiction, "cohort": f.cohort}


def verdict_of(event):
    """The verdict as notices keep it: with the score it was reached on, and how it follows
    from its facts (a rectification's end, "rescore" or "deadline", and its grade give
    the notice its reason)."""
    score = event.inputs.get("score") or {}
    return {"class": event.verdict.klass, "outcome": event.verdict.outcome,
            "clauses": event.verdict.clauses, "deadline": event.deadline,
            "decided_on": event.decided_on,
            "rulebook_version": event.verdict.rulebook_version,
            "total": score.get("total"), "grade": score.get("grade"),
            "basis": event.basis or None, "facts_grade": event.facts.get("grade")}


class Inbound:
    """Mixed into the Notices application: `on_upstream` is its inbox's handler."""

    def on_upstream(self, envelope):
        event = typed(envelope)
        if isinstance(event, (reg.InstitutionFiled, reg.FilingChanged)):
            filing = filing_of(event)
            uscc, fact = filing["uscc"], "filing"
            change = lambda e: e.receive_filing(filing, envelope["id"])  # noqa: E731
        elif isinstance(event, dec.Decided):
            verdict = verdict_of(event)
            uscc, fact = event.uscc, "verdict"
            change = lambda e: e.receive_verdict(verdict, envelope["id"])  # noqa: E731
        else:
            return False
        version = envelope.get("caseversion")

        def handle(processing_event):
            entry = self.get_or_none(case_id(uscc)) or Entry(uscc)
            if entry.is_newer(fact, version):
                with metadata.about_fact(fact, version):
                    change(entry)
            processing_event.collect_events(entry)
        return self.process_upstream(envelope["source"], position_of(envelope), handle)
