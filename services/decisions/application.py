"""The decisions' application: facts in from upstream, verdicts out."""
from shared.application import ServiceApplication, case_id
from shared.integration import position_of, short_type
from shared.projection import Projection
from services.decisions.domain import Case

FILING_EVENTS = ("registry.Institution.Filed", "registry.Institution.FilingChanged")
SCORE_EVENTS = ("evaluation.CaseFile.Scored",)


class Deadlines(Projection):
    """Deadlines as data: the sweep that fires them reads this table."""

    name = "deadlines"
    tables = (
        "CREATE TABLE IF NOT EXISTS {t}due ("
        " case_id uuid NOT NULL, kind text NOT NULL, due date NOT NULL,"
        " set_by_version int NOT NULL, PRIMARY KEY (case_id, kind))",
    )

    def apply(self, cur, event, position):
        if type(event).__name__ != "Decided":
            return
        if event.deadline:
            cur.execute(f"INSERT INTO {self.table('due')} VALUES (%s, 'rectification', %s, %s) "
                        "ON CONFLICT (case_id, kind) DO UPDATE SET due = EXCLUDED.due, "
                        "set_by_version = EXCLUDED.set_by_version",
                        (str(event.originator_id), event.deadline, event.originator_version))
        else:
            cur.execute(f"DELETE FROM {self.table('due')} WHERE case_id = %s "
                        "AND kind = 'rectification'", (str(event.originator_id),))


class Decisions(ServiceApplication):
    name = "decisions"

    def on_upstream(self, envelope, today):
        kind = short_type(envelope)
        data = envelope["data"]
        if kind in FILING_EVENTS:
            uscc = data["filing"]["uscc"]
        elif kind in SCORE_EVENTS:
            uscc = data["uscc"]
        else:
            return False

        def handle(processing_event):
            case = self.get_or_none(case_id(uscc)) or Case(uscc)
            if kind in FILING_EVENTS:
                case.note_filing(filing=data["filing"], source_event=envelope["id"])
            else:
                case.note_score(score={k: data[k] for k in ("kind", "total", "grade",
                                                             "rubric_version", "evaluated_on")},
                                source_event=envelope["id"])
            case.decide(today)
            processing_event.collect_events(case)
        return self.process_upstream(envelope["source"], position_of(envelope), handle)

    def case(self, uscc):
        case = self.get_or_none(case_id(uscc))
        if case is None:
            return None
        verdict = case.verdict or {}
        return {"uscc": uscc, "in_scope": case.in_scope, "cohort": case.cohort,
                "class": verdict.get("klass"), "outcome": verdict.get("outcome"),
                "clauses": verdict.get("clauses", []), "deadline": case.deadline,
                "decided_on": case.decided_on,
                "rulebook_version": verdict.get("rulebook_version")}
