import pytest
from hypothesis import given, settings, strategies as st

from shared.language import uscc

KNOWN_VALID = ["914403001922038216", "91110000710925462X", "12100000425006133D"]

alphabet_char = st.sampled_from(uscc.ALPHABET)
province_prefixes = st.sampled_from(sorted(uscc.PROVINCE_PREFIXES))
divisions = st.one_of(
    st.just(uscc.NATIONAL_DIVISION),
    st.builds(lambda p, rest: f"{p:02d}{rest:04d}", province_prefixes,
              st.integers(0, 9999)),
)
codes = st.builds(uscc.make, st.text(alphabet_char, min_size=2, max_size=2), divisions,
                  st.text(alphabet_char, min_size=9, max_size=9))


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_vectors_are_valid(code):
    assert uscc.problem(code) is None
    assert uscc.is_valid(code)
    assert uscc.check_character(code[:17]) == code[17]


def test_weights_follow_the_standard():
    assert uscc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@settings(max_examples=200)
@given(codes)
def test_every_made_code_is_valid(code):
    assert uscc.is_valid(code), uscc.problem(code)


@settings(max_examples=200)
@given(codes, st.integers(0, 17), alphabet_char)
def test_any_single_substitution_is_detected(code, position, replacement):
    if code[position] == replacement:
        replacement = uscc.ALPHABET[(uscc.ALPHABET.index(replacement) + 1) % 31]
    changed = code[:position] + replacement + code[position + 1:]
    assert not uscc.is_valid(changed)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_every_substitution_of_the_known_vectors_is_detected(code):
    for position in range(18):
        for ch in uscc.ALPHABET:
            if ch != code[position]:
                assert not uscc.is_valid(code[:position] + ch + code[position + 1:])


@pytest.mark.parametrize("code, reason", [
    ("91440300192203821", "wrong length: 17 characters, expected 18"),
    ("9144030019220382166", "wrong length: 19 characters, expected 18"),
    ("914403001922038217", "wrong check character: expected 6 got 7"),
    ("91440300I922038216", "character 'I' not allowed at position 9"),
    ("91110000710925462x", "character 'x' not allowed at position 18 (codes are upper-case)"),
    ("9144A3001922038216", "character 'A' not allowed at position 5"),
    ("919903001922038216", "division code 990300 (positions 3-8) is not a plausible"),
])
def test_problem_names_the_reason(code, reason):
    assert reason in uscc.problem(code)


def test_lower_case_is_refused_but_normalise_fixes_it():
    assert not uscc.is_valid("91110000710925462x")
    assert uscc.is_valid(uscc.normalise(" 91110000710925462x "))


def test_non_string_is_refused():
    assert uscc.problem(914403001922038216) is not None


def test_make_builds_shanxi_codes_and_refuses_bad_parts():
    code = uscc.make("91", "140100", "MA0GRT7K2")
    assert code.startswith("91140100MA0GRT7K2") and uscc.is_valid(code)
    with pytest.raises(ValueError):
        uscc.make("91", "1401", "MA0GRT7K2")
    with pytest.raises(ValueError):
        uscc.make("91", "990000", "MA0GRT7K2")
    with pytest.raises(ValueError):
        uscc.make("9O", "140100", "MA0GRT7K2")
