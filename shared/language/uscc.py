"""统一社会信用代码 (unified social credit code, GB 32100-2015).

Layout: position 1 registration authority, 2 institution type, 3-8 GB/T 2260 division
code, 9-17 organisation code (GB 11714 body), 18 check character.

The code is upper-case by standard and this module is strict about it: `problem()`
refuses lower-case letters. Input boundaries (forms typed by operators, where a lower-case
"x" is a common slip) call `normalise()` first, so the stored code is always canonical.
"""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 3^(i-1) mod 31 for i = 1..17

# First two digits of GB/T 2260 province-level divisions.
PROVINCE_PREFIXES = frozenset(
    [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
     41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82])
# Registered by a national authority: no province.
NATIONAL_DIVISION = "100000"


def check_character(first17):
    """The check character for the first 17 characters of a code.

    31 is prime and no weight is 0 mod 31, so any single substituted character
    changes the sum mod 31: every one-character error is detected."""
    if len(first17) != 17:
        raise ValueError(f"need 17 characters, got {len(first17)}")
    try:
        total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC alphabet") from None
    return ALPHABET[(31 - total % 31) % 31]


def _division_problem(division):
    if division == NATIONAL_DIVISION:
        return None
    if int(division[:2]) not in PROVINCE_PREFIXES:
        return (f"division code {division} (positions 3-8) is not a plausible "
                "GB/T 2260 code")
    return None


def problem(code):
    """Why `code` is not a valid USCC, in plain English; None if it is valid."""
    if not isinstance(code, str):
        return f"not a string: {code!r}"
    if len(code) != 18:
        return f"wrong length: {len(code)} characters, expected 18"
    for position, ch in enumerate(code, start=1):
        if ch not in _VALUE:
            hint = " (codes are upper-case)" if ch.upper() in _VALUE else ""
            return f"character {ch!r} not allowed at position {position}{hint}"
        if 3 <= position <= 8 and not ch.isdigit():
            return (f"character {ch!r} not allowed at position {position} "
                    "(the division code, positions 3-8, is digits)")
    reason = _division_problem(code[2:8])
    if reason:
        return reason
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"wrong check character: expected {expected} got {code[17]}"
    return None


def is_valid(code):
    return problem(code) is None


def normalise(code):
    """Strip surrounding whitespace and upper-case; does not validate."""
    return code.strip().upper()


def make(prefix2, division6, body9):
    """A valid code from its parts: authority+type (e.g. "91"), division ("140100")
    and organisation body (9 characters)."""
    if len(prefix2) != 2 or len(division6) != 6 or len(body9) != 9:
        raise ValueError("need a 2-character prefix, 6-digit division and 9-character "
                         f"body, got {prefix2!r}, {division6!r}, {body9!r}")
    first17 = prefix2 + division6 + body9
    code = first17 + check_character(first17)
    reason = problem(code)
    if reason:
        raise ValueError(reason)
    return code
