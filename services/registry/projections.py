"""The registry's read tables: the current filings (一's scope), for listing and for the
roster import's change detection. Applied a batch at a time (issue 14)."""
from shared.language.outcomes import COHORTS as IN_SCOPE_2023
from shared.projection import Projection, Rows

COLUMNS = ("uscc", "case_id", "name", "category", "level", "city", "jurisdiction", "cohort",
           "in_scope", "filing", "version")


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

    def apply_all(self, cur, events):
        # Each filing event carries the whole filing: the last one of a USCC is its row
        # (a row already there keeps its case id), so nothing needs reading first.
        rows = Rows(cur, self.table("current"), "uscc", COLUMNS, jsonb=("filing",),
                    update=[c for c in COLUMNS if c not in ("uscc", "case_id")])
        for event, _ in events:
            if not hasattr(event, "filing"):
                continue  # facts reported by other systems do not change the filing
            filing = event.filing
            rows.put(filing["uscc"], {
                "uscc": filing["uscc"], "case_id": str(event.originator_id),
                "name": filing["name"], "category": filing["category"],
                "level": filing["level"], "city": filing.get("city"),
                "jurisdiction": filing["jurisdiction"], "cohort": filing["cohort"],
                "in_scope": filing["cohort"] in IN_SCOPE_2023, "filing": filing,
                "version": event.originator_version})
        rows.write()
