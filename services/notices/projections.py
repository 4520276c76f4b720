"""The notices' read tables: each case's publication row (四(三)'s outcomes), and the
published notices the portal serves."""
from shared.integration import dumps
from shared.projection import Projection


class Listing(Projection):
    """Each case's publication row, and the published notices the portal serves."""

    name = "listing"
    tables = (
        "CREATE TABLE IF NOT EXISTS {t}entries ("
        " uscc text PRIMARY KEY, case_id uuid UNIQUE NOT NULL, jurisdiction text NOT NULL,"
        " cohort int NOT NULL, entry jsonb)",
        "CREATE TABLE IF NOT EXISTS {t}notices ("
        " id uuid PRIMARY KEY, sequence int UNIQUE NOT NULL, number text NOT NULL,"
        " title text NOT NULL, published_on date NOT NULL, recorded_at timestamptz NOT NULL,"
        " corrects jsonb, html text NOT NULL, data jsonb NOT NULL, xlsx bytea NOT NULL)",
    )

    def apply(self, cur, event, position):
        name = type(event).__qualname__
        if name == "Entry.FilingReceived":
            filing = event.filing
            cur.execute(f"INSERT INTO {self.table('entries')} VALUES (%s, %s, %s, %s, %s) "
                        "ON CONFLICT (uscc) DO UPDATE SET jurisdiction = EXCLUDED.jurisdiction,"
                        " cohort = EXCLUDED.cohort, entry = EXCLUDED.entry",
                        (filing["uscc"], str(event.originator_id), filing["jurisdiction"],
                         filing["cohort"], dumps(event.row) if event.row else None))
        elif name == "Entry.VerdictReceived":
            # Before its filing a verdict has no row yet (the filing's event brings it); a
            # withdrawn verdict leaves the case open again.
            cur.execute(f"UPDATE {self.table('entries')} SET entry = %s WHERE case_id = %s",
                        (dumps(event.row) if event.row else None, str(event.originator_id)))
        elif name == "Notice.Published":
            cur.execute(f"INSERT INTO {self.table('notices')} VALUES "
                        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        (str(event.originator_id), event.sequence, event.number, event.title,
                         event.published_on, event.timestamp, dumps(event.corrects),
                         event.html, dumps(event.data), event.xlsx))
