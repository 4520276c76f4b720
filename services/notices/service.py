"""The notices service: the evaluation opinions, the province's notices, and the public
portal served over HTTP (index, notices, Atom and JSON feeds, with ETags)."""
import base64
import json
import os
import uuid

from nameko.rpc import rpc
from nameko.web.handlers import http
from werkzeug.wrappers import Response

from shared import checkpoint
from shared.nameko_ext import EventStore, inbox
from shared.service import EXPECTED, Acting, AuditEntrypoints
from services.notices import portal, publications
from services.notices.application import CAMPAIGN, Listing, Notices

JURISDICTIONS = ("140000", "140100", "140200", "140300", "140400", "140500", "140600",
                 "140700", "140800", "140900", "141000", "141100")
TYPES = {"html": "text/html; charset=utf-8", "json": "application/json; charset=utf-8",
         "xlsx": publications.XLSX_TYPE, "atom": "application/atom+xml; charset=utf-8",
         "pdf": "application/pdf"}


class NoticesService(AuditEntrypoints):
    name = "notices"

    store = EventStore(Notices, projections=[Listing])
    acting = Acting()

    @inbox("notices")
    def on_upstream_event(self, envelope):
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

    # -- the portal -------------------------------------------------------------------
    def _base_url(self):
        return os.environ.get("PINGGU_PORTAL_URL",
                              f"http://127.0.0.1:{self.acting.config.http_port}/")

    def _respond(self, request, body, content_type):
        """With a strong ETag: a poll whose If-None-Match matches costs a 304 and no body."""
        tag = publications.etag(body)
        headers = {"ETag": tag, "Cache-Control": "no-cache",
                   "Content-Type": content_type, "X-Content-Type-Options": "nosniff"}
        if tag in request.headers.get("If-None-Match", ""):
            return Response(status=304, headers=headers)
        return Response(body, status=200, headers=headers)

    @http("GET", "/")
    def http_root(self, request):
        return Response(status=302, headers={"Location": "/index.html"})

    @http("GET", "/index.html")
    def http_index(self, request):
        return self._respond(request, portal.index_page(self.store).encode(), TYPES["html"])

    @http("GET", "/search")
    def http_search(self, request):
        location, body = portal.search(self.store, request.args.get("q", ""))
        if location:
            return Response(status=302, headers={"Location": f"/{location}"})
        return self._respond(request, body, TYPES["html"])

    @http("GET", "/institutions/<string:filename>")
    def http_institution(self, request, filename):
        stem, _, kind = filename.rpartition(".")
        body = portal.institution_page(self.store, stem) if kind == "html" else None
        if body is None:
            return Response("not found", status=404, content_type="text/plain")
        return self._respond(request, body, TYPES["html"])

    @http("GET", "/feed.atom")
    def http_atom(self, request):
        described = portal.feed_notices(self.store.published_notices(fresh=False))
        return self._respond(request, portal.atom(described, self._base_url()).encode(),
                             TYPES["atom"])

    @http("GET", "/feed.json")
    def http_json_feed(self, request):
        described = portal.feed_notices(self.store.published_notices(fresh=False))
        body = json.dumps(publications.json_feed(described, base_url=self._base_url()),
                          ensure_ascii=False).encode()
        return self._respond(request, body, "application/feed+json; charset=utf-8")

    @http("GET", "/notices/<string:filename>")
    def http_notice(self, request, filename):
        stem, _, kind = filename.rpartition(".")
        try:
            notice = uuid.UUID(stem)
        except ValueError:
            notice = kind = None
        if kind == "html":
            body = portal.notice_page(self.store, notice)
        elif kind == "pdf":
            body = portal.notice_pdf(self.store, notice)
        elif kind in ("json", "xlsx"):
            body = self.store.notice_file(notice, kind)
        else:
            body = None
        if body is None:
            return Response("not found", status=404, content_type="text/plain")
        return self._respond(request, body, TYPES[kind])

    @http("GET", "/api/decided")
    def http_decided(self, request):
        jurisdiction = request.args.get("jurisdiction")
        cases = [c for c in self.store.published()
                 if jurisdiction is None or c["jurisdiction"] == jurisdiction]
        body = json.dumps({"cases": cases}, ensure_ascii=False).encode()
        return self._respond(request, body, TYPES["json"])

    @http("GET", "/health")
    def http_health(self, request):
        return Response('{"ok": true}', content_type="application/json")
