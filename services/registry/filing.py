"""Value objects of a filing (备案): category, level, scope and cohort.

Categories and levels are StrEnums whose values are the English ids used in events and
JSON; `parse` also accepts the Chinese labels found in rosters.
"""

import enum
import re

# The cohorts the 2023 campaign evaluates (notice 223, 一).
from shared.language.outcomes import COHORTS as IN_SCOPE_2023


class Category(enum.StrEnum):
    ENTERPRISE = "enterprise"
    COLLEGE = "college"
    SOCIAL = "social"

    @property
    def label(self):
        """The full name used in publications."""
        return {"enterprise": "自主评价企业", "college": "自主评价院校",
                "social": "社会培训评价组织"}[self.value]

    @property
    def roster_label(self):
        """The short label of the roster's 类型 column."""
        return {"enterprise": "企业", "college": "院校",
                "social": "社会培训评价组织"}[self.value]

    @classmethod
    def parse(cls, text):
        key = str(text).strip()
        for member in cls:
            if key in (member.value, member.label, member.roster_label):
                return member
        raise ValueError(f"unknown category {key!r} (expected 企业, 院校 or "
                         "社会培训评价组织)")


class Level(enum.StrEnum):
    MUNICIPAL = "municipal"
    PROVINCIAL = "provincial"

    @property
    def label(self):
        return {"municipal": "市级", "provincial": "省级以上"}[self.value]

    @classmethod
    def parse(cls, text):
        key = str(text).strip()
        # "省级" is the usual shorthand for 省级以上 in practice.
        aliases = {"市级": cls.MUNICIPAL, "省级以上": cls.PROVINCIAL, "省级": cls.PROVINCIAL}
        if key in aliases:
            return aliases[key]
        try:
            return cls(key)
        except ValueError:
            raise ValueError(f"unknown filing level {key!r} (expected 市级 or 省级以上)") \
                from None


# ------------------------------------------------------------------------ filing scope

OCCUPATION_CODE = re.compile(r"[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}")
# Operators type Chinese punctuation as often as ASCII; both mean the same.
_FULL_WIDTH = str.maketrans({"；": ";", "：": ":", "，": ",", "、": ","})


def parse_scope(text):
    """Parse 备案范围 "6-18-02-04:3,4,5;4-07-05-03:5" into
    (("6-18-02-04", (3, 4, 5)), ("4-07-05-03", (5,))).

    Occupations keep their order; levels (1 = 一级/高级技师 … 5 = 五级/初级工) are
    sorted. Full-width ；：，、 are accepted. Raises ValueError with the reason."""
    if text is None or not str(text).strip():
        raise ValueError("empty filing scope")
    items = []
    seen = set()
    for part in str(text).translate(_FULL_WIDTH).split(";"):
        part = part.strip()
        if not part:
            continue  # tolerate a trailing or doubled separator
        code, colon, levels_text = part.partition(":")
        code = code.strip()
        if not colon:
            raise ValueError(f"{part!r}: expected occupation code, ':', levels "
                             "(e.g. 6-18-02-04:3,4,5)")
        if not OCCUPATION_CODE.fullmatch(code):
            raise ValueError(f"{code!r} is not an occupation code of the form D-DD-DD-DD")
        if code in seen:
            raise ValueError(f"occupation {code} listed twice")
        seen.add(code)
        levels = []
        for token in levels_text.split(","):
            token = token.strip()
            if token not in ("1", "2", "3", "4", "5"):
                raise ValueError(f"{code}: level {token!r} is not one of 1-5")
            if int(token) in levels:
                raise ValueError(f"{code}: level {token} listed twice")
            levels.append(int(token))
        items.append((code, tuple(sorted(levels))))
    if not items:
        raise ValueError("empty filing scope")
    return tuple(items)


def format_scope(scope):
    """The canonical text of a parsed scope; parse_scope(format_scope(s)) == s."""
    return ";".join(f"{code}:{','.join(str(level) for level in levels)}"
                    for code, levels in scope)


def cohort(published_on):
    """The cohort (年度) of a filing is the year it was published. The notice knows 2019
    (the Nov-2019 batch), 2020 to 2022 (2022: the Sep-2022 batch); any other year is
    accepted as its own cohort and is simply not in the 2023 campaign's scope."""
    return published_on.year


def in_scope_2023(year):
    return year in IN_SCOPE_2023
