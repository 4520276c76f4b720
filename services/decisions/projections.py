"""The decisions' read table: where each case stands and what is due, the deadline sweep's
index (四(二)'s rectification deadlines, 三(一)'s self-assessment deadlines, 四(二)2's
legal-registration lapses, 六(四)'s extensions), and the campaigns noted."""
from shared.projection import Projection


class Cases(Projection):
    """Where each case stands, and what is due: the sweep's index of deadlines."""

    name = "cases"
    tables = (
        "CREATE TABLE IF NOT EXISTS {t}current ("
        " case_id uuid PRIMARY KEY, uscc text NOT NULL, jurisdiction text, cohort int,"
        " phase text NOT NULL, class text, outcome text, deadline date,"
        " self_assessed boolean NOT NULL DEFAULT false,"
        " self_assessment_missed boolean NOT NULL DEFAULT false,"
        " excused boolean NOT NULL DEFAULT false, valid_until date, rectified_on date,"
        " extension_until date, extension_ended text)",
        # Issue 17: what the sweep needs to find time-driven facts that changed.
        "ALTER TABLE {t}current ADD COLUMN IF NOT EXISTS filing_legal_until date,"
        " ADD COLUMN IF NOT EXISTS status_legal_until date,"
        " ADD COLUMN IF NOT EXISTS legal_lapse_seen date,"
        " ADD COLUMN IF NOT EXISTS self_assessed_on date,"
        " ADD COLUMN IF NOT EXISTS window_opened date",
        "CREATE TABLE IF NOT EXISTS {t}campaigns ("
        " campaign_id uuid PRIMARY KEY, position bigint NOT NULL)",
    )

    def apply(self, cur, event, position):
        name = type(event).__qualname__
        table = self.table("current")
        case = str(event.originator_id)
        if name == "Campaign.Noted":
            cur.execute(f"INSERT INTO {self.table('campaigns')} VALUES (%s, %s) "
                        "ON CONFLICT DO NOTHING", (case, position))
        elif name == "Case.Opened":
            cur.execute(f"INSERT INTO {table} (case_id, uscc, phase) VALUES (%s, %s, "
                        "'undecided') ON CONFLICT DO NOTHING", (case, event.uscc))
        elif name == "Case.FilingNoted":
            cur.execute(f"UPDATE {table} SET jurisdiction = %s, cohort = %s, valid_until = %s, "
                        "filing_legal_until = %s WHERE case_id = %s",
                        (event.filing["jurisdiction"], event.filing["cohort"],
                         event.filing["valid_until"], event.filing.get("legal_valid_until"),
                         case))
        elif name == "Case.LegalStatusNoted":
            cur.execute(f"UPDATE {table} SET status_legal_until = %s WHERE case_id = %s",
                        (event.legal_valid_until, case))
        elif name == "Case.SelfAssessmentNoted":
            # A late re-submission does not undo an on-time one (as in the aggregate).
            cur.execute(f"UPDATE {table} SET self_assessed = self_assessed OR %s, "
                        "self_assessed_on = LEAST(self_assessed_on, %s::date) "
                        "WHERE case_id = %s",
                        (event.on_time, getattr(event, "submitted_on", None), case))
        elif name == "Case.RectificationNoted":
            # The first submission counts (LEAST skips NULL), as in the aggregate.
            cur.execute(f"UPDATE {table} SET rectified_on = LEAST(rectified_on, %s::date) "
                        "WHERE case_id = %s", (event.submitted_on, case))
        elif name == "Case.ExcuseNoted":
            cur.execute(f"UPDATE {table} SET excused = true WHERE case_id = %s", (case,))
        elif name == "Case.DeadlinePassed" and event.kind == "self-assessment":
            cur.execute(f"UPDATE {table} SET self_assessment_missed = true WHERE case_id = %s",
                        (case,))
        elif name == "Case.DeadlinePassed" and event.kind == "legal-registration":
            cur.execute(f"UPDATE {table} SET legal_lapse_seen = %s WHERE case_id = %s",
                        (event.due, case))
        elif name == "Case.Decided":
            periods = getattr(event, "periods", None) or {}
            opened = min((periods[c]["opened_on"] for c in event.verdict["clauses"]
                          if c in periods), default=None)
            cur.execute(f"UPDATE {table} SET phase = %s, class = %s, outcome = %s, "
                        "deadline = %s, window_opened = %s WHERE case_id = %s",
                        (event.phase, event.verdict["klass"], event.verdict["outcome"],
                         event.deadline, opened, case))
        elif name == "Case.FilingExtended":
            cur.execute(f"UPDATE {table} SET extension_until = %s WHERE case_id = %s",
                        (event.until, case))
        elif name == "Case.ExtensionEnded":
            cur.execute(f"UPDATE {table} SET extension_ended = %s WHERE case_id = %s",
                        ("renewed" if event.renewed else "ended", case))
