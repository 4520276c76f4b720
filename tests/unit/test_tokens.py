"""Minting and verifying the per-call token (shared.tokens, shared.directory)."""
import json
import time

import jwt
import pytest
from hypothesis import given, strategies as st

from shared import directory, tokens
from shared.errors import Refused
from shared.operators import Operator

CITY = Operator("city-140200", "city", "140200", "大同市人力资源和社会保障局")


@pytest.fixture(scope="module")
def private():
    return tokens.new_private_key()


def key_of(private, operator=CITY, revoked=None):
    public = tokens.public_bytes(private)
    return tokens.Key(tokens.key_id(public), tokens.public_key(public), operator=operator,
                      revoked=revoked)


def mint(private, operator=CITY, **overrides):
    fields = dict(kid=key_of(private).kid, subject=operator.id, role=operator.role,
                  jurisdiction=operator.jurisdiction, audience="evaluation",
                  method="submit_score_sheet", args_digest=tokens.digest([{"f": 1}]),
                  jti="c-1")
    fields.update(overrides)
    return tokens.mint(private, **fields)


def verify(token, key, **overrides):
    call = dict(audience="evaluation", method="submit_score_sheet",
                args_digest=tokens.digest([{"f": 1}]))
    call.update(overrides)
    return tokens.verify(token, key_for=lambda kid: key if key and kid == key.kid else None,
                         **call)


def test_a_token_verifies_for_its_own_call(private):
    claims, key = verify(mint(private), key_of(private))
    assert (claims["sub"], claims["jti"], claims["method"]) == \
        ("city-140200", "c-1", "submit_score_sheet")
    assert 0 < claims["exp"] - claims["iat"] <= tokens.LIFETIME
    assert directory.operator_of(claims, key) == CITY


@pytest.mark.parametrize("overrides, reason", [
    ({"audience": "registry"}, "token not for service evaluation"),
    ({"method": "submit_findings"}, "not submit_score_sheet"),
    ({"args_digest": tokens.digest([{"f": 2}])}, "other arguments"),
    ({"now": time.time() - 3600}, "expired"),
    ({"lifetime": 3600}, "longer than"),
    ({"subject": "province"}, "credential of city-140200 used as province"),
])
def test_a_token_for_anything_else_is_refused(private, overrides, reason):
    with pytest.raises(Refused) as refused:
        verify(mint(private, **overrides), key_of(private))
    assert reason in refused.value.message


def test_a_delegated_read_is_bound_to_the_call_it_serves(private):
    """decisions reads for evaluation's submission with the submission's own token: only a
    token for that service and method passes, whatever its arguments."""
    token = mint(private, method="submit_rectification")
    claims, _ = verify(token, key_of(private), method="submit_rectification", args_digest=None)
    assert claims["method"] == "submit_rectification"
    with pytest.raises(Refused, match="not submit_rectification"):
        verify(mint(private), key_of(private), method="submit_rectification", args_digest=None)
    with pytest.raises(Refused, match="not for service evaluation"):
        verify(mint(private, audience="notices", method="submit_rectification"),
               key_of(private), method="submit_rectification", args_digest=None)


def test_an_unknown_key_is_refused(private):
    with pytest.raises(Refused, match="unknown key"):
        verify(mint(private), None)
    other = tokens.new_private_key()
    with pytest.raises(Refused, match="invalid token"):  # signed by another key, same kid
        verify(mint(other, kid=key_of(private).kid), key_of(private))


def test_a_revoked_credential_is_refused(private):
    with pytest.raises(Refused, match="revoked"):
        verify(mint(private), key_of(private, revoked="operator revoked"))


def test_no_token_at_all_is_refused():
    for token in (None, "", "province", "a.b", "a.b.c"):
        with pytest.raises(Refused):
            verify(token, None)


def test_a_directory_key_cannot_widen_its_role_or_jurisdiction(private):
    claims, key = verify(mint(private, role="province", jurisdiction="140000"),
                         key_of(private))
    with pytest.raises(Refused, match="claims role province"):
        directory.operator_of(claims, key)


def test_the_identity_providers_key_from_a_jwks_file(private, tmp_path):
    """A department identity provider's token: its claims say who acts."""
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
    jwk["kid"] = "idp-2026"
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    found = directory.load_jwks(str(path))
    key = tokens.Key("idp-2026", found["idp-2026"], operator=None, issuer="https://idp.example")
    token = mint(private, kid="idp-2026", issuer="https://idp.example",
                 subject="zhang.san", role="city", jurisdiction="140100")
    claims, key = verify(token, key)
    assert directory.operator_of(claims, key) == Operator("zhang.san", "city", "140100")
    bad = mint(private, kid="idp-2026", issuer="https://idp.example", subject="x",
               role="city", jurisdiction="140000")
    with pytest.raises(Refused, match="city's jurisdiction"):
        directory.operator_of(*verify(bad, key))
    with pytest.raises(Refused, match="unexpected issuer"):
        verify(mint(private, kid="idp-2026"), key)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                           lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                           max_leaves=10)


@given(st.lists(json_values, max_size=4), st.dictionaries(st.text(), json_values, max_size=3))
def test_the_digest_is_what_travels_as_json(args, kwargs):
    """Computed by the CLI before sending and by the service from what it received."""
    travelled = json.loads(json.dumps({"args": tuple(args), "kwargs": kwargs}))
    assert tokens.digest(tuple(args), kwargs) == \
        tokens.digest(travelled["args"], travelled["kwargs"])
    assert tokens.digest([*args, "one more"], kwargs) != tokens.digest(args, kwargs)


@pytest.mark.parametrize("operator_id", ["../province", "a/b", "", ".hidden", "x" * 65, None])
def test_an_operator_id_is_a_safe_file_name(operator_id, tmp_path):
    from shared import operators
    from shared.errors import BadInput
    with pytest.raises(BadInput):
        operators.credential_path(str(tmp_path), operator_id)


def test_a_lone_surrogate_from_the_wire_is_digested():
    assert tokens.digest(json.loads('["\\ud800"]')) != tokens.digest(["x"])
