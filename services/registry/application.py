"""The registry's application: filings recorded from the roster, read back for queries."""
from shared.application import ServiceApplication, case_id
from shared.errors import BadInput
from shared.projection import Projection
from services.registry.domain import Institution

from shared.language.outcomes import COHORTS as IN_SCOPE_2023


class Filings(Projection):
    """The read table of current filings, for listing and for import's change detection."""

    name = "filings"
    tables = (
        "CREATE TABLE IF NOT EXISTS {t}current ("
        " uscc text PRIMARY KEY, case_id uuid NOT NULL, name text NOT NULL,"
        " category text NOT NULL, level text NOT NULL, city text, jurisdiction text NOT NULL,"
        " cohort int NOT NULL, in_scope boolean NOT NULL, filing jsonb NOT NULL,"
        " version int NOT NULL)",
    )

    def apply(self, cur, event, position):
        from shared.integration import dumps
        if not hasattr(event, "filing"):
            return  # facts reported by other systems do not change the filing
        filing = event.filing
        cur.execute(
            f"INSERT INTO {self.table('current')} VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (uscc) DO UPDATE SET name=EXCLUDED.name, category=EXCLUDED.category,"
            " level=EXCLUDED.level, city=EXCLUDED.city, jurisdiction=EXCLUDED.jurisdiction,"
            " cohort=EXCLUDED.cohort, in_scope=EXCLUDED.in_scope, filing=EXCLUDED.filing,"
            " version=EXCLUDED.version",
            (filing["uscc"], str(event.originator_id), filing["name"], filing["category"],
             filing["level"], filing.get("city"), filing["jurisdiction"], filing["cohort"],
             filing["cohort"] in IN_SCOPE_2023, dumps(filing), event.originator_version))


class Registry(ServiceApplication):
    name = "registry"

    def import_roster(self, filings):
        """Record a whole roster in one transaction: new filings, changed filings; an
        unchanged row records nothing. `filings` are validated RosterRow dicts."""
        def command():
            to_save, counts = [], {"filed": 0, "changed": 0, "unchanged": 0}
            for filing in filings:
                institution = self.get_or_none(case_id(filing["uscc"]))
                if institution is None:
                    to_save.append(Institution(filing))
                    counts["filed"] += 1
                elif institution.update_filing(filing):
                    to_save.append(institution)
                    counts["changed"] += 1
                else:
                    counts["unchanged"] += 1
            if to_save:
                self.save(*to_save)
            return counts
        return self.run_command(command)

    def _report(self, facts, change, source, filename=None):
        """Record facts about filed institutions in one transaction; a fact about an
        institution that is not filed refuses the whole file."""
        def command():
            changed = {}
            for index, fact in enumerate(facts):
                institution = changed.get(fact.uscc) or self.get_or_none(case_id(fact.uscc))
                if institution is None:
                    raise BadInput(f"institution {fact.uscc} is not filed", file=filename,
                                   column="统一社会信用代码")
                if change(institution, fact):
                    changed[fact.uscc] = institution
            if changed:
                self.save(*changed.values())
            return {"facts": len(facts), "recorded": len(changed)}
        return self.run_command(command)

    def report_legal_status(self, statuses, source, filename=None):
        return self._report(statuses, lambda inst, s: inst.report_legal_status(
            s.status, s.legal_valid_until, s.reported_on, source), source, filename)

    def report_activity(self, activities, source, filename=None):
        return self._report(activities, lambda inst, a: inst.report_activity(
            a.year, list(a.rows), source), source, filename)

    def on_upstream(self, envelope):
        """Facts published on the bus by other provincial HR systems."""
        from services.registry import facts
        from shared.integration import PoisonMessage, position_of
        kind = envelope["type"]
        try:
            if kind == "pinggu.external.LegalRegistration.v1":
                fact, change = facts.legal_status_from_event(envelope["data"]), \
                    lambda inst, s: inst.report_legal_status(
                        s.status, s.legal_valid_until, s.reported_on, envelope["source"])
            elif kind == "pinggu.external.CertificationActivity.v1":
                fact, change = facts.activity_from_event(envelope["data"]), \
                    lambda inst, a: inst.report_activity(a.year, list(a.rows),
                                                         envelope["source"])
            else:
                return False
        except (KeyError, TypeError, ValueError) as exc:
            raise PoisonMessage(f"{kind}: {exc}")

        def handle(processing_event):
            institution = self.get_or_none(case_id(fact.uscc))
            if institution is None:
                raise PoisonMessage(f"{kind}: institution {fact.uscc} is not filed")
            if change(institution, fact):
                processing_event.collect_events(institution)
        return self.process_upstream(envelope["source"], position_of(envelope), handle)

    def view(self, institution):
        return dict(institution.filing, in_scope=institution.filing["cohort"] in IN_SCOPE_2023,
                    case_id=str(institution.id), version=institution.version,
                    legal_status=institution.legal_status, activity=institution.activity)

    def institutions(self, jurisdiction=None, cohort=None, in_scope=None):
        clauses, params = [], []
        for column, value in (("jurisdiction", jurisdiction), ("cohort", cohort),
                              ("in_scope", in_scope)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        self.projections["filings"].catch_up()
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute(f"SELECT filing, in_scope FROM registry.filings_current {where} "
                        "ORDER BY jurisdiction, uscc", params)
            return [dict(row["filing"], in_scope=row["in_scope"]) for row in cur.fetchall()]
