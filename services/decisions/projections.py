"""The decisions' read table: where each case stands and what is due, the deadline sweep's
index (四(二)'s rectification deadlines, 三(一)'s self-assessment deadlines, 四(二)2's
legal-registration lapses, 六(四)'s extensions), and the campaigns noted. Applied a batch
at a time (issue 14): shared/projection.py."""
from shared.projection import Projection, Rows, earliest, insert_all

COLUMNS = ("case_id", "uscc", "jurisdiction", "cohort", "phase", "class", "outcome",
           "deadline", "self_assessed", "self_assessment_missed", "excused", "valid_until",
           "rectified_on", "extension_until", "extension_ended", "filing_legal_until",
           "status_legal_until", "legal_lapse_seen", "self_assessed_on", "window_opened")


def _opened(row, event):
    # A case's first event makes its row; a later Opened changes nothing.
    if row is not None:
        return None
    return dict({c: None for c in COLUMNS}, case_id=str(event.originator_id), uscc=event.uscc,
                phase="undecided", self_assessed=False, self_assessment_missed=False,
                excused=False)


def _filing(row, event):
    return dict(row, jurisdiction=event.filing["jurisdiction"], cohort=event.filing["cohort"],
                valid_until=event.filing["valid_until"],
                filing_legal_until=event.filing.get("legal_valid_until"))


def _self_assessment(row, event):
    # A late re-submission does not undo an on-time one (as in the aggregate).
    return dict(row, self_assessed=row["self_assessed"] or event.on_time,
                self_assessed_on=earliest(row["self_assessed_on"],
                                          getattr(event, "submitted_on", None)))


def _deadline_passed(row, event):
    if event.kind == "self-assessment":
        return dict(row, self_assessment_missed=True)
    if event.kind == "legal-registration":
        return dict(row, legal_lapse_seen=event.due)
    return None


def _decided(row, event):
    periods = getattr(event, "periods", None) or {}
    opened = min((periods[c]["opened_on"] for c in event.verdict["clauses"] if c in periods),
                 default=None)
    return dict(row, phase=event.phase, **{"class": event.verdict["klass"]},
                outcome=event.verdict["outcome"], deadline=event.deadline,
                window_opened=opened)


# Each event's change to its case's row: the new row, or None for no change.
CHANGES = {
    "Case.FilingNoted": _filing,
    "Case.LegalStatusNoted": lambda row, e: dict(row, status_legal_until=e.legal_valid_until),
    "Case.SelfAssessmentNoted": _self_assessment,
    # The first submission counts (as in the aggregate).
    "Case.RectificationNoted": lambda row, e: dict(
        row, rectified_on=earliest(row["rectified_on"], e.submitted_on)),
    "Case.ExcuseNoted": lambda row, e: dict(row, excused=True),
    "Case.DeadlinePassed": _deadline_passed,
    "Case.Decided": _decided,
    "Case.FilingExtended": lambda row, e: dict(row, extension_until=e.until),
    "Case.ExtensionEnded": lambda row, e: dict(
        row, extension_ended="renewed" if e.renewed else "ended"),
}


class Cases(Projection):
    """Where each case stands, and what is due: the sweep's index of deadlines."""

    name = "cases"
    events = frozenset(CHANGES) | {"Case.Opened", "Campaign.Noted"}
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

    def apply_all(self, cur, events):
        current = Rows(cur, self.table("current"), "case_id", COLUMNS, key_type="uuid")
        current.load(str(e.originator_id) for e, _ in events
                     if type(e).__qualname__.startswith("Case."))
        campaigns = []
        for event, position in events:
            name, case = type(event).__qualname__, str(event.originator_id)
            if name == "Campaign.Noted":
                campaigns.append((case, position))
                continue
            row = current.get(case) if name.startswith("Case.") else None
            if name == "Case.Opened":
                row = _opened(row, event)
            elif row is not None and name in CHANGES:
                row = CHANGES[name](row, event)
            else:
                row = None  # no row to change (as an UPDATE finding none), or not a case's
            if row is not None:
                current.put(case, row)
        current.write()
        insert_all(cur, self.table("campaigns"), campaigns, "ON CONFLICT DO NOTHING")
