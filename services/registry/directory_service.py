"""The registry's entrypoints for the operators' directory (services/registry/directory.py
holds the directory itself, free of nameko): the province's RPCs, the desk's sign-in check,
and the development clusters' provisioning of etc/operators.json at start-up."""
import datetime

import eventlet
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from shared import config as config_module, log, metadata, tokens
from shared.errors import BadInput, Refused
from shared.service import EXPECTED
from services.registry.directory import (authorise, listing, provision_dev, recorded, revoke,
                                         rotate, set_password, sign_in)


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
    def operator_password(self, identity, operator_id, password_hash):
        with self.acting(identity) as operator:
            operator.require_role("province")
            return set_password(self.store, operator_id, password_hash, operator.id)

    @rpc(expected_exceptions=EXPECTED)
    def operator_sign_in(self, identity, operator_id, password):
        """The desk checking a password; only the desk's own key may ask."""
        self.acting.verify_desk(identity)
        with metadata.caused_by(tokens.DESK_SUBJECT, "system"):
            return sign_in(self.store, operator_id, password)

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
