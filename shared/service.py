"""What every service class shares: the operator behind a request, the clock, and the
cause bound to the events a command writes. Service classes stay thin over these."""
import contextlib
import datetime

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from shared import audit, config as config_module, db, log, metadata, operators, replay
from shared.clock import Clock
from shared.errors import BadInput, Refused

# Errors that are the caller's, not the service's: nameko logs them without a traceback.
EXPECTED = (BadInput, Refused)


class Acting(DependencyProvider):
    """`with self.acting(identity) as operator:` verifies the signed identity and binds the
    operator, business date and call id as the cause of every event written inside."""

    def setup(self):
        self.config = config_module.load()
        self.operators = operators.load_operators(self.config.operators_file)
        self.clock = Clock(self.config)

    def get_dependency(self, worker_ctx):
        return _Acting(self, worker_ctx)


class _Acting:
    def __init__(self, provider, worker_ctx):
        self.provider = provider
        self.worker_ctx = worker_ctx
        self.clock = provider.clock
        self.config = provider.config

    def verify(self, identity):
        try:
            return operators.verify(identity, self.config.operator_secret, self.provider.operators)
        except Refused as exc:
            log.get("acting").warning("command.refused", rule=exc.rule, reason=exc.message)
            raise

    @contextlib.contextmanager
    def __call__(self, identity, *, campaign=None, causation_id=None):
        operator = self.verify(identity)
        with metadata.caused_by(operator.id, operator.role, jurisdiction=operator.jurisdiction,
                                campaign=campaign, causation_id=causation_id,
                                business_date=self.clock.today(),
                                call_id=self.worker_ctx.call_id):
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
    def replay_step(self, identity):
        self.acting.verify(identity)
        return replay.step(self.store)

    @rpc(expected_exceptions=EXPECTED)
    def replay_finish(self, identity):
        self.acting.verify(identity)
        return replay.finish(self.store)


def _date(text):
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"not a date (YYYY-MM-DD): {text!r}")
