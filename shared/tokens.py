"""The signed token each RPC carries: who acts, for which call, once (docs/identity.md).

An operator holds an Ed25519 key pair of their own; services hold public keys only. The CLI
mints a JWT per call, bound to the service (`aud`), the RPC method (`method`), a SHA-256 of
the call's arguments (`digest`) and the command's idempotency key (`jti`), valid for a few
minutes. So a token cannot be replayed against another method or other arguments, and a
replay of the same call is the same command, which the service's journal runs once
(shared.commands).
"""
import base64
import dataclasses
import hashlib
import json
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.errors import Refused

ALGORITHM = "EdDSA"
ISSUER = "pinggu-operator"  # tokens minted by an operator's own credential
# Tokens the desk mints for an operator signed in with their password (docs/desk.md); a
# service takes their role and jurisdiction from the directory, never from the token.
DESK_ISSUER = "pinggu-desk"
DESK_SUBJECT = "desk"       # the desk itself, asking the registry to check a password
LIFETIME = 300              # seconds a minted token is valid
MAX_LIFETIME = 900          # longer-lived tokens are refused, whoever issued them
LEEWAY = 30                 # clock skew tolerated between the CLI's machine and a service
REQUIRED = ("iss", "sub", "aud", "exp", "iat", "jti", "method", "digest")


def digest(args=(), kwargs=None):
    """SHA-256 of the canonical JSON of a call's arguments (without the token itself).

    Both sides compute it from what travels as JSON, so tuples and lists agree."""
    canonical = json.dumps({"args": list(args), "kwargs": kwargs or {}}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False, default=str)
    # surrogatepass: JSON may carry a lone surrogate ("\ud800"); it is digested, not refused.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


# -- keys ------------------------------------------------------------------------------
def new_private_key():
    return Ed25519PrivateKey.generate()


def public_bytes(key):
    """The raw 32 bytes of an Ed25519 public key, base64url (as in a JWK's `x`)."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def desk_private_key(seed):
    return Ed25519PrivateKey.from_private_bytes(seed)


def desk_keys(raw_public_keys):
    """{kid: public key} of the desk's issuer keys (raw 32-byte Ed25519 public keys)."""
    found = {}
    for raw in raw_public_keys:
        text = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        found[key_id(text)] = public_key(text)
    return found


def public_key(text):
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(public_text):
    """A key's id: the first 16 bytes of the SHA-256 of its public bytes, base64url."""
    return base64.urlsafe_b64encode(
        hashlib.sha256(public_text.encode()).digest()[:16]).rstrip(b"=").decode()


def private_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def load_private_pem(text):
    return serialization.load_pem_private_key(text.encode(), password=None)


# -- tokens ----------------------------------------------------------------------------
def mint(private_key, *, kid, subject, role, jurisdiction, audience, method, args_digest,
         jti, issuer=ISSUER, now=None, lifetime=LIFETIME):
    issued = int(now if now is not None else time.time())
    claims = {"iss": issuer, "sub": subject, "role": role, "jurisdiction": jurisdiction,
              "aud": audience, "method": method, "digest": args_digest, "jti": jti,
              "iat": issued, "exp": issued + lifetime}
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})


@dataclasses.dataclass(frozen=True)
class Key:
    """A public key a service trusts. `operator` is the directory's entry the key belongs
    to (its role and jurisdiction are authoritative); None for a key of the department's
    identity provider, whose signed claims are then taken as they are."""

    kid: str
    key: object
    operator: object = None
    issuer: str = ISSUER
    revoked: str | None = None   # why the key may no longer be used


def verify(token, *, audience, method, args_digest, key_for):
    """The verified claims of `token` for this call, or Refused naming what is wrong.

    `key_for(kid)` returns the Key of that id or None. Returns (claims, key). With
    `args_digest=None` the arguments are not checked: a service reading on behalf of a
    call it received, whose arguments that service has already checked."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise Refused("identity", "no signed token: the call carries no operator credential")
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise Refused("identity", f"malformed token: {exc}")
    key = key_for(kid) if kid else None
    if key is None:
        raise Refused("identity", f"unknown key {kid!r}: not in the operators' directory "
                                  "nor the identity provider's keys")
    try:
        claims = jwt.decode(token, key.key, algorithms=[ALGORITHM, "ES256", "RS256"]
                            if key.operator is None else [ALGORITHM],
                            audience=audience, issuer=key.issuer, leeway=LEEWAY,
                            options={"require": list(REQUIRED)})
    except jwt.ExpiredSignatureError:
        raise Refused("identity", "token expired")
    except jwt.InvalidAudienceError:
        raise Refused("identity", f"token not for service {audience}")
    except jwt.InvalidIssuerError:
        raise Refused("identity", "token from an unexpected issuer")
    except jwt.PyJWTError as exc:
        raise Refused("identity", f"invalid token: {exc}")
    if claims["exp"] - claims["iat"] > MAX_LIFETIME:
        raise Refused("identity", f"token lives longer than {MAX_LIFETIME} s")
    if key.revoked:
        owner = key.operator.id if key.operator is not None else claims["sub"]
        raise Refused("identity", f"credential {kid} of {owner} is revoked: {key.revoked}")
    if claims["method"] != method:
        raise Refused("identity", f"token minted for {claims['method']}, not {method}")
    if args_digest is not None and claims["digest"] != args_digest:
        raise Refused("identity", f"token minted for other arguments of {method}")
    if key.operator is not None and claims["sub"] != key.operator.id:
        raise Refused("identity", f"credential of {key.operator.id} used as {claims['sub']}")
    return claims, key


def unverified_subject(token, key_for):
    """Whose credential signed a refused token, as far as can be told: the owner of its
    key if the key is known, else the subject it claims (for the refusal's log line)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = key_for(kid) if kid else None
        if key is not None and key.operator is not None:
            return key.operator.id
        return jwt.decode(token, options={"verify_signature": False}).get("sub")
    except Exception:  # whatever it is, it is not a readable token
        return None
