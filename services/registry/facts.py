"""Facts about institutions that other provincial HR systems hold, as xlsx or as events:
the legal-person registration status (民政/市场监管) and the yearly certification activity.

Both forms are documented in docs/forms.md and the events in docs/events.md; either way
they become the same registry events (LegalStatusReported, ActivityReported).
"""
import json
from dataclasses import asdict, dataclass

from shared import xlsx
from shared.errors import BadInput
from shared.language import uscc

COL_USCC = "统一社会信用代码"
COL_STATUS = "登记状态"
COL_LEGAL_VALID_UNTIL = "法人登记有效期至"
COL_REPORTED_ON = "报告日期"
COL_YEAR = "年度"
COL_OCCUPATION = "职业编码"
COL_LEVEL = "等级"
COL_CERTIFIED = "发证数"

# The status as the registering authorities word it, and as other systems send it.
STATUSES = {"有效": "valid", "已过期": "expired", "年报异常": "annual-report-problem",
            "valid": "valid", "expired": "expired",
            "annual-report-problem": "annual-report-problem"}


@dataclass(frozen=True)
class LegalStatus:
    uscc: str
    status: str  # valid / expired / annual-report-problem
    legal_valid_until: str | None
    reported_on: str

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(d["uscc"], d["status"], d["legal_valid_until"], d["reported_on"])


@dataclass(frozen=True)
class Activity:
    uscc: str
    year: int
    rows: tuple  # ({"occupation", "level", "certified"}, ...)
    reported_on: str | None = None  # an external report's date (files give none)

    def to_dict(self):
        return {"uscc": self.uscc, "year": self.year, "rows": list(self.rows),
                "reported_on": self.reported_on}

    @classmethod
    def from_dict(cls, d):
        return cls(d["uscc"], d["year"], tuple(d["rows"]), d.get("reported_on"))


def _uscc(row):
    code = uscc.normalise(row.code(COL_USCC, max_length=40))
    reason = uscc.problem(code)
    if reason:
        raise row.error(COL_USCC, f"invalid USCC {code}: {reason}")
    return code


def read_legal_status(path, *, name=None, today=None):
    """`today`, the business date, bounds 报告日期 (xlsx.latest_date)."""
    rows = xlsx.read_sheet(path, required=[COL_USCC, COL_STATUS, COL_REPORTED_ON],
                           optional=[COL_LEGAL_VALID_UNTIL], name=name)
    out, seen = [], {}
    for row in rows:
        code = _uscc(row)
        if code in seen:
            raise row.error(COL_USCC, f"duplicate USCC {code}: rows {seen[code]} and "
                                      f"{row.row_number}")
        seen[code] = row.row_number
        status = STATUSES.get(row.code(COL_STATUS, max_length=40))
        if status is None:
            raise row.error(COL_STATUS, "status must be one of 有效, 已过期, 年报异常")
        until = row.date(COL_LEGAL_VALID_UNTIL, required=False)
        out.append(LegalStatus(code, status, until and until.isoformat(),
                               row.date(COL_REPORTED_ON,
                                        latest=xlsx.latest_date(today)).isoformat()))
    _not_empty(out, path, name)
    return out


def read_activity(path, *, name=None, today=None):
    """`today`, the business date: no activity is reported for a year not yet begun."""
    from services.registry.filing import OCCUPATION_CODE
    rows = xlsx.read_sheet(path, required=[COL_USCC, COL_YEAR, COL_OCCUPATION, COL_LEVEL,
                                           COL_CERTIFIED], name=name)
    by_key, seen = {}, {}
    for row in rows:
        code = _uscc(row)
        year = row.int(COL_YEAR, minimum=2015, maximum=today.year if today else 2100)
        occupation = row.code(COL_OCCUPATION, max_length=40)
        if not OCCUPATION_CODE.fullmatch(occupation):
            raise row.error(COL_OCCUPATION, f"not an occupation code like 6-18-02-04: "
                                            f"{occupation}")
        level = row.int(COL_LEVEL, minimum=1, maximum=5)
        key = (code, year, occupation, level)
        if key in seen:
            raise row.error(COL_USCC, f"{code} {year} {occupation} level {level} is already "
                                      f"in row {seen[key]}")
        seen[key] = row.row_number
        by_key.setdefault((code, year), []).append({
            "occupation": occupation, "level": level,
            "certified": row.int(COL_CERTIFIED, minimum=0)})
    out = [Activity(code, year, tuple(items)) for (code, year), items in by_key.items()]
    _not_empty(out, path, name)
    return out


def _not_empty(out, path, name):
    if not out:
        import os
        raise BadInput("the file has no rows", file=name or os.path.basename(str(path)))


def legal_status_from_event(fact):
    """The external fact (a shared.contracts.external.LegalRegistration), its values
    checked like a row's; ValueError if one is wrong (the message is refused)."""
    code = uscc.normalise(fact.uscc)
    if uscc.problem(code):
        raise ValueError(f"invalid USCC {code}: {uscc.problem(code)}")
    if fact.status not in STATUSES:
        raise ValueError(f"unknown status {fact.status!r}: one of valid, expired, "
                         "annual-report-problem")
    return LegalStatus(code, STATUSES[fact.status], fact.legal_valid_until or None,
                       fact.reported_on)


def activity_from_event(fact):
    """The external fact (a shared.contracts.external.CertificationActivity)."""
    code = uscc.normalise(fact.uscc)
    if uscc.problem(code):
        raise ValueError(f"invalid USCC {code}: {uscc.problem(code)}")
    rows = tuple({"occupation": r.occupation, "level": r.level, "certified": r.certified}
                 for r in fact.rows)
    return Activity(code, fact.year, rows, fact.reported_on or None)


def report_order(report):
    """The order of legal-status reports of one institution: by their report date (报告日期),
    the newest winning whatever order they arrive in. Two reports of the same date are
    ordered by their content, so the result does not depend on arrival either."""
    return (report["reported_on"], report["status"], report.get("legal_valid_until") or "")


def activity_supersedes(fact, institution):
    """Whether a year's reported Activity should replace the recorded one: a report with a
    date replaces one with an earlier date (or its equal, ordered by its rows); without
    dates on both sides, the one processed last stands."""
    current = institution.activity_reported_on(fact.year)
    if fact.reported_on is None or current is None:
        return True
    recorded = json.dumps(institution.activity.get(str(fact.year)), sort_keys=True)
    return (fact.reported_on, json.dumps(list(fact.rows), sort_keys=True)) > (current,
                                                                               recorded)


def supersedes(fact, current):
    """Whether a reported LegalStatus should replace the institution's current one (a dict
    as Institution.legal_status holds it, or None): only a newer report does."""
    return current is None or report_order(fact.to_dict()) > report_order(current)
