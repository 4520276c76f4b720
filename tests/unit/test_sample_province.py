import datetime as dt
from collections import Counter

import pytest

from shared.language import uscc
from shared.language.jurisdictions import CITIES
from services.registry.filing import IN_SCOPE_2023
from services.registry.roster import read_roster
from services.registry.sample import OCCUPATION_NAMES, sample_province, write_roster

CAMPAIGN_START = dt.date(2023, 9, 1)


@pytest.fixture(scope="module")
def rows():
    return sample_province()


def test_total(rows):
    assert len(rows) == 862


def test_in_scope_counts_are_the_notices(rows):
    in_scope = [r for r in rows if r.cohort in IN_SCOPE_2023]
    assert len(in_scope) == 507
    counts = Counter((r.category, r.level) for r in in_scope)
    assert counts == {
        ("enterprise", "municipal"): 74, ("enterprise", "provincial"): 30,
        ("college", "municipal"): 66, ("college", "provincial"): 58,
        ("social", "municipal"): 197, ("social", "provincial"): 82,
    }
    per_year = Counter(r.cohort for r in in_scope)
    assert 200 <= per_year[2020] <= 307 and per_year[2020] + per_year[2021] == 507


def test_out_of_scope_batches(rows):
    batch_2019 = [r for r in rows if r.cohort == 2019]
    batch_2022 = [r for r in rows if r.cohort == 2022]
    assert len(batch_2019) == 40 and len(batch_2022) == 315
    assert all((r.published_on.year, r.published_on.month) == (2019, 11) for r in batch_2019)
    assert all((r.published_on.year, r.published_on.month) == (2022, 9) for r in batch_2022)
    assert {r.cohort for r in rows} == {2019, 2020, 2021, 2022}


def test_deterministic_per_seed():
    assert sample_province(7) == sample_province(7)
    assert sample_province(7) != sample_province(8)


def test_usccs_valid_unique_and_shanxi(rows):
    codes = [r.uscc for r in rows]
    assert len(set(codes)) == len(codes)
    for r in rows:
        assert uscc.is_valid(r.uscc), (r.uscc, uscc.problem(r.uscc))
        assert r.uscc[2:4] == "14"
        prefix = r.uscc[:2]
        assert prefix in {"enterprise": {"91"}, "college": {"12", "52"},
                          "social": {"51", "52", "91"}}[r.category]
        if r.level == "municipal":
            assert r.uscc[2:8] == r.city
        else:
            assert r.city is None and r.uscc[2:6] in ("1400", "1401")


def test_names_unique_and_plausible(rows):
    names = [r.name for r in rows]
    assert len(set(names)) == len(names)
    for r in rows:
        if r.level == "municipal":
            assert r.name.startswith(CITIES[r.city])
        else:
            assert r.name.startswith("山西")


def test_every_city_has_municipal_institutions_of_every_category(rows):
    for category in ("enterprise", "college", "social"):
        cities = {r.city for r in rows if r.category == category
                  and r.level == "municipal" and r.cohort in IN_SCOPE_2023}
        assert cities == set(CITIES)


def test_jurisdictions(rows):
    assert {r.jurisdiction for r in rows} == set(CITIES) | {"140000"}


def test_scopes(rows):
    for r in rows:
        assert 1 <= len(r.scope) <= 4
        for code, levels in r.scope:
            assert code in OCCUPATION_NAMES
            assert levels and set(levels) <= {1, 2, 3, 4, 5}


def test_validity_shares(rows):
    assert all(r.valid_until >= r.published_on for r in rows)
    expired = sum(r.valid_until < CAMPAIGN_START for r in rows)
    during = sum(CAMPAIGN_START <= r.valid_until <= dt.date(2023, 12, 31) for r in rows)
    legal_expired = sum(r.legal_valid_until < CAMPAIGN_START for r in rows)
    assert 0.05 <= expired / len(rows) <= 0.10
    assert 0.03 <= during / len(rows) <= 0.15
    assert 0.04 <= legal_expired / len(rows) <= 0.06


def test_roster_file_round_trip(rows, tmp_path):
    path = tmp_path / "province.xlsx"
    write_roster(rows, path)
    assert read_roster(path) == rows
