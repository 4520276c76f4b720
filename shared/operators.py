"""Operators, their roles and jurisdictions, and the signed identity a request carries.

The CLI signs the operator id with the cluster's secret (HMAC-SHA256); every service
verifies the signature and looks the operator up in the operators file before acting, so
an unknown or forged identity is refused wherever it arrives.
"""
import dataclasses
import hashlib
import hmac
import json
import time

from shared.errors import Refused

PROVINCE = "140000"
ROLES = ("province", "center", "city", "auditor", "system")
TOKEN_LIFETIME = 12 * 3600


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


def _mac(secret, payload):
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def sign(operator_id, secret, now=None):
    issued = int(now if now is not None else time.time())
    payload = f"{operator_id}:{issued}"
    return f"{payload}:{_mac(secret, payload)}"


def verify(token, secret, operators, now=None):
    """The Operator a token names, or Refused."""
    try:
        operator_id, issued, mac = str(token).rsplit(":", 2)
        issued = int(issued)
    except (ValueError, AttributeError):
        raise Refused("identity", "malformed operator identity")
    if not hmac.compare_digest(mac, _mac(secret, f"{operator_id}:{issued}")):
        raise Refused("identity", f"forged identity for operator {operator_id}")
    now = now if now is not None else time.time()
    if not (issued - 300 <= now <= issued + TOKEN_LIFETIME):
        raise Refused("identity", f"expired identity for operator {operator_id}")
    if operator_id not in operators:
        raise Refused("identity", f"unknown operator {operator_id}")
    return operators[operator_id]
