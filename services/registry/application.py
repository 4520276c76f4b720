"""The registry's application: filings recorded from the roster, read back for queries."""
from shared.application import ServiceApplication, case_id
from shared.projection import Projection
from services.registry.domain import Institution

IN_SCOPE_2023 = (2020, 2021)


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

    def filing(self, uscc):
        institution = self.get_or_none(case_id(uscc))
        return None if institution is None else dict(institution.filing,
                                                     in_scope=institution.filing["cohort"] in IN_SCOPE_2023,
                                                     case_id=str(institution.id),
                                                     version=institution.version)

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
