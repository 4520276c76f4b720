"""The operators' directory: who may act, with which public key, authorised by whom, when.

Event-sourced in the registry, so a dispute can ask who was authorised on any date: an
operator is authorised with a public key (the private one never leaves the person's
machine), may have the key rotated (the old one stops working at once) and may be revoked
(for good; a returning person gets a new operator id). Every event carries the operator's
whole entry, which every service projects into its own key table (shared.directory).

Only the province manages the directory. A development cluster provisions the operators of
etc/operators.json with keys in the starting person's credentials directory
(`provision_dev`), automatically and idempotently.
"""
import datetime
import uuid

import eventlet
from eventsourcing.domain import event
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from shared import config as config_module, log, metadata, operators, tokens
from shared.aggregate import CaseAggregate
from shared.errors import BadInput, Refused
from shared.service import EXPECTED

OPERATOR_NAMESPACE = uuid.UUID("6f1f2a5e-2023-4223-9a1e-00000000097e")
TOPIC_PATTERN = "services.registry.directory:Operator.%"


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

    def _require_active(self):
        if self.revoked:
            raise Refused("directory", f"operator {self.entry['id']} is revoked; a returning "
                                       "person is added under a new operator id")


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


class DevOperators(DependencyProvider):
    """Runs provision_dev once the service has started, when the cluster is one for
    development (PINGGU_PROVISION_DEV_OPERATORS, docs/identity.md)."""

    def setup(self):
        self.config = config_module.load()
        self.provisioning = self.config.provision_dev_operators

    def get_dependency(self, worker_ctx):
        return self

    def start(self):
        if self.config.provision_dev_operators:
            self.container.spawn_managed_thread(self._provision,
                                                identifier="directory.provision_dev")

    def _provision(self):
        from shared.nameko_ext import EventStore
        store = next(d for d in self.container.dependencies if isinstance(d, EventStore))
        logger = log.get("directory")
        for attempt in range(30):
            try:
                with metadata.caused_by("bootstrap", "system"):
                    changed = provision_dev(store.app, self.config)
                logger.info("directory.provisioned", credentials=self.config.credentials_dir,
                            changed=changed)
                self.provisioning = False
                return
            except Exception:
                logger.exception("directory.provision_failed", attempt=attempt + 1)
                eventlet.sleep(1)


class DirectoryEntrypoints:
    """The registry's RPCs for the directory (a mixin of RegistryService)."""

    dev_operators = DevOperators()

    @rpc(expected_exceptions=EXPECTED)
    def operator_add(self, identity, operator_id, role, jurisdiction, name, public_key):
        with self.acting(identity) as operator:
            operator.require_role("province")
            return authorise(self.store, operator_id, role, jurisdiction, name or "",
                             public_key, operator.id)

    @rpc(expected_exceptions=EXPECTED)
    def operator_rotate(self, identity, operator_id, public_key):
        with self.acting(identity) as operator:
            operator.require_role("province")
            return rotate(self.store, operator_id, public_key, operator.id)

    @rpc(expected_exceptions=EXPECTED)
    def operator_revoke(self, identity, operator_id, reason):
        with self.acting(identity) as operator:
            operator.require_role("province")
            if operator_id == operator.id:
                raise Refused("directory", "an operator does not revoke their own credential")
            return revoke(self.store, operator_id, reason, operator.id)

    @rpc(expected_exceptions=EXPECTED)
    def operator_list(self, identity, as_of=None):
        operator = self.acting.verify(identity)
        operator.require_role("province", "auditor")
        try:
            day = datetime.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise BadInput(f"not a date (YYYY-MM-DD): {as_of!r}")
        return listing(self.store, day)

    @rpc
    def directory_recorded(self):
        """How many directory events there are, and whether more are coming at once
        (a development cluster still provisioning its operators)."""
        return {"recorded": recorded(self.store),
                "provisioning": self.dev_operators.provisioning}
