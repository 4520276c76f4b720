"""The notices service: what is decided, served to the portal over HTTP."""
import json

from nameko.rpc import rpc
from nameko.web.handlers import http

from shared.nameko_ext import EventStore, inbox
from shared.service import EXPECTED, Acting
from services.notices.application import Decided, Notices


class NoticesService:
    name = "notices"

    store = EventStore(Notices, projections=[Decided])
    acting = Acting()

    @inbox("notices", ["decisions.Case.#"])
    def on_decisions_event(self, envelope):
        with self.acting.system(causation_id=envelope["id"]):
            self.store.on_upstream(envelope)

    @rpc(expected_exceptions=EXPECTED)
    def decided(self, identity, jurisdiction=None):
        self.acting.verify(identity)
        return self.store.decided(jurisdiction)

    @http("GET", "/api/decided")
    def http_decided(self, request):
        body = json.dumps({"cases": self.store.decided(request.args.get("jurisdiction"))},
                          ensure_ascii=False)
        return 200, {"Content-Type": "application/json; charset=utf-8"}, body

    @http("GET", "/health")
    def http_health(self, request):
        return 200, {"Content-Type": "application/json"}, '{"ok": true}'

    @rpc
    def health(self):
        return {"service": self.name, "ok": True}
