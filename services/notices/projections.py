"""The notices' read tables: each case's publication row (四(三)'s outcomes), and the
published notices the portal serves. Applied a batch at a time (issue 14):
shared/projection.py."""
from shared.integration import dumps
from shared.projection import Projection, Rows, insert_all

ENTRY_COLUMNS = ("uscc", "case_id", "jurisdiction", "cohort", "entry")


class Listing(Projection):
    """Each case's publication row, and the published notices the portal serves."""

    name = "listing"
    events = frozenset({"Entry.FilingReceived", "Entry.VerdictReceived", "Notice.Published"})
    tables = (
        "CREATE TABLE IF NOT EXISTS {t}entries ("
        " uscc text PRIMARY KEY, case_id uuid UNIQUE NOT NULL, jurisdiction text NOT NULL,"
        " cohort int NOT NULL, entry jsonb)",
        "CREATE TABLE IF NOT EXISTS {t}notices ("
        " id uuid PRIMARY KEY, sequence int UNIQUE NOT NULL, number text NOT NULL,"
        " title text NOT NULL, published_on date NOT NULL, recorded_at timestamptz NOT NULL,"
        " corrects jsonb, html text NOT NULL, data jsonb NOT NULL, xlsx bytea NOT NULL)",
    )

    def apply_all(self, cur, events):
        # Keyed by case id, which a USCC's case always has (shared.language.identifiers).
        entries = Rows(cur, self.table("entries"), "case_id", ENTRY_COLUMNS, jsonb=("entry",),
                       update=("jurisdiction", "cohort", "entry"), key_type="uuid")
        entries.load(str(e.originator_id) for e, _ in events
                     if type(e).__qualname__ == "Entry.VerdictReceived")
        notices = []
        for event, _ in events:
            name, case = type(event).__qualname__, str(event.originator_id)
            if name == "Entry.FilingReceived":
                filing = event.filing
                entries.put(case, {"uscc": filing["uscc"], "case_id": case,
                                   "jurisdiction": filing["jurisdiction"],
                                   "cohort": filing["cohort"], "entry": event.row or None})
            elif name == "Entry.VerdictReceived" and entries.get(case) is not None:
                # Before its filing a verdict has no row yet (the filing's event brings
                # it); a withdrawn verdict leaves the case open again.
                entries.put(case, dict(entries.get(case), entry=event.row or None))
            elif name == "Notice.Published":
                notices.append((str(event.originator_id), event.sequence, event.number,
                                event.title, event.published_on, event.timestamp,
                                dumps(event.corrects), event.html, dumps(event.data),
                                event.xlsx))
        entries.write()
        insert_all(cur, self.table("notices"), notices)
