"""The scoring rubric (附件2 《职业技能等级认定机构延续备案评估表》) as versioned data.

The official form is not published, so the project defines its own (DESIGN.md §1): the
eight areas of the notice's 二, with points and grade thresholds that are configuration.
A score records the rubric version it was computed with, and a rubric serialises to
plain JSON so it can travel inside an event or be loaded from a file.

Amounts are Decimal: totals decide 合格/不达标/不合格 at exact boundaries (79.9 vs 80),
and binary floats would make those comparisons depend on how a sum was accumulated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

from shared.language.outcomes import (  # noqa: F401  (the rubric grades in these)
    GRADE_BELOW_STANDARD as BELOW_STANDARD, GRADE_FAIL as FAIL, GRADE_PASS as PASS, GRADES)

TENTH = Decimal("0.1")

AREA_SHORT_NAMES = (
    "认定开展情况", "场地设施设备", "机构与人员队伍", "规章制度",
    "题库建设", "档案管理", "证书管理", "履行承诺",
)


class RubricError(ValueError):
    """A rubric that cannot be used (bad points, thresholds, names)."""


class ScoreError(ValueError):
    """Area scores refused; `area` is the short name, which is also the score-sheet column."""

    def __init__(self, message: str, area: str | None = None):
        self.area = area
        super().__init__(message)


def to_decimal(value: Any, what: str) -> Decimal:
    """A finite Decimal from an int, Decimal, float or numeric string.

    Floats go through their shortest repr: openpyxl hands spreadsheet cells over as
    floats, and 18.5 must become Decimal('18.5'), not its binary expansion.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, (int, float)):
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{what}: not a number: {value!r}") from None
    else:
        raise ValueError(f"{what}: expected a number, got {type(value).__name__} {value!r}")
    if not d.is_finite():
        raise ValueError(f"{what}: not a finite number: {value!r}")
    return d


def json_number(d: Decimal) -> int | float:
    """A JSON number for a tenths-quantized Decimal; float repr round-trips one decimal."""
    return int(d) if d == d.to_integral_value() else float(d)


@dataclass(frozen=True)
class Area:
    key: str
    short_name: str
    title: str
    points: Decimal

    def __post_init__(self):
        for name in ("key", "short_name", "title"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise RubricError(f"area {name} must be a non-empty string, got {v!r}")
        try:
            points = to_decimal(self.points, f"area {self.short_name} points")
        except ValueError as e:
            raise RubricError(str(e)) from None
        if points <= 0:
            raise RubricError(f"area {self.short_name}: points must be positive, got {points}")
        # Scores are kept to one decimal, so a maximum finer than that could never be hit.
        if points != points.quantize(TENTH):
            raise RubricError(f"area {self.short_name}: points may have one decimal at most, got {points}")
        object.__setattr__(self, "points", points)

    def to_dict(self) -> dict:
        return {"key": self.key, "short_name": self.short_name, "title": self.title,
                "points": json_number(self.points)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Area":
        _check_keys(d, {"key", "short_name", "title", "points"}, "area")
        return cls(d["key"], d["short_name"], d["title"], d["points"])


@dataclass(frozen=True)
class Score:
    total: Decimal
    grade: str
    rubric_version: str
    areas: tuple[tuple[str, Decimal], ...]  # (short name, score), in rubric order

    def by_area(self) -> dict[str, Decimal]:
        return dict(self.areas)

    def to_dict(self) -> dict:
        return {"total": json_number(self.total), "grade": self.grade,
                "rubric_version": self.rubric_version,
                "areas": {name: json_number(v) for name, v in self.areas}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Score":
        return cls(to_decimal(d["total"], "total"), d["grade"], d["rubric_version"],
                   tuple((name, to_decimal(v, name)) for name, v in d["areas"].items()))


@dataclass(frozen=True)
class Rubric:
    version: str
    areas: tuple[Area, ...]
    pass_at: Decimal = Decimal(80)
    below_standard_at: Decimal = Decimal(60)
    _by_name: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        if not isinstance(self.version, str) or not self.version.strip():
            raise RubricError(f"rubric version must be a non-empty string, got {self.version!r}")
        areas = tuple(self.areas)
        if not areas:
            raise RubricError("a rubric needs at least one area")
        for a in areas:
            if not isinstance(a, Area):
                raise RubricError(f"rubric areas must be Area, got {type(a).__name__}")
        for attr in ("short_name", "key"):
            seen = set()
            for a in areas:
                v = getattr(a, attr)
                if v in seen:
                    raise RubricError(f"rubric {self.version}: duplicate area {attr} {v!r}")
                seen.add(v)
        try:
            pass_at = to_decimal(self.pass_at, "pass_at")
            below = to_decimal(self.below_standard_at, "below_standard_at")
        except ValueError as e:
            raise RubricError(str(e)) from None
        max_total = sum((a.points for a in areas), Decimal(0))
        if not Decimal(0) <= below < pass_at <= max_total:
            raise RubricError(
                f"rubric {self.version}: thresholds must satisfy 0 <= below_standard_at "
                f"({below}) < pass_at ({pass_at}) <= max total ({max_total})")
        object.__setattr__(self, "areas", areas)
        object.__setattr__(self, "pass_at", pass_at)
        object.__setattr__(self, "below_standard_at", below)
        object.__setattr__(self, "_by_name", {a.short_name: a for a in areas})

    @property
    def max_total(self) -> Decimal:
        return sum((a.points for a in self.areas), Decimal(0))

    @property
    def short_names(self) -> tuple[str, ...]:
        return tuple(a.short_name for a in self.areas)

    def area(self, short_name: str) -> Area:
        try:
            return self._by_name[short_name]
        except KeyError:
            raise ScoreError(f"rubric {self.version} has no area {short_name!r}", short_name) from None

    def grade(self, total) -> str:
        # Compared exactly, not rounded: 79.99 is below 80 and so 不达标 (DESIGN.md §1).
        t = to_decimal(total, "total")
        if t >= self.pass_at:
            return PASS
        if t >= self.below_standard_at:
            return BELOW_STANDARD
        return FAIL

    def score(self, area_scores: Mapping[str, Any]) -> Score:
        """Total and grade of one score sheet row; every area must be scored."""
        unknown = [k for k in area_scores if k not in self._by_name]
        if unknown:
            raise ScoreError(f"rubric {self.version} has no area {unknown[0]!r} "
                             f"(areas: {'、'.join(self.short_names)})", unknown[0])
        scored = []
        for a in self.areas:
            raw = area_scores.get(a.short_name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                raise ScoreError(f"missing score for area {a.short_name}", a.short_name)
            try:
                value = to_decimal(raw, f"area {a.short_name}")
            except ValueError as e:
                raise ScoreError(str(e), a.short_name) from None
            # Quantize before the range check: spreadsheet arithmetic yields values
            # like 20.000000000000004 that mean 20. A real second decimal is refused, not
            # rounded: 19.95 rounded up could carry a total of 79.95 over the pass mark.
            quantized = value.quantize(TENTH, rounding=ROUND_HALF_UP)
            if abs(value - quantized) > Decimal("1e-9"):
                raise ScoreError(f"score for area {a.short_name} has more than one decimal: "
                                 f"{raw}", a.short_name)
            value = quantized
            if value < 0:
                raise ScoreError(f"score for area {a.short_name} is negative: {raw}", a.short_name)
            if value > a.points:
                raise ScoreError(f"score for area {a.short_name} is {raw}, above its maximum "
                                 f"{a.points}", a.short_name)
            scored.append((a.short_name, value))
        total = sum((v for _, v in scored), Decimal(0))
        return Score(total, self.grade(total), self.version, tuple(scored))

    def to_dict(self) -> dict:
        return {"version": self.version,
                "pass_at": json_number(self.pass_at),
                "below_standard_at": json_number(self.below_standard_at),
                "areas": [a.to_dict() for a in self.areas]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Rubric":
        if not isinstance(d, Mapping):
            raise RubricError(f"a rubric is a JSON object, got {type(d).__name__}")
        _check_keys(d, {"version", "areas", "pass_at", "below_standard_at"}, "rubric",
                    optional={"pass_at", "below_standard_at"})
        if not isinstance(d["areas"], list):
            raise RubricError("rubric areas must be a list")
        kwargs = {k: d[k] for k in ("pass_at", "below_standard_at") if k in d}
        return cls(d["version"], tuple(Area.from_dict(a) for a in d["areas"]), **kwargs)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Rubric":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise RubricError(f"rubric is not valid JSON: {e}") from None
        return cls.from_dict(data)


def load_rubric(path: str | Path) -> Rubric:
    """A rubric from a JSON file (the shape of `Rubric.to_dict`)."""
    return Rubric.from_json(Path(path).read_text(encoding="utf-8"))


def _check_keys(d: Mapping, allowed: set, what: str, optional: set = frozenset()):
    # A misspelt key in a hand-written rubric file would otherwise fall back to a
    # default threshold without anyone noticing.
    if not isinstance(d, Mapping):
        raise RubricError(f"{what} must be an object, got {type(d).__name__}")
    extra = sorted(set(d) - allowed)
    if extra:
        raise RubricError(f"{what}: unknown field(s) {', '.join(extra)}")
    missing = sorted(allowed - optional - set(d))
    if missing:
        raise RubricError(f"{what}: missing field(s) {', '.join(missing)}")


DEFAULT_RUBRIC = Rubric(
    version="2023.1",
    areas=(
        Area("activity", "认定开展情况", "自公布备案资质起至评估前一个月职业技能等级认定开展情况", Decimal(20)),
        Area("premises", "场地设施设备", "评价场地、设施、设备建设情况", Decimal(15)),
        Area("staffing", "机构与人员队伍", "内设机构设置及考评人员、内部质量督导人员、专家队伍建设情况", Decimal(15)),
        Area("rules", "规章制度", "规章制度建设以及执行情况", Decimal(10)),
        Area("question_bank", "题库建设", "题库(卷库)建设及管理情况", Decimal(10)),
        Area("archives", "档案管理", "有关备案资料等档案建设管理情况", Decimal(10)),
        Area("certificates", "证书管理", "证书管理情况", Decimal(10)),
        Area("commitments", "履行承诺", "履行工作承诺,自觉接受人力资源社会保障部门的监督情况", Decimal(10)),
    ),
    pass_at=Decimal(80),
    below_standard_at=Decimal(60),
)
