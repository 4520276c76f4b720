"""The operators' directory: who may act, with which public key, authorised by whom, when.

Event-sourced in the registry, so a dispute can ask who was authorised on any date: an
operator is authorised with a public key (the private one never leaves the person's
machine), may have the key rotated (the old one stops working at once) and may be revoked
(for good; a returning person gets a new operator id). Every event carries the operator's
whole entry, which every service projects into its own key table (shared.directory).

An operator may also have a password for the desk (docs/desk.md): the registry keeps only
its argon2 hash (set by the province, `pinggu operator password`), in a DeskPassword of its
own whose events are never published, and the directory counts wrong
passwords, locking the desk's sign-in after MAX_FAILURES until a new password is set. The
entry every service projects says only when the password was set and whether the sign-in
is locked, never the hash.

Only the province manages the directory. A development cluster provisions the operators of
etc/operators.json with keys in the starting person's credentials directory
(`provision_dev`), automatically and idempotently.
"""
import datetime
import uuid

from eventsourcing.domain import event

from shared import operators, tokens
from shared.aggregate import CaseAggregate
from shared.errors import BadInput, Refused

OPERATOR_NAMESPACE = uuid.UUID("6f1f2a5e-2023-4223-9a1e-00000000097e")
TOPIC_PATTERN = "services.registry.directory:Operator.%"
MAX_FAILURES = 5  # wrong passwords in a row that lock the desk's sign-in


def operator_uuid(operator_id):
    return uuid.uuid5(OPERATOR_NAMESPACE, operator_id)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class Operator(CaseAggregate):
    """One person acting for the province, the center, a city bureau, or as auditor."""

    @staticmethod
    def create_id(entry, **_):
        return operator_uuid(entry["id"])

    @event("Authorised")
    def __init__(self, entry: dict):
        self.entry = entry

    @property
    def revoked(self):
        return bool(self.entry.get("revoked"))

    def current_key(self):
        return next((kid for kid, k in self.entry["keys"].items() if not k.get("retired")),
                    None)

    def rotate(self, public_key, by):
        """A new key replaces the current one, which stops working at once."""
        self._require_active()
        at = _now()
        keys = {kid: (k if k.get("retired") else {**k, "retired": at})
                for kid, k in self.entry["keys"].items()}
        keys[tokens.key_id(public_key)] = {"public_key": public_key, "since": at, "by": by}
        self._rotated(entry={**self.entry, "keys": keys})

    @event("KeyRotated")
    def _rotated(self, entry: dict):
        self.entry = entry

    def revoke(self, reason, by):
        self._require_active()
        self._revoked(entry={**self.entry, "revoked": {"reason": reason, "by": by,
                                                       "at": _now()}})

    @event("Revoked")
    def _revoked(self, entry: dict):
        self.entry = entry

    # -- the desk's password (docs/desk.md) --------------------------------------------
    @property
    def sign_in_state(self):
        return self.entry.get("sign_in") or {"failures": 0, "locked": None}

    def set_password(self, by):
        """A new password (its hash is the DeskPassword's); it also lifts a lock-out."""
        self._require_active()
        self._password_set(entry={**self.entry, "password": {"set_at": _now(), "by": by},
                                  "sign_in": {"failures": 0, "locked": None}})

    @event("PasswordSet")
    def _password_set(self, entry: dict):
        self.entry = entry

    def fail_sign_in(self):
        failures = self.sign_in_state["failures"] + 1
        locked = _now() if failures >= MAX_FAILURES else None
        self._sign_in_failed(entry={**self.entry, "sign_in": {"failures": failures,
                                                              "locked": locked}})

    @event("SignInFailed")
    def _sign_in_failed(self, entry: dict):
        self.entry = entry

    def succeed_sign_in(self):
        self._signed_in(entry={**self.entry, "sign_in": {"failures": 0, "locked": None}})

    @event("SignedIn")
    def _signed_in(self, entry: dict):
        self.entry = entry

    def _require_active(self):
        if self.revoked:
            raise Refused("directory", f"operator {self.entry['id']} is revoked; a returning "
                                       "person is added under a new operator id")


class DeskPassword(CaseAggregate):
    """An operator's desk password, as its argon2 hash. The registry's alone: its events are
    never published (the outbox skips them), so the hash reaches no queue, no other service
    and no integrator's log; the Operator's own events say only when it was set."""

    @staticmethod
    def create_id(operator_id, **_):
        return desk_password_uuid(operator_id)

    @event("Set")
    def __init__(self, operator_id: str, password_hash: str):
        self.operator_id = operator_id
        self.password_hash = password_hash

    def change(self, password_hash):
        self._changed(password_hash=password_hash)

    @event("Changed")
    def _changed(self, password_hash: str):
        self.password_hash = password_hash


DeskPassword.Set.published = DeskPassword.Changed.published = False


def desk_password_uuid(operator_id):
    return uuid.uuid5(OPERATOR_NAMESPACE, f"desk-password/{operator_id}")


def new_entry(operator_id, role, jurisdiction, name, public_key, by):
    operators.check_id(operator_id)
    operators.check_entry(role, jurisdiction)
    at = _now()
    return {"id": operator_id, "role": role, "jurisdiction": jurisdiction, "name": name,
            "authorised": {"by": by, "at": at}, "revoked": None,
            "keys": {tokens.key_id(public_key): {"public_key": public_key, "since": at,
                                                 "by": by}}}


def _check_public_key(public_key):
    try:
        tokens.public_key(public_key)
    except (ValueError, TypeError) as exc:
        raise BadInput(f"not an Ed25519 public key (32 bytes, base64url): {exc}")


# -- the registry's commands and queries -------------------------------------------------
def authorise(app, operator_id, role, jurisdiction, name, public_key, by):
    _check_public_key(public_key)

    def command():
        if app.get_or_none(operator_uuid(operator_id)) is not None:
            raise Refused("directory", f"operator {operator_id} already exists; "
                                       "`pinggu operator rotate` gives a new key")
        operator = Operator(entry=new_entry(operator_id, role, jurisdiction, name,
                                            public_key, by))
        app.save(operator)
        return view(operator)
    return app.run_command(command)


def _change(app, operator_id, change):
    def command():
        operator = app.get_or_none(operator_uuid(operator_id))
        if operator is None:
            raise BadInput(f"no operator {operator_id!r} in the directory")
        change(operator)
        app.save(operator)
        return view(operator)
    return app.run_command(command)


def rotate(app, operator_id, public_key, by):
    _check_public_key(public_key)
    return _change(app, operator_id, lambda op: op.rotate(public_key, by))


def revoke(app, operator_id, reason, by):
    return _change(app, operator_id, lambda op: op.revoke(reason, by))


def set_password(app, operator_id, password_hash, by):
    if not isinstance(password_hash, str) or not password_hash.startswith("$argon2id$"):
        raise BadInput("not an argon2id hash ($argon2id$…): the CLI hashes the password, "
                       "the directory never sees it")
    def command():
        operator = app.get_or_none(operator_uuid(operator_id))
        if operator is None:
            raise BadInput(f"no operator {operator_id!r} in the directory")
        operator.set_password(by)
        password = app.get_or_none(desk_password_uuid(operator_id))
        if password is None:
            password = DeskPassword(operator_id=operator_id, password_hash=password_hash)
        else:
            password.change(password_hash)
        app.save(operator, password)  # one transaction: the entry and the hash together
        return view(operator)
    return app.run_command(command)


# Verified against when there is no such operator or password, so a wrong id takes as long
# as a wrong password and the answer does not tell which operator ids exist.
_NOBODY = []


def _nobody_hash(hasher):
    if not _NOBODY:
        _NOBODY.append(hasher.hash(uuid.uuid4().hex))
    return _NOBODY[0]


def sign_in(app, operator_id, password_typed):
    """Check a password for the desk: {"ok": True, "operator": …} or {"ok": False,
    "locked": bool}. A wrong password is recorded (SignInFailed); the fifth in a row locks
    the sign-in until the province sets a new password."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError
    hasher = PasswordHasher()
    try:
        operator = app.get_or_none(operator_uuid(operators.check_id(operator_id)))
    except BadInput:
        operator = None
    password = None if operator is None else app.get_or_none(desk_password_uuid(operator_id))
    if operator is None or operator.revoked or password is None:
        try:
            hasher.verify(_nobody_hash(hasher), password_typed)
        except (VerificationError, InvalidHashError):
            pass
        return {"ok": False, "locked": False}
    if operator.sign_in_state["locked"]:
        return {"ok": False, "locked": True}
    try:
        hasher.verify(password.password_hash, password_typed)
    except (VerificationError, InvalidHashError):
        result = _change(app, operator_id, lambda op: op.fail_sign_in())
        return {"ok": False, "locked": bool(result["sign_in"]["locked"])}
    if operator.sign_in_state["failures"]:
        _change(app, operator_id, lambda op: op.succeed_sign_in())
    entry = operator.entry
    return {"ok": True, "operator": {k: entry.get(k) for k in
                                     ("id", "role", "jurisdiction", "name")}}


def _operator_ids(app):
    with app.recorder.datastore.transaction(commit=False) as cur:
        cur.execute(f"SELECT DISTINCT originator_id FROM {app.recorder.events_table_name} "
                    "WHERE topic LIKE %s", (TOPIC_PATTERN,))
        return [row["originator_id"] for row in cur.fetchall()]


def listing(app, as_of=None):
    """Every operator as the directory holds them; with `as_of` (a date), as they stood
    at the end of that day (UTC)."""
    found = []
    for aggregate_id in _operator_ids(app):
        if as_of is None:
            found.append(view(app.repository.get(aggregate_id)))
            continue
        version = 0
        for e in app.events.get(aggregate_id):
            if e.timestamp.date() > as_of:
                break
            version = e.originator_version
        if version:
            found.append(view(app.repository.get(aggregate_id, version=version)))
    return sorted(found, key=lambda v: v["id"])


def recorded(app):
    """How many directory events the registry has recorded (see shared.directory)."""
    with app.recorder.datastore.transaction(commit=False) as cur:
        cur.execute(f"SELECT count(*) AS n FROM {app.recorder.events_table_name} "
                    "WHERE topic LIKE %s", (TOPIC_PATTERN,))
        return int(cur.fetchone()["n"])


def view(operator):
    entry = operator.entry
    return {"id": entry["id"], "role": entry["role"], "jurisdiction": entry["jurisdiction"],
            "name": entry["name"], "authorised": entry["authorised"],
            "revoked": entry["revoked"], "key": operator.current_key(),
            "keys": {kid: {k: v for k, v in key.items() if k != "public_key"}
                     for kid, key in entry["keys"].items()},
            "password": entry.get("password"), "sign_in": operator.sign_in_state,
            "version": operator.version}


# -- development clusters ----------------------------------------------------------------
def provision_dev(app, config):
    """Give the person who started this development cluster a credential for each
    operator of etc/operators.json, and put its public key in the directory. Idempotent:
    an existing credential is kept, an operator whose current key it is is left alone."""
    changed = []
    for op in operators.load_operators(config.operators_file).values():
        path = operators.credential_path(config.credentials_dir, op.id)
        try:
            operators.write_credential(path, op.id, op.role, op.jurisdiction,
                                       tokens.new_private_key())
        except FileExistsError:
            pass  # the person's credential from an earlier run (or another cluster)
        credential = operators.load_credential(config.credentials_dir, op.id)
        public = tokens.public_bytes(credential.private_key)
        existing = app.get_or_none(operator_uuid(op.id))
        if existing is None:
            authorise(app, op.id, op.role, op.jurisdiction, op.name, public, "bootstrap")
        elif existing.revoked:
            continue  # revoked on purpose: a development cluster does not undo that
        elif existing.current_key() != tokens.key_id(public):
            rotate(app, op.id, public, "bootstrap")
        else:
            continue
        changed.append(op.id)
    return changed
