"""The notices' application: the list of decided cases, and (later) the publications."""
from shared.application import ServiceApplication, case_id
from shared.integration import position_of, short_type
from shared.projection import Projection
from services.notices.domain import Entry


class Decided(Projection):
    name = "decided"
    tables = (
        "CREATE TABLE IF NOT EXISTS {t}cases ("
        " uscc text PRIMARY KEY, case_id uuid NOT NULL, name text, jurisdiction text,"
        " cohort int, class text NOT NULL, outcome text NOT NULL, clauses jsonb NOT NULL,"
        " deadline date, decided_on date NOT NULL, rulebook_version text NOT NULL)",
    )

    def apply(self, cur, event, position):
        if type(event).__name__ != "VerdictReceived":
            return
        from shared.integration import dumps
        v = event.verdict
        cur.execute(
            f"INSERT INTO {self.table('cases')} VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (uscc) DO UPDATE SET name=EXCLUDED.name,"
            " jurisdiction=EXCLUDED.jurisdiction, cohort=EXCLUDED.cohort, class=EXCLUDED.class,"
            " outcome=EXCLUDED.outcome, clauses=EXCLUDED.clauses, deadline=EXCLUDED.deadline,"
            " decided_on=EXCLUDED.decided_on, rulebook_version=EXCLUDED.rulebook_version",
            (v["uscc"], str(event.originator_id), v.get("name"), v.get("jurisdiction"),
             v.get("cohort"), v["class"], v["outcome"], dumps(v["clauses"]), v.get("deadline"),
             v["decided_on"], v["rulebook_version"]))


class Notices(ServiceApplication):
    name = "notices"

    def on_upstream(self, envelope):
        if short_type(envelope) != "decisions.Case.Decided":
            return False
        data = envelope["data"]
        filing = data["inputs"].get("filing", {})
        verdict = {
            "uscc": data["uscc"], "class": data["verdict"]["klass"],
            "outcome": data["verdict"]["outcome"], "clauses": data["verdict"]["clauses"],
            "rulebook_version": data["verdict"]["rulebook_version"],
            "deadline": data["deadline"], "decided_on": data["decided_on"],
            "cohort": filing.get("cohort"), "jurisdiction": filing.get("jurisdiction"),
            "name": filing.get("name"),
        }

        def handle(processing_event):
            entry = self.get_or_none(case_id(data["uscc"])) or Entry(data["uscc"])
            entry.receive_verdict(verdict=verdict, source_event=envelope["id"])
            processing_event.collect_events(entry)
        return self.process_upstream(envelope["source"], position_of(envelope), handle)

    def decided(self, jurisdiction=None):
        self.projections["decided"].catch_up()
        where, params = ("WHERE jurisdiction = %s", [jurisdiction]) if jurisdiction else ("", [])
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute(f"SELECT uscc, name, jurisdiction, cohort, class, outcome, clauses,"
                        f" deadline, decided_on, rulebook_version FROM notices.decided_cases"
                        f" {where} ORDER BY jurisdiction, uscc", params)
            rows = cur.fetchall()
        return [{**dict(row), "deadline": row["deadline"] and row["deadline"].isoformat(),
                 "decided_on": row["decided_on"].isoformat()} for row in rows]
