"""What every service class shares: the operator behind a request, the clock, and the
cause bound to the events a command writes. Service classes stay thin over these."""
import contextlib
import datetime

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from shared import (audit, commands, config as config_module, db, directory, log, metadata,
                    replay, tokens)
from shared.clock import Clock
from shared.directory import directory_events
from shared.errors import BadInput, Refused

# Errors that are the caller's, not the service's: nameko logs them without a traceback.
EXPECTED = (BadInput, Refused)


class Acting(DependencyProvider):
    """`with self.acting(identity) as operator:` verifies the call's signed token (shared.
    tokens) against the public keys this service holds (shared.directory), and binds the
    operator, business date, call id and the command's idempotency key as the cause of
    every event written inside; the command is journaled once (shared.commands)."""

    def setup(self):
        self.config = config_module.load()
        self.clock = Clock(self.config)
        self._keys = None

    @property
    def keys(self):
        """The service's key table, on its event store (set up by the EventStore)."""
        if self._keys is None:
            from shared.nameko_ext import EventStore
            store = next(d for d in self.container.dependencies if isinstance(d, EventStore))
            self._keys = directory.KeyTable(store.app, self.config)
        return self._keys

    def get_dependency(self, worker_ctx):
        return _Acting(self, worker_ctx)


class _Acting:
    def __init__(self, provider, worker_ctx):
        self.provider = provider
        self.worker_ctx = worker_ctx
        self.clock = provider.clock
        self.config = provider.config

    @property
    def keys(self):
        return self.provider.keys

    def _call(self):
        """The method and the digest of the arguments this worker was called with; the
        first argument is the token itself."""
        ctx = self.worker_ctx
        kwargs = dict(ctx.kwargs or {})
        args = list(ctx.args or ())[0 if kwargs.pop("identity", None) else 1:]
        return ctx.entrypoint.method_name, tokens.digest(args, kwargs)

    def verify(self, identity):
        """The operator whose credential signed this call's token, or Refused."""
        return self._verify(identity)[0]

    def verify_delegated(self, identity, service, method):
        """The operator of a token minted for `service.method`, which that service passes
        on to read what it needs for the call (evaluation asking decisions for the
        rectification periods of a form being submitted). Only reads may take it: the token
        is bound to the other call, whose arguments that service has checked."""
        return self._verify(identity, (service, method, None))[0]

    def verify_desk(self, identity):
        """A call made by the desk itself (checking a password at sign-in), not for an
        operator: a token of the desk's key whose subject is the desk."""
        return self._verify(identity, desk_itself=True)

    def _verify(self, identity, bound=None, desk_itself=False):
        audience, method, digest = bound or (self.provider.container.service_name,
                                             *self._call())
        keys = self.provider.keys
        try:
            claims, key = tokens.verify(identity, audience=audience,
                                        method=method, args_digest=digest, key_for=keys.key)
            is_desk = key.issuer == tokens.DESK_ISSUER and claims["sub"] == tokens.DESK_SUBJECT
            if desk_itself or is_desk:
                if not (desk_itself and is_desk):
                    raise Refused("identity", "only the desk's own token may make this call"
                                  if desk_itself else "the desk acts only for an operator")
                return None, claims, method, digest
            return directory.operator_of(claims, key, keys.operator), claims, method, digest
        except Refused as exc:
            log.get("acting").warning(
                "command.refused", rule=exc.rule, reason=exc.message, method=method,
                credential=tokens.unverified_subject(identity, keys.key)
                if isinstance(identity, str) else None)
            raise

    @contextlib.contextmanager
    def __call__(self, identity, *, campaign=None, causation_id=None):
        operator, claims, method, digest = self._verify(identity)
        with metadata.caused_by(operator.id, operator.role, jurisdiction=operator.jurisdiction,
                                campaign=campaign, causation_id=causation_id,
                                business_date=self.clock.today(),
                                call_id=self.worker_ctx.call_id, command_id=claims["jti"]), \
                commands.bound(claims["jti"], method, digest):
            try:
                yield operator
            except Refused as exc:
                log.get("acting").warning("command.refused", operator=operator.id,
                                          rule=exc.rule, reason=exc.message)
                raise

    @contextlib.contextmanager
    def system(self, *, causation_id=None, campaign=None):
        """The cause of what a service does by itself: reacting to an event, a deadline."""
        with metadata.caused_by("system", "system", campaign=campaign,
                                causation_id=causation_id, business_date=self.clock.today(),
                                call_id=self.worker_ctx.call_id):
            yield


class AuditEntrypoints:
    """The RPCs every service answers for audits and disputes, and for the simulated
    clock (a mixin of the service classes, which give it `store`, `events` and `acting`).
    Reading only: any operator may call."""

    @rpc
    @db.read_retried
    def settled(self):
        return self.store.settled()

    @directory_events()
    def on_directory_event(self, envelopes):
        for envelope in envelopes:
            self.acting.keys.apply(envelope)

    @rpc
    def directory_applied(self):
        """How many of the directory's events this service has applied (`pinggu operator`
        and `health --wait` wait until every service has applied all of them)."""
        return self.acting.keys.applied()

    @rpc(expected_exceptions=EXPECTED)
    @db.read_retried
    def case(self, identity, uscc, as_of=None):
        self.acting.verify(identity)
        return self.store.case(uscc, _date(as_of))

    @rpc(expected_exceptions=EXPECTED)
    @db.read_retried
    def history(self, identity, uscc):
        from shared.application import case_id
        self.acting.verify(identity)
        return audit.history(self.store, case_id(uscc))

    @rpc(expected_exceptions=EXPECTED)
    def audit_step(self, identity, token=None):
        self.acting.verify(identity)
        problems, token, done, checked = audit.verify_chains(self.store, token)
        return {"problems": problems, "token": token, "done": done, "checked": checked}

    @rpc(expected_exceptions=EXPECTED)
    def replay_start(self, identity):
        self.acting.verify(identity)
        return replay.start(self.store)

    @rpc(expected_exceptions=EXPECTED)
    def replay_step(self, identity, run):
        self.acting.verify(identity)
        return replay.step(self.store, run)

    @rpc(expected_exceptions=EXPECTED)
    def replay_finish(self, identity, run):
        self.acting.verify(identity)
        return replay.finish(self.store, run)


def _date(text):
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"not a date (YYYY-MM-DD): {text!r}")
