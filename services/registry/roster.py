"""The roster xlsx (DESIGN.md §3): one row per filed institution.

Import is all or nothing: `read_roster` either returns every row, validated, or raises
BadInput for the first bad cell, naming file, row and (Chinese) column.
"""

import datetime as dt
import os
from dataclasses import dataclass

from shared import xlsx
from shared.errors import BadInput
from shared.language import jurisdictions as cities, uscc
from services.registry.filing import Category, Level, cohort, format_scope, parse_scope

COL_USCC = "统一社会信用代码"
COL_NAME = "机构名称"
COL_CATEGORY = "类型"
COL_LEVEL = "备案层级"
COL_CITY = "所属地市"
COL_PUBLISHED = "公开发布日期"
COL_VALID_UNTIL = "备案有效期至"
COL_SCOPE = "备案范围"
COL_LEGAL_VALID_UNTIL = "法人登记有效期至"

COLUMNS = (COL_USCC, COL_NAME, COL_CATEGORY, COL_LEVEL, COL_CITY, COL_PUBLISHED,
           COL_VALID_UNTIL, COL_SCOPE, COL_LEGAL_VALID_UNTIL)

# Business licences are often issued without an end date (营业期限: 长期). The roster
# says so in words; the row then holds legal_valid_until = None.
NO_END_DATE = "长期"
_NO_END_DATE_WORDS = {"长期", "永久", "无固定期限"}


@dataclass(frozen=True)
class RosterRow:
    uscc: str
    name: str
    category: str                 # Category id: enterprise / college / social
    level: str                    # Level id: municipal / provincial
    city: str | None              # city code; None for a provincial filing without one
    published_on: dt.date
    valid_until: dt.date
    scope: tuple                  # (("6-18-02-04", (3, 4, 5)), ...)
    legal_valid_until: dt.date | None  # None: no end date (长期)

    @property
    def cohort(self):
        return cohort(self.published_on)

    @property
    def jurisdiction(self):
        return cities.jurisdiction(self.level, self.city)

    def to_dict(self):
        """JSON-safe form for RPC and events; includes the derived cohort and
        jurisdiction for readers' convenience (from_dict ignores them)."""
        return {
            "uscc": self.uscc,
            "name": self.name,
            "category": self.category,
            "level": self.level,
            "city": self.city,
            "published_on": self.published_on.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "scope": [{"occupation": code, "levels": list(levels)}
                      for code, levels in self.scope],
            "legal_valid_until": (self.legal_valid_until.isoformat()
                                  if self.legal_valid_until else None),
            "cohort": self.cohort,
            "jurisdiction": self.jurisdiction,
        }

    @classmethod
    def from_dict(cls, data):
        scope = data["scope"]
        if isinstance(scope, str):
            scope = parse_scope(scope)
        else:
            scope = tuple((item["occupation"], tuple(item["levels"])) for item in scope)
        legal = data.get("legal_valid_until")
        return cls(
            uscc=data["uscc"],
            name=data["name"],
            category=Category.parse(data["category"]).value,
            level=Level.parse(data["level"]).value,
            city=data.get("city"),
            published_on=dt.date.fromisoformat(data["published_on"]),
            valid_until=dt.date.fromisoformat(data["valid_until"]),
            scope=scope,
            legal_valid_until=dt.date.fromisoformat(legal) if legal else None,
        )


def read_roster(path, *, name=None, today=None):
    """Every institution of a roster file, or BadInput for the first problem.

    `name` is the file name to report (default: basename of path); `today`, the
    business date, bounds 公开发布日期 (xlsx.latest_date)."""
    rows = xlsx.read_sheet(path, required=list(COLUMNS), name=name)
    if not rows:
        raise BadInput("the roster has no institutions",
                       file=name or os.path.basename(str(path)))
    out = []
    first_row_of = {}
    for row in rows:
        record = _parse_row(row, today)
        if record.uscc in first_row_of:
            raise row.error(COL_USCC, f"duplicate USCC {record.uscc}: rows "
                                      f"{first_row_of[record.uscc]} and {row.row_number}")
        first_row_of[record.uscc] = row.row_number
        out.append(record)
    return out


def _parse_row(row, today=None):
    code = uscc.normalise(row.code(COL_USCC, max_length=40))
    reason = uscc.problem(code)
    if reason:
        raise row.error(COL_USCC, f"invalid USCC {code}: {reason}")

    name = row.text(COL_NAME, max_length=200)

    try:
        category = Category.parse(row.code(COL_CATEGORY, max_length=40))
    except ValueError as exc:
        raise row.error(COL_CATEGORY, str(exc)) from None
    try:
        level = Level.parse(row.code(COL_LEVEL, max_length=40))
    except ValueError as exc:
        raise row.error(COL_LEVEL, str(exc)) from None

    city_text = row.code(COL_CITY, required=False, max_length=40)
    city = None
    if city_text is not None:
        # A provincial institution may still give the city it sits in; it is kept as
        # its location, while its jurisdiction stays the provincial center.
        try:
            city = cities.city_code(city_text)
        except ValueError as exc:
            raise row.error(COL_CITY, str(exc)) from None
    elif level is Level.MUNICIPAL:
        raise row.error(COL_CITY, "required for a 市级 institution: its city decides "
                                  "who evaluates it")

    published_on = row.date(COL_PUBLISHED, latest=xlsx.latest_date(today))
    valid_until = row.date(COL_VALID_UNTIL)
    if valid_until < published_on:
        raise row.error(COL_VALID_UNTIL, f"filing ends {valid_until.isoformat()}, before "
                                         f"it was published {published_on.isoformat()}")

    try:
        scope = parse_scope(row.code(COL_SCOPE, max_length=2000))
    except ValueError as exc:
        raise row.error(COL_SCOPE, f"malformed filing scope: {exc}") from None

    legal_text = row.get(COL_LEGAL_VALID_UNTIL)
    if isinstance(legal_text, str) and xlsx.nfkc(legal_text) in _NO_END_DATE_WORDS:
        legal_valid_until = None
    else:
        legal_valid_until = row.date(COL_LEGAL_VALID_UNTIL)

    return RosterRow(uscc=code, name=name, category=category.value, level=level.value,
                     city=city, published_on=published_on, valid_until=valid_until,
                     scope=scope, legal_valid_until=legal_valid_until)


def write_roster(rows, path):
    """Write institutions as a roster file that `read_roster` reads back identically."""
    table = []
    for r in rows:
        table.append([
            r.uscc, r.name, Category(r.category).roster_label, Level(r.level).label,
            cities.city_name(r.city) if r.city else None,
            r.published_on, r.valid_until, format_scope(r.scope),
            r.legal_valid_until if r.legal_valid_until else NO_END_DATE,
        ])
    comments = {
        COL_USCC: "18 位统一社会信用代码（GB 32100-2015），校验位必须正确",
        COL_CATEGORY: "企业 / 院校 / 社会培训评价组织",
        COL_LEVEL: "市级 / 省级以上",
        COL_CITY: "市级机构必填：地市名称（如 太原市）或代码（如 140100）；省级以上可留空",
        COL_PUBLISHED: "日期，YYYY-MM-DD",
        COL_VALID_UNTIL: "日期，YYYY-MM-DD，不早于公开发布日期",
        COL_SCOPE: "职业编码:等级,等级;…  例如 6-18-02-04:3,4,5;4-10-01-05:5（等级 1-5）",
        COL_LEGAL_VALID_UNTIL: "日期 YYYY-MM-DD；无期限填 长期",
    }
    return xlsx.write_sheet(path, "备案机构名册", COLUMNS, table, comments=comments)
