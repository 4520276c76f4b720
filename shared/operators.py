"""Operators, their roles and jurisdictions, and the credentials they hold.

Each operator has a credential of their own: an Ed25519 key pair whose private half is in a
file only they can read (`$PINGGU_CREDENTIALS/<id>.json`, mode 0600) and whose public half
is in the operators' directory (services/registry/directory.py). The CLI signs each call
with it (shared.tokens); services check the signature against the directory, so an
operator is whoever holds the key, never whatever a command line claims.
etc/operators.json lists the development operators a dev cluster provisions.
"""
import dataclasses
import json
import os

from shared.errors import BadInput, Refused
from shared.language.jurisdictions import CITIES, PROVINCE

ROLES = ("province", "center", "city", "auditor", "system")
PERSON_ROLES = ("province", "center", "city", "auditor")


@dataclasses.dataclass(frozen=True)
class Operator:
    id: str
    role: str
    jurisdiction: str | None
    name: str = ""

    @property
    def read_only(self):
        return self.role == "auditor"

    def may_act_for(self, jurisdiction):
        """属地管理: a bureau acts for its own jurisdiction; the department for any."""
        if self.role in ("province", "system"):
            return True
        if self.role in ("center", "city"):
            return self.jurisdiction == jurisdiction
        return False

    def require_reader_of(self, jurisdiction):
        """属地管理 for reading: a city bureau reads its own jurisdiction only; the
        province's offices and the auditor read any."""
        if self.role == "city" and self.jurisdiction != jurisdiction:
            raise Refused("属地管理", f"operator {self.id} ({self.role}, {self.jurisdiction}) "
                                      f"may not read jurisdiction {jurisdiction}")

    def require_writer(self):
        if self.read_only:
            raise Refused("read-only", f"operator {self.id} ({self.role}) may only read")

    def require_jurisdiction(self, jurisdiction, what=""):
        self.require_writer()
        if not self.may_act_for(jurisdiction):
            raise Refused("属地管理", f"operator {self.id} ({self.role}, {self.jurisdiction}) "
                          f"may not act for jurisdiction {jurisdiction}{' ' + what if what else ''}")

    def require_role(self, *roles):
        if self.role not in roles:
            raise Refused("role", f"operator {self.id} ({self.role}) may not do this; "
                          f"needs one of {', '.join(roles)}")


def load_operators(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    operators = {}
    for op_id, entry in data["operators"].items():
        if entry["role"] not in ROLES:
            raise ValueError(f"{path}: operator {op_id} has unknown role {entry['role']!r}")
        operators[op_id] = Operator(op_id, entry["role"], entry.get("jurisdiction"),
                                    entry.get("name", ""))
    return operators


def check_id(operator_id):
    """An operator id is also a file name: letters, digits, '.', '_' and '-' only."""
    import re
    if not isinstance(operator_id, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}",
                                                            operator_id):
        raise BadInput(f"not an operator id (letters, digits, '.', '_', '-'): {operator_id!r}")
    return operator_id


def check_entry(role, jurisdiction):
    """An operator's role and jurisdiction make sense together, or BadInput."""
    if role not in PERSON_ROLES:
        raise BadInput(f"unknown role {role!r}; one of {', '.join(PERSON_ROLES)}")
    if role == "city" and jurisdiction not in CITIES:
        raise BadInput(f"a city bureau needs a city's jurisdiction code, not {jurisdiction!r}")
    if role in ("province", "center") and jurisdiction != PROVINCE:
        raise BadInput(f"{role} acts for jurisdiction {PROVINCE}, not {jurisdiction!r}")


# -- credentials (the operator's side) -------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Credential:
    operator: str
    role: str
    jurisdiction: str | None
    kid: str
    private_key: object


def credential_path(directory, operator_id):
    return os.path.join(directory, f"{check_id(operator_id)}.json")


def write_credential(path, operator_id, role, jurisdiction, private_key, *, replace=False):
    """Write a private key once, readable by its owner only; never over an existing one
    unless `replace` (a rotation), and never half-written."""
    from shared import tokens
    public = tokens.public_bytes(private_key)
    body = json.dumps({"operator": operator_id, "role": role, "jurisdiction": jurisdiction,
                       "kid": tokens.key_id(public), "public_key": public,
                       "private_key": tokens.private_pem(private_key)}, indent=2).encode()
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file exists: a key is written once
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return public


def load_credential(directory, operator_id):
    path = credential_path(directory, operator_id)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise BadInput(f"no credential of operator {operator_id!r} in {directory} "
                       "(--operator chooses among the credentials you hold)")
    except ValueError as exc:
        raise BadInput(f"{path}: not a credential file: {exc}")
    from shared import tokens
    try:
        key = tokens.load_private_pem(data["private_key"])
        return Credential(data["operator"], data["role"], data.get("jurisdiction"),
                          data["kid"], key)
    except (KeyError, ValueError) as exc:
        raise BadInput(f"{path}: not a credential file: {exc}")
