"""The notices service: the evaluation opinions and the province's notices. The public
portal is served by a process of its own (services/portal_server.py), so that no
anonymous client can hold down this service's RPC, inbox or outbox."""
import base64
import os

from nameko.rpc import rpc

from shared import batch, checkpoint
from shared.nameko_ext import EventStore, inbox
from shared.service import EXPECTED, Acting, AuditEntrypoints
from services.notices import portal, publications
from services.notices.application import CAMPAIGN, Listing, Notices
from shared.language.jurisdictions import JURISDICTIONS


class NoticesService(AuditEntrypoints):
    name = "notices"

    store = EventStore(Notices, projections=[Listing])
    acting = Acting()

    @inbox("notices")
    def on_upstream_events(self, envelopes):
        return batch.handle(self.store, envelopes, self._on_upstream_event)

    def _on_upstream_event(self, envelope):
        with self.acting.system(causation_id=envelope["id"],
                                campaign=envelope.get("campaign")):
            self.store.on_upstream(envelope)

    # -- operators --------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def publish_opinions(self, identity, jurisdiction=None, fields=None):
        """Each jurisdiction's opinion as HTML (print-ready: the CLI makes its PDF) and
        附件3 xlsx. `fields` (number, signer, contact, phone) fill the 版头 and contact
        line; one 文号 fits one opinion, so they need a single jurisdiction."""
        with self.acting(identity, campaign=CAMPAIGN) as operator:
            operator.require_writer()
            wanted = [jurisdiction] if jurisdiction else \
                [j for j in JURISDICTIONS if operator.may_act_for(j)]
            for j in wanted:
                operator.require_jurisdiction(j)
            opinions = self.store.opinions(wanted, self.acting.clock.today(), fields)
            for opinion in opinions.values():
                opinion["xlsx"] = base64.b64encode(opinion["xlsx"]).decode()
            return opinions

    @rpc(expected_exceptions=EXPECTED)
    def publish_notice(self, identity, title=None, kind=None, reason=None):
        with self.acting(identity, campaign=CAMPAIGN) as operator:
            operator.require_role("province")
            notice = self.store.publish_notice(self.acting.clock.today(), title, kind, reason)
            # The history anchored: a signed checkpoint beside the notice (issue 10).
            checkpoint.issue(self.store.config, notice)
            return notice

    @rpc(expected_exceptions=EXPECTED)
    def portal_files(self, identity):
        self.acting.verify(identity)
        files = portal.files(self.store, self._base_url(), pdfs=False)
        files.update(checkpoint.portal_files(self.store.config))
        return {path: base64.b64encode(body).decode() for path, body in files.items()}

    @rpc(expected_exceptions=EXPECTED)
    def decided(self, identity, jurisdiction=None):
        self.acting.verify(identity)
        return self.store.decided(jurisdiction)

    @rpc
    def health(self):
        return {"service": self.name, "ok": True}

    def _base_url(self):
        return os.environ.get("PINGGU_PORTAL_URL",
                              f"http://127.0.0.1:{self.acting.config.http_port}/")
