"""The CLI's connection to the cluster: one RPC client per command, each call signed with
the operator's own credential (docs/identity.md), and the waits scripts need (settle,
the operators' directory applied everywhere).

A broker or database that cannot be reached becomes `Unavailable` (exit 3), named in one
line, instead of a traceback."""
import os
import threading
import time
import uuid
from urllib.parse import urlsplit

from shared import config as config_module, operators, tokens

SERVICES = ("registry", "evaluation", "decisions", "notices")


class Unavailable(Exception):
    """The broker, the database or a service could not be reached (exit 3)."""

    def __init__(self, what, where, reason):
        self.what, self.where, self.reason = what, where, reason
        super().__init__(f"{what} at {where} unreachable: {reason}")

    def to_dict(self):
        return {"error": "unavailable", "what": self.what, "where": self.where,
                "reason": self.reason}


def without_password(uri):
    """The URI as it may be shown: host, port and virtual host, no credentials."""
    parts = urlsplit(uri)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def broker_errors():
    """The exceptions that mean the broker is unreachable or refuses our account."""
    from amqp.exceptions import AccessRefused, ConnectionForced
    from kombu.exceptions import OperationalError
    return (OSError, AccessRefused, ConnectionForced, OperationalError)


class Cluster:
    """One RPC client for this command (the CLI is single-threaded), connected on first
    use so that local commands need no broker.

    Each call carries a token signed with the operator's own credential (shared.tokens),
    bound to the service, the method, its arguments and the command id; one command id
    per invocation (`--command-id`), or a fresh one per call when none is given."""

    def __init__(self, config, operator_id, timeout=None, command_id=None):
        self.config = config
        self.operator_id = operator_id
        self.command_id = command_id
        self.timeout = timeout or rpc_timeout()
        self._credential = None
        self._proxy = None
        self._rpc = None

    @property
    def credential(self):
        if self._credential is None:
            self._credential = operators.load_credential(self.config.credentials_dir,
                                                         self.operator_id)
        return self._credential

    def token(self, service, method, args=(), kwargs=None):
        c = self.credential
        return tokens.mint(c.private_key, kid=c.kid, subject=c.operator, role=c.role,
                           jurisdiction=c.jurisdiction, audience=service, method=method,
                           args_digest=tokens.digest(args, kwargs),
                           jti=self.command_id or str(uuid.uuid4()))

    @property
    def rpc(self):
        if self._rpc is None:
            from nameko.standalone.rpc import ClusterRpcProxy
            self._proxy = ClusterRpcProxy(self.config.nameko, timeout=self.timeout)
            try:
                self._rpc = self._proxy.start()
            except broker_errors() as exc:
                self._proxy = None
                raise Unavailable("broker", without_password(self.config.amqp_uri),
                                  str(exc) or type(exc).__name__) from exc
        return self._rpc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._proxy is not None:
            self._proxy.stop()

    def call(self, service, method, *args, **kwargs):
        from nameko.exceptions import RpcTimeout
        token = self.token(service, method, args, kwargs)
        try:
            return getattr(getattr(self.rpc, service), method)(token, *args, **kwargs)
        except RpcTimeout:
            raise NoAnswer(service, self.timeout, self.command_id) from None


# How long a command waits for its answer. A file command waits longer: the service's
# parse worker alone may take up to its wall-clock limit (shared.parse_worker.Limits), and
# saving a nation's file of ~20,000 rows takes minutes on a loaded machine (issue 14: the
# national benchmark's 100,000 timed out at 120 s, the import itself went on).
RPC_TIMEOUT = 120
FILE_COMMAND_TIMEOUT = 900


def rpc_timeout(file_command=False):
    """Seconds to wait for an answer: PINGGU_RPC_TIMEOUT if set, else the default."""
    value = os.environ.get("PINGGU_RPC_TIMEOUT")
    if value:
        try:
            return max(1.0, float(value))
        except ValueError:
            raise config_module.ConfigError(
                f"PINGGU_RPC_TIMEOUT must be a number of seconds, not {value!r}") from None
    return FILE_COMMAND_TIMEOUT if file_command else RPC_TIMEOUT


class NoAnswer(Exception):
    """A command sent but not answered in time: it may still take effect (its command id
    makes a second run return the first outcome instead of acting again)."""

    def __init__(self, service, seconds, command_id):
        super().__init__(f"no answer from {service} within {seconds:g} s")
        self.service, self.seconds, self.command_id = service, seconds, command_id

    def to_dict(self):
        return {"service": self.service, "seconds": self.seconds,
                "command_id": self.command_id}


class Session:
    """The RPC clients of one process that runs many commands (the demo, issue 14):
    connecting one costs a broker round trip or three (~20 ms), paid once per operator
    and thread rather than once per command. A nameko RPC client belongs to the thread
    that made it, so each thread has its own."""

    def __init__(self):
        self._clusters = {}
        self._lock = threading.Lock()

    def cluster(self, config, operator_id, command_id, timeout=None):
        timeout = timeout or rpc_timeout()
        key = (threading.get_ident(), operator_id, timeout)
        with self._lock:
            cluster = self._clusters.get(key)
            if cluster is None or cluster.config != config:
                if cluster is not None:
                    cluster.__exit__(None, None, None)
                cluster = self._clusters[key] = Cluster(config, operator_id, timeout)
        cluster.command_id = command_id  # each command its own idempotency key
        return cluster

    def discard(self, operator_id):
        thread = threading.get_ident()
        with self._lock:
            clusters = [self._clusters.pop(key) for key in list(self._clusters)
                        if key[:2] == (thread, operator_id)]
        for cluster in clusters:
            cluster.__exit__(None, None, None)

    def close(self):
        with self._lock:
            clusters, self._clusters = list(self._clusters.values()), {}
        for cluster in clusters:
            cluster.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def settle(cluster, timeout=120):
    """Wait until every service has handled what it was sent and published what it
    recorded, twice in a row (an event in transit between two checks shows as work in the
    second). Moving the simulated date before that would fire deadlines ahead of facts
    still on their way, as no real day ever does."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        # The four asked at once: a round is one round trip, not four.
        replies = [getattr(cluster.rpc, s).settled.call_async() for s in SERVICES]
        states = [reply.result() for reply in replies]
        busy = any(v for state in states for v in state.values())
        quiet = 0 if busy else quiet + 1
        if time.monotonic() > deadline:
            raise RuntimeError(f"the services did not settle within {timeout} s: {states}")
        if quiet < 2:
            time.sleep(0.1)


def wait_directory(cluster, timeout=60):
    """Return once every service has applied every event of the operators' directory:
    from then on each of them honours what the directory says (a revocation included)."""
    deadline = time.monotonic() + timeout
    while True:
        state = cluster.rpc.registry.directory_recorded()
        applied = {s: getattr(cluster.rpc, s).directory_applied() for s in SERVICES}
        behind = [s for s, n in applied.items() if n < state["recorded"]]
        if not behind and not state["provisioning"]:
            return applied
        if time.monotonic() > deadline:
            raise RuntimeError(f"the operators' directory has {state['recorded']} events; "
                               "not all applied by " + ", ".join(
                                   f"{s} ({applied[s]})" for s in behind))
        time.sleep(0.1)
