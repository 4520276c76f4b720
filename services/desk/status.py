"""Where each case of a jurisdiction stands, for the desk's list: the registry's filings,
evaluation's case files and decisions' verdicts merged per USCC, and the list's filters.
Pure functions (tested in tests/unit/test_desk.py)."""
import datetime

# status -> label; in the order a case moves through the campaign.
STATUSES = {
    "filed": "待自查自评", "self-assessed": "已自评", "scored": "已评分",
    "rectifying": "整改中", "rectified": "整改后通过", "passed": "通过",
    "terminated": "终止备案",
}


def status_of(decision, case_file):
    """A case's status from its decision row (class, phase) and case-file row."""
    decision, case_file = decision or {}, case_file or {}
    klass, phase = decision.get("class"), decision.get("phase")
    if klass == "terminate":
        return "terminated"
    if klass == "rectify" and phase == "rectifying":
        return "rectifying"
    if klass == "pass":
        return "rectified" if phase == "closed" and decision.get("outcome") in (
            "延续备案", "恢复评价活动") else "passed"
    if case_file.get("scored"):
        return "scored"
    if case_file.get("self_assessed"):
        return "self-assessed"
    return "filed"


def merge(filings, case_files, decisions):
    """One row per filing in scope: uscc, name, cohort, status, its label, outcome,
    deadline."""
    files = {r["uscc"]: r for r in case_files}
    decided = {r["uscc"]: r for r in decisions}
    rows = []
    for filing in filings:
        uscc = filing["uscc"]
        decision = decided.get(uscc) or {}
        status = status_of(decision, files.get(uscc))
        rows.append({"uscc": uscc, "name": filing.get("name", ""), "cohort": filing["cohort"],
                     "status": status, "status_zh": STATUSES[status],
                     "outcome": decision.get("outcome"), "deadline": decision.get("deadline")})
    return sorted(rows, key=lambda r: r["uscc"])


def parse_date(text):
    """A YYYY-MM-DD date, or None for none or a malformed one (a filter just ignores it)."""
    try:
        return datetime.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def select(rows, cohort=None, status=None, deadline_by=None, query=None):
    """The rows matching every filter given: cohort, status, a deadline on or before
    `deadline_by` (a date), and a USCC or name containing `query`."""
    query = (query or "").strip().upper()
    found = []
    for row in rows:
        if cohort and str(row["cohort"]) != str(cohort):
            continue
        if status and row["status"] != status:
            continue
        if deadline_by and not (row["deadline"] and row["deadline"] <= deadline_by.isoformat()):
            continue
        if query and query not in row["uscc"].upper() and query not in row["name"].upper():
            continue
        found.append(row)
    return found


def rectifying(rows):
    return [r["uscc"] for r in rows if r["status"] == "rectifying"]
