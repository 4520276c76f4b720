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
    assert {r.cohort for r in rows} == set(range(2019, 2023))


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


# -- at another size (issue 14) ------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from services.registry.sample import _scaled_counts, write_rosters  # noqa: E402
from shared.errors import BadInput  # noqa: E402


@given(st.integers(min_value=1, max_value=1_000_000))
@settings(max_examples=200, deadline=None)
def test_scaled_counts_add_up_and_keep_the_proportions(n):
    counts = _scaled_counts(n)
    cells = [c for batch in ("2019", "in scope", "2022") for c in counts[batch].values()]
    assert sum(cells) == n and min(cells) >= 0
    # Largest remainders: no cell is more than one away from its exact share.
    assert abs(sum(counts["in scope"].values()) - 507 * n / 862) <= 6
    for (category, level), count in counts["in scope"].items():
        from services.registry.sample import IN_SCOPE_COUNTS
        assert abs(count - IN_SCOPE_COUNTS[category, level] * n / 862) < 1


def test_862_is_the_sample_itself():
    counts = _scaled_counts(862)
    from services.registry import sample
    assert counts["in scope"] == sample.IN_SCOPE_COUNTS
    assert counts["2019"] == sample.BATCH_2019_COUNTS
    assert counts["2022"] == sample.BATCH_2022_COUNTS
    assert (counts["expired"], counts["expiring"], counts["legal expired"]) == (60, 70, 43)
    assert sample_province(institutions=862) == sample_province()


@pytest.fixture(scope="module")
def national():
    return sample_province(institutions=10_000)


def test_a_larger_jurisdiction_set_keeps_the_proportions(national):
    assert len(national) == 10_000
    assert len({r.uscc for r in national}) == 10_000
    assert len({r.name for r in national}) == 10_000
    assert all(uscc.is_valid(r.uscc) for r in national)
    in_scope = [r for r in national if r.cohort in IN_SCOPE_2023]
    assert abs(len(in_scope) - 507 * 10_000 / 862) <= 6
    counts = Counter((r.category, r.level) for r in in_scope)
    assert abs(counts["social", "municipal"] - 197 * 10_000 / 862) < 1
    assert abs(Counter(r.cohort for r in national)[2019] - 40 * 10_000 / 862) <= 6
    assert {r.jurisdiction for r in national} == set(CITIES) | {"140000"}
    # Most people live in 太原 and 运城: their cities have the most institutions.
    per_city = Counter(r.city for r in national if r.city)
    assert per_city.most_common(1)[0][0] == "140100"
    assert min(per_city.values()) > 200
    expired = sum(r.valid_until < CAMPAIGN_START for r in national)
    assert expired == round(60 * 10_000 / 862)


def test_numbered_names_only_beyond_the_sample(rows, national):
    assert not any("（" in r.name for r in rows)
    assert any("（" in r.name for r in national)


def test_small_and_bad_sizes():
    assert len(sample_province(institutions=1)) == 1
    assert len(sample_province(institutions=12)) == 12
    for bad in (0, -5, 1_000_001, "100", 2.5):
        with pytest.raises(BadInput):
            sample_province(institutions=bad)


def test_rosters_split_to_what_one_import_reads(tmp_path):
    rows = sample_province(institutions=25)
    paths = write_rosters(rows, str(tmp_path / "n.xlsx"), per_file=10)
    assert [p.rsplit("/", 1)[1] for p in paths] == ["n-1.xlsx", "n-2.xlsx", "n-3.xlsx"]
    assert [row for p in paths for row in read_roster(p)] == rows
    assert write_rosters(rows, str(tmp_path / "one.xlsx")) == [str(tmp_path / "one.xlsx")]
