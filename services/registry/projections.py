"""The registry's read tables: the current filings (一's scope), for listing and for the
roster import's change detection."""
from shared.integration import dumps
from shared.language.outcomes import COHORTS as IN_SCOPE_2023
from shared.projection import Projection


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
