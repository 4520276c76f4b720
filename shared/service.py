"""What every service class shares: the operator behind a request, the clock, and the
cause bound to the events a command writes. Service classes stay thin over these."""
import contextlib

from nameko.extensions import DependencyProvider

from shared import config as config_module, log, metadata, operators
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
