import json
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from services.evaluation.rubric import (
    AREA_SHORT_NAMES, BELOW_STANDARD, DEFAULT_RUBRIC, FAIL, PASS, Area, Rubric, RubricError,
    Score, ScoreError, load_rubric,
)

FULL = {a.short_name: a.points for a in DEFAULT_RUBRIC.areas}


def test_default_rubric_areas_and_points():
    r = DEFAULT_RUBRIC
    assert r.version == "2023.1"
    assert r.short_names == AREA_SHORT_NAMES == (
        "认定开展情况", "场地设施设备", "机构与人员队伍", "规章制度",
        "题库建设", "档案管理", "证书管理", "履行承诺")
    assert [int(a.points) for a in r.areas] == [20, 15, 15, 10, 10, 10, 10, 10]
    assert r.max_total == 100
    assert (r.pass_at, r.below_standard_at) == (80, 60)


@pytest.mark.parametrize("total, grade", [
    (100, PASS), (80, PASS), ("80.0", PASS), (Decimal("79.99"), BELOW_STANDARD),
    ("79.9", BELOW_STANDARD), (60, BELOW_STANDARD), ("59.9", FAIL), (Decimal("59.99"), FAIL),
    (0, FAIL),
])
def test_grade_boundaries(total, grade):
    assert DEFAULT_RUBRIC.grade(total) == grade


def sheet(**overrides):
    s = dict(FULL)
    s.update(overrides)
    return s


def test_score_full_marks():
    s = DEFAULT_RUBRIC.score(FULL)
    assert s.total == 100 and s.grade == PASS and s.rubric_version == "2023.1"
    assert [name for name, _ in s.areas] == list(AREA_SHORT_NAMES)


def test_score_decimals_and_boundaries():
    # 100 - 20.1 = 79.9: one tenth below passing, computed exactly
    s = DEFAULT_RUBRIC.score(sheet(认定开展情况=0, 场地设施设备=14.9))
    assert s.total == Decimal("79.9") and s.grade == BELOW_STANDARD
    s = DEFAULT_RUBRIC.score(sheet(认定开展情况=0))
    assert s.total == 80 and s.grade == PASS
    s = DEFAULT_RUBRIC.score({n: 0 for n in AREA_SHORT_NAMES} | {"认定开展情况": 20, "场地设施设备": 15,
                                                               "机构与人员队伍": 15, "规章制度": 9.9})
    assert s.total == Decimal("59.9") and s.grade == FAIL
    s = DEFAULT_RUBRIC.score({n: 0 for n in AREA_SHORT_NAMES} | {"认定开展情况": 20, "场地设施设备": 15,
                                                               "机构与人员队伍": 15, "规章制度": "10"})
    assert s.total == 60 and s.grade == BELOW_STANDARD


def test_score_accepts_spreadsheet_floats_and_strings():
    s = DEFAULT_RUBRIC.score(sheet(认定开展情况=0.1 + 0.2, 规章制度=" 9.5 ", 档案管理=Decimal("7")))
    assert s.by_area()["认定开展情况"] == Decimal("0.3")
    assert s.by_area()["规章制度"] == Decimal("9.5")
    # a float that means the maximum is the maximum
    assert DEFAULT_RUBRIC.score(sheet(认定开展情况=20.000000000000004)).total == 100


@pytest.mark.parametrize("area, value, word", [
    ("证书管理", None, "missing"), ("证书管理", "", "missing"), ("证书管理", -1, "negative"),
    ("认定开展情况", 20.1, "above"), ("场地设施设备", "abc", "not a number"),
    ("规章制度", True, "number"), ("档案管理", float("nan"), "finite"),
])
def test_score_refusals_name_the_area(area, value, word):
    with pytest.raises(ScoreError) as e:
        DEFAULT_RUBRIC.score(sheet(**{area: value}))
    assert area in str(e.value) and word in str(e.value)
    assert e.value.area == area
    assert isinstance(e.value, ValueError)


def test_score_missing_key_and_unknown_key():
    s = dict(FULL)
    del s["履行承诺"]
    with pytest.raises(ValueError, match="履行承诺"):
        DEFAULT_RUBRIC.score(s)
    with pytest.raises(ValueError, match="总分"):
        DEFAULT_RUBRIC.score(sheet(总分=100))


area_values = st.tuples(*[
    st.integers(0, int(a.points) * 10).map(lambda t: Decimal(t) / 10) for a in DEFAULT_RUBRIC.areas])


@given(area_values)
def test_score_total_is_exact_sum_and_grade_consistent(values):
    s = DEFAULT_RUBRIC.score(dict(zip(AREA_SHORT_NAMES, values)))
    assert s.total == sum(values)
    assert s.grade == (PASS if s.total >= 80 else BELOW_STANDARD if s.total >= 60 else FAIL)
    assert Score.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_rubric_round_trip_json():
    d = DEFAULT_RUBRIC.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert Rubric.from_dict(json.loads(json.dumps(d))) == DEFAULT_RUBRIC
    assert Rubric.from_json(DEFAULT_RUBRIC.to_json()) == DEFAULT_RUBRIC


def test_new_version_from_file(tmp_path):
    d = DEFAULT_RUBRIC.to_dict()
    d["version"] = "2024.1"
    d["pass_at"] = 85
    d["areas"][0]["points"] = 17.5
    d["areas"][1]["points"] = 17.5
    p = tmp_path / "rubric.json"
    p.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    r = load_rubric(p)
    assert r.version == "2024.1" and r.max_total == 100 and r.pass_at == 85
    assert r.grade(84.9) == BELOW_STANDARD
    s = r.score(sheet(认定开展情况=17.5, 场地设施设备=17.5))
    assert s.rubric_version == "2024.1" and s.total == 100


@given(st.lists(st.integers(1, 400), min_size=1, max_size=10), st.data())
def test_rubric_round_trip_any(points_tenths, data):
    areas = tuple(Area(f"k{i}", f"区{i}", f"标题{i}", Decimal(p) / 10) for i, p in enumerate(points_tenths))
    max_tenths = sum(points_tenths)
    below = data.draw(st.integers(0, max_tenths - 1))
    pass_ = data.draw(st.integers(below + 1, max_tenths))
    r = Rubric("x", areas, Decimal(pass_) / 10, Decimal(below) / 10)
    assert Rubric.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_thresholds_default_when_absent_from_file():
    d = DEFAULT_RUBRIC.to_dict()
    del d["pass_at"], d["below_standard_at"]
    assert Rubric.from_dict(d) == DEFAULT_RUBRIC


@pytest.mark.parametrize("mutate, msg", [
    (lambda d: d["areas"][0].update(points=0), "positive"),
    (lambda d: d["areas"][0].update(points=-5), "positive"),
    (lambda d: d["areas"][0].update(points=10.25), "one decimal"),
    (lambda d: d["areas"][1].update(short_name="认定开展情况"), "duplicate"),
    (lambda d: d["areas"][1].update(key="activity"), "duplicate"),
    (lambda d: d.update(pass_at=60), "thresholds"),
    (lambda d: d.update(below_standard_at=90), "thresholds"),
    (lambda d: d.update(pass_at=101), "thresholds"),
    (lambda d: d.update(below_standard_at=-1), "thresholds"),
    (lambda d: d.update(areas=[]), "at least one area"),
    (lambda d: d.update(version=""), "version"),
    (lambda d: d.update(pass_a=80), "unknown field"),
    (lambda d: d["areas"][0].pop("title"), "missing field"),
])
def test_invalid_rubrics_are_refused(mutate, msg):
    d = DEFAULT_RUBRIC.to_dict()
    mutate(d)
    with pytest.raises(RubricError, match=msg):
        Rubric.from_dict(d)


def test_rubric_is_frozen_and_hashable():
    with pytest.raises(Exception):
        DEFAULT_RUBRIC.pass_at = 70
    assert hash(DEFAULT_RUBRIC) == hash(Rubric.from_dict(DEFAULT_RUBRIC.to_dict()))
