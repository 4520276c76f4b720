"""The evaluation's read tables: per case what has been handed in (三's self-assessment,
附件2's score, findings, 六(二)'s excuses), and the campaigns opened."""
from shared.projection import Projection


class CaseFiles(Projection):
    """Per case, what has been handed in: for campaign status and the forms' templates."""

    name = "casefiles"
    tables = (
        "CREATE TABLE IF NOT EXISTS {t}status ("
        " case_id uuid PRIMARY KEY, uscc text NOT NULL, jurisdiction text NOT NULL,"
        " cohort int NOT NULL, self_assessed boolean NOT NULL DEFAULT false,"
        " scored boolean NOT NULL DEFAULT false, flagged boolean NOT NULL DEFAULT false,"
        " findings int NOT NULL DEFAULT 0, excused boolean NOT NULL DEFAULT false)",
        "CREATE TABLE IF NOT EXISTS {t}campaigns ("
        " campaign_id uuid PRIMARY KEY, notice text NOT NULL, position bigint NOT NULL)",
    )

    def apply(self, cur, event, position):
        name = type(event).__qualname__
        case = str(event.originator_id)
        status = self.table("status")
        if name == "Campaign.Opened":
            cur.execute(f"INSERT INTO {self.table('campaigns')} VALUES (%s, %s, %s) "
                        "ON CONFLICT DO NOTHING", (case, event.notice, position))
        elif name in ("CaseFile.Opened", "CaseFile.FilingUpdated"):
            cur.execute(f"INSERT INTO {status} (case_id, uscc, jurisdiction, cohort) "
                        "VALUES (%s, %s, %s, %s) ON CONFLICT (case_id) DO UPDATE SET "
                        "jurisdiction = EXCLUDED.jurisdiction, cohort = EXCLUDED.cohort",
                        (case, event.filing["uscc"], event.filing["jurisdiction"],
                         event.filing["cohort"]))
        elif name == "CaseFile.SelfAssessed":
            cur.execute(f"UPDATE {status} SET self_assessed = true, flagged = %s "
                        "WHERE case_id = %s", (bool(event.derived["out_of_scope"]), case))
        elif name == "CaseFile.Scored":
            cur.execute(f"UPDATE {status} SET scored = true WHERE case_id = %s", (case,))
        elif name == "CaseFile.FindingRecorded":
            cur.execute(f"UPDATE {status} SET findings = findings + 1 WHERE case_id = %s",
                        (case,))
        elif name == "CaseFile.FindingWithdrawn":
            cur.execute(f"UPDATE {status} SET findings = findings - 1 WHERE case_id = %s",
                        (case,))
        elif name == "CaseFile.ExcuseAccepted":
            cur.execute(f"UPDATE {status} SET excused = true WHERE case_id = %s", (case,))
