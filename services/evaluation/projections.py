"""The evaluation's read tables: per case what has been handed in (三's self-assessment,
附件2's score, findings, 六(二)'s excuses), and the campaigns opened. Applied a batch at a
time (issue 14): shared/projection.py."""
from shared.projection import Projection, Rows, insert_all

COLUMNS = ("case_id", "uscc", "jurisdiction", "cohort", "self_assessed", "scored",
           "flagged", "findings", "excused")


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

    def apply_all(self, cur, events):
        status = Rows(cur, self.table("status"), "case_id", COLUMNS, key_type="uuid")
        status.load(str(e.originator_id) for e, _ in events)
        campaigns = []
        for event, position in events:
            name = type(event).__qualname__
            if name == "Campaign.Opened":
                campaigns.append((str(event.originator_id), event.notice, position))
            else:
                self.change(status, name, str(event.originator_id), event)
        status.write()
        insert_all(cur, self.table("campaigns"), campaigns, "ON CONFLICT DO NOTHING")

    @staticmethod
    def change(status, name, case, event):
        """One event's change to its case's row (a case with no row yet has none)."""
        row = status.get(case)
        if name in ("CaseFile.Opened", "CaseFile.FilingUpdated"):
            filing = event.filing
            row = dict(row or {"case_id": case, "uscc": filing["uscc"], "self_assessed": False,
                               "scored": False, "flagged": False, "findings": 0,
                               "excused": False},
                       jurisdiction=filing["jurisdiction"], cohort=filing["cohort"])
        elif row is None:
            return
        elif name == "CaseFile.SelfAssessed":
            row = dict(row, self_assessed=True, flagged=bool(event.derived["out_of_scope"]))
        elif name == "CaseFile.Scored":
            row = dict(row, scored=True)
        elif name == "CaseFile.FindingRecorded":
            row = dict(row, findings=row["findings"] + 1)
        elif name == "CaseFile.FindingWithdrawn":
            row = dict(row, findings=row["findings"] - 1)
        elif name == "CaseFile.ExcuseAccepted":
            row = dict(row, excused=True)
        else:
            return
        status.put(case, row)
