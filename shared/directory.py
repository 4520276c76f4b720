"""Each service's own copy of the operators' directory: the public keys it trusts.

The directory is event-sourced in the registry (services/registry/directory.py). Its
events, like any other, leave through the registry's outbox; every service (the registry
too) consumes them from a queue of its own, `<service>.directory`, and keeps the latest
state of each operator in `<schema>.operator_keys`. Each event carries the operator's whole
entry and its version, so applying one is an upsert that ignores anything older: a
redelivered or overtaken message changes nothing. A service reads no other's tables and
needs the registry for nothing at call time; `pinggu operator revoke` returns only once
every service has applied the revocation (see `applied`), so it holds from the next call.

Keys of a department identity provider come from a JWKS (file or URL, PINGGU_JWKS); its
tokens' own `role` and `jurisdiction` claims are then what the operator may do.
"""
import json
import threading
import time
import urllib.request

import eventlet
from kombu import Queue
from nameko.messaging import Consumer

from shared import bus, config as config_module, db, integration, log, operators, tokens
from shared.errors import Refused

ROUTING_KEY = "registry.Operator.#"
TYPE_PREFIX = "pinggu.registry.Operator."
SERVICES = tuple(bus.INBOXES)
JWKS_REFRESH = 300  # seconds a fetched JWKS is trusted before it is fetched again


def queue(config, service):
    return Queue(f"{service}.directory", exchange=bus.events_exchange(config),
                 routing_key=ROUTING_KEY, durable=True)


def declare_queues(connection, config):
    """Every service's directory queue, so an entry the registry records before a service
    first starts is waiting for it."""
    bus.declare_exchange(connection, config)
    for service in SERVICES:
        queue(config, service)(connection.default_channel).declare()


class DirectoryConsumer(Consumer):
    """Delivers the registry's directory events to the service method it decorates."""

    def __init__(self, **kwargs):
        super().__init__(queue=None, requeue_on_error=True, **kwargs)

    def setup(self):
        from kombu import Connection
        config = config_module.load()
        with Connection(config.amqp_uri) as connection:
            declare_queues(connection, config)
        self.config = config
        self.queue = queue(config, self.container.service_name)
        super().setup()

    def handle_message(self, body, message):
        """The service method is given the message's directory events: one, or a batch's
        (integration.BATCH_CONTENT_TYPE). One that is not a directory event of the
        registry's is dropped, as a whole message of them would be."""
        try:
            if isinstance(body, dict) and "__undecodable__" in body:
                raise integration.PoisonMessage("body is not JSON")
            events = integration.unpack(body)
        except integration.PoisonMessage as exc:
            log.get("directory").error("directory.poison_message", reason=str(exc))
            message.reject(requeue=False)
            return
        envelopes = []
        for event in events:
            try:
                envelopes.append(self._checked(event, message))
            except integration.PoisonMessage as exc:
                log.get("directory").error("directory.poison_message", reason=str(exc))
        if not envelopes:
            message.reject(requeue=False)
            return
        super().handle_message(envelopes, message)

    def _checked(self, event, message):
        envelope = integration.parse(event)
        routing_key = message.delivery_info.get("routing_key", "")
        integration.check_origin(envelope, routing_key)
        # The broker vouches for user_id: only the registry's own user may name keys.
        integration.check_publisher(envelope, routing_key,
                                    message.properties.get("user_id"), self.config)
        if not (envelope["source"] == "/pinggu/registry"
                and envelope["type"].startswith(TYPE_PREFIX)):
            raise integration.PoisonMessage(f"not a directory event: {envelope['type']}")
        return envelope

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None:
            # Requeued at once: back off a little so a passing fault (a database restart)
            # does not spin the consumer.
            log.get("directory").error("directory.apply_failed", error=repr(exc_info[1]))
            eventlet.sleep(0.5)
        super().handle_message_processed(message, result, exc_info)


directory_events = DirectoryConsumer.decorator


class KeyTable:
    """The public keys this service trusts: the directory's, projected into its own
    schema, and the identity provider's JWKS."""

    def __init__(self, app, config):
        self.app = app
        self.config = config
        self.table = f"{app.schema}.operator_keys"
        self._ready = False
        self._jwks = {}
        self._jwks_at = 0.0
        self._jwks_lock = threading.Lock()
        self._apply_lock = threading.Lock()
        self._create_lock = threading.Lock()

    def _transaction(self, commit):
        datastore = self.app.recorder.datastore
        if not self._ready:
            with self._create_lock:
                if not self._ready:
                    # The first call of a worker (an RPC, the directory's consumer) may
                    # come at the same moment as another's, or another instance's.
                    with datastore.transaction(commit=True) as cur:
                        db.creating_tables(cur, self.app.schema)
                        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ("
                                    "operator_id text PRIMARY KEY, entry jsonb NOT NULL, "
                                    "version int NOT NULL)")
                    self._ready = True
        return datastore.transaction(commit=commit)

    def apply(self, envelope):
        entry, version = envelope["data"]["entry"], int(envelope["caseversion"])
        # One at a time: a burst of directory events (a cluster's provisioning) would
        # otherwise take as many pooled connections as there are workers.
        with self._apply_lock, self._transaction(commit=True) as cur:
            cur.execute(f"INSERT INTO {self.table} VALUES (%s, %s, %s) ON CONFLICT "
                        "(operator_id) DO UPDATE SET entry = EXCLUDED.entry, version = "
                        f"EXCLUDED.version WHERE {self.table}.version < EXCLUDED.version",
                        (entry["id"], json.dumps(entry), version))
        log.get("directory").info("directory.applied", operator=entry["id"], version=version,
                                  revoked=bool(entry.get("revoked")))

    def applied(self):
        """How many directory events this service has applied (the sum of the versions)."""
        with self._transaction(commit=False) as cur:
            cur.execute(f"SELECT coalesce(sum(version), 0) AS n FROM {self.table}")
            return int(cur.fetchone()["n"])

    def key(self, kid):
        with self._transaction(commit=False) as cur:
            cur.execute(f"SELECT entry FROM {self.table} WHERE entry->'keys' ? %s", (kid,))
            row = cur.fetchone()
        if row is None:
            desk = tokens.desk_keys(self.config.desk_public_keys).get(kid)
            if desk is not None:
                return tokens.Key(kid, desk, operator=None, issuer=tokens.DESK_ISSUER)
            return self._jwks_key(kid)
        entry = row["entry"]
        held = entry["keys"][kid]
        revoked = None
        if entry.get("revoked"):
            revoked = f"operator revoked on {entry['revoked']['at'][:10]} by " \
                      f"{entry['revoked']['by']}: {entry['revoked']['reason']}"
        elif held.get("retired"):
            revoked = f"key replaced on {held['retired'][:10]}"
        return tokens.Key(kid, tokens.public_key(held["public_key"]),
                          operator=operators.Operator(entry["id"], entry["role"],
                                                      entry.get("jurisdiction"),
                                                      entry.get("name", "")),
                          revoked=revoked)

    def operator(self, operator_id):
        """The directory's entry of one operator, or None."""
        with self._transaction(commit=False) as cur:
            cur.execute(f"SELECT entry FROM {self.table} WHERE operator_id = %s",
                        (operator_id,))
            row = cur.fetchone()
        return row and row["entry"]

    # -- the department's identity provider ----------------------------------------------
    def _jwks_key(self, kid):
        if not self.config.jwks:
            return None
        with self._jwks_lock:
            stale = time.monotonic() - self._jwks_at > JWKS_REFRESH
            # An unknown key id may be a key the provider has just rotated in: fetch again,
            # but at most every few seconds whatever callers send.
            if stale or (kid not in self._jwks and time.monotonic() - self._jwks_at > 5):
                self._jwks = load_jwks(self.config.jwks)
                self._jwks_at = time.monotonic()
            found = self._jwks.get(kid)
        if found is None:
            return None
        return tokens.Key(kid, found, operator=None, issuer=self.config.jwks_issuer)


def load_jwks(source):
    """{kid: public key} from a JWKS file or http(s) URL."""
    import jwt
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=5) as response:
            data = json.loads(response.read())
    else:
        with open(source, encoding="utf-8") as f:
            data = json.load(f)
    return {k.key_id: k.key for k in jwt.PyJWKSet.from_dict(data).keys if k.key_id}


def operator_of(claims, key, entry_of=None):
    """The operator a verified token acts as: the directory's entry for a directory key,
    whose role and jurisdiction a token cannot widen; for the desk's key, the directory's
    entry of the signed-in operator it names (`entry_of(id)`); the provider's claims
    otherwise."""
    if key.issuer == tokens.DESK_ISSUER:
        return _desk_operator(claims, entry_of)
    if key.operator is not None:
        op = key.operator
        if claims.get("role") not in (None, op.role) or \
                claims.get("jurisdiction", op.jurisdiction) != op.jurisdiction:
            raise Refused("identity", f"credential of {op.id} claims role "
                                      f"{claims.get('role')} for {claims.get('jurisdiction')}")
        return op
    role, jurisdiction = claims.get("role"), claims.get("jurisdiction")
    try:
        operators.check_entry(role, jurisdiction)
    except Exception as exc:
        raise Refused("identity", f"identity provider's token for {claims['sub']}: {exc}")
    return operators.Operator(claims["sub"], role, jurisdiction, claims.get("name", ""))


def _desk_operator(claims, entry_of):
    """The desk vouches only that the person signed in as `sub` (docs/desk.md); who they
    are, and whether they still may act, is the directory's."""
    entry = entry_of(claims["sub"]) if entry_of else None
    if entry is None:
        raise Refused("identity", f"desk token for {claims['sub']}: not in the directory")
    if entry.get("revoked"):
        raise Refused("identity", f"desk token for {entry['id']}: operator revoked on "
                                  f"{entry['revoked']['at'][:10]}")
    if (claims.get("role"), claims.get("jurisdiction")) != (entry["role"],
                                                            entry.get("jurisdiction")):
        raise Refused("identity", f"desk token for {entry['id']} claims role "
                                  f"{claims.get('role')} for {claims.get('jurisdiction')}")
    return operators.Operator(entry["id"], entry["role"], entry.get("jurisdiction"),
                              entry.get("name", ""))
