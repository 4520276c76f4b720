"""The registry's application: filings recorded from the roster, facts reported about them,
read back for queries. What arrives from the bus is translated in inbound.py; the read
tables are in projections.py."""
from shared.application import ServiceApplication, case_id
from shared.bulk import load_many
from shared.errors import BadInput
from shared.language.outcomes import COHORTS as IN_SCOPE_2023
from services.registry.domain import Institution
from services.registry.inbound import Inbound
from services.registry.projections import Filings  # noqa: F401  (the service attaches it)


class Registry(Inbound, ServiceApplication):
    name = "registry"

    def import_roster(self, filings):
        """Record a whole roster in one transaction: new filings, changed filings; an
        unchanged row records nothing. `filings` are validated RosterRow dicts.

        The file's institutions are loaded in one query (issue 14: a nation's roster of
        20,000 rows was 20,000 round trips)."""
        def command():
            to_save, counts = [], {"filed": 0, "changed": 0, "unchanged": 0}
            known = load_many(self, [case_id(f["uscc"]) for f in filings])
            for filing in filings:
                institution = known[case_id(filing["uscc"])]
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
        institution that is not filed refuses the whole file. The institutions are loaded
        in one query (issue 14)."""
        def command():
            changed = {}
            known = load_many(self, [case_id(fact.uscc) for fact in facts])
            for fact in facts:
                institution = known[case_id(fact.uscc)]
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
        return self._report(statuses, self.legal_status_change(source), source, filename)

    def report_activity(self, activities, source, filename=None):
        return self._report(activities, lambda inst, a: inst.report_activity(
            a.year, list(a.rows), source), source, filename)

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
