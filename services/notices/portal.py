"""The public portal's pages and files, built from the published notices only: the index
with a search form, each notice's page (its published HTML with links to every later
notice that affects it), data, attachment and PDF, a page per institution with its
record across notices, the search, and the Atom and JSON feeds.

The route logic lives here and takes the notices application (`app`) and the request's
arguments, so whichever HTTP server fronts the portal only maps URLs to these functions.

The site footer (主办单位, ICP备案号, 网站标识码) comes from configuration:
PINGGU_SITE_SPONSOR (default the department), PINGGU_SITE_ICP (e.g. 晋ICP备xxxxxxxx号),
PINGGU_SITE_CODE (the 网站标识码 of the government website register) and optionally
PINGGU_SITE_SECURITY (the 公安机关备案号 line).
"""
import json
import os
import re
import uuid

from services.notices import followups, pdf, publications

LATER_MARK = "<!--pinggu:later-->"
FOOTER_MARK = "<!--pinggu:footer-->"
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
MAX_RESULTS = 50


def footer():
    """The government-website footer, from configuration."""
    return {"sponsor": os.environ.get("PINGGU_SITE_SPONSOR") or publications.ISSUER,
            "icp": os.environ.get("PINGGU_SITE_ICP", ""),
            "site_code": os.environ.get("PINGGU_SITE_CODE", ""),
            "security": os.environ.get("PINGGU_SITE_SECURITY", "")}


def feed_notices(notices):
    """The published notices as the feeds and the index describe them, each with the
    later notices that follow it."""
    later = publications.later_notices(notices)
    out = []
    for n in notices:
        out.append({
            "id": str(n["id"]), "number": n["number"], "title": n["title"],
            "sequence": n.get("sequence"),
            "published_on": n["published_on"].isoformat(),
            # The recorded time, so a feed reader sees when it appeared.
            "updated": n["recorded_at"].isoformat(),
            "kind": n.get("kind") or followups.RESULTS,
            "corrects": n["corrects"], "affects": n.get("affects") or [],
            "later": later.get(str(n["id"]), []),
            "summary": n.get("summary") or "",
            "sizes": {"xlsx": n["xlsx_size"]},
        })
    return out


def index_page(app):
    described = feed_notices(app.published_notices(fresh=False))
    return publications.render_index_html(described, footer=footer())


def notice_page(app, notice_id):
    """A notice's page: the HTML as published, with the links to every later notice that
    affects it and the site footer added where the page marks them (outside the
    document itself, which stays as published)."""
    html = app.notice_file(notice_id, "html")
    if html is None:
        return None
    notices = app.published_notices(fresh=False)
    later = publications.later_notices(notices).get(str(notice_id), [])
    return with_portal_parts(html.decode(), later)


def with_portal_parts(html, later):
    block = publications.render_later_html(later) if later else ""
    if LATER_MARK in html:
        html = html.replace(LATER_MARK, block, 1)
    elif block:  # a page published before the mark existed
        html = html.replace("<main>", "<main>" + block, 1)
    footer_html = publications.render_footer_html(footer())
    if FOOTER_MARK in html:
        return html.replace(FOOTER_MARK, footer_html, 1).encode()
    return html.replace("</body>", footer_html + "</body>", 1).encode()


_PDFS = {}  # notice id → PDF: a notice never changes, so neither does its PDF


def notice_pdf(app, notice_id):
    """The notice's print-ready PDF, rendered once per process from its published HTML."""
    key = str(notice_id)
    if key not in _PDFS:
        html = app.notice_file(notice_id, "html")
        if html is None:
            return None
        _PDFS[key] = pdf.render_isolated(html.decode())
    return _PDFS[key]


def institution_page(app, uscc):
    """One institution's public record across the notices, or None if no notice lists
    it."""
    uscc = (uscc or "").strip().upper()
    record = app.public_records().get(uscc)
    if not record:
        return None
    return publications.render_institution_html(uscc, record, footer=footer()).encode()


def search(app, query):
    """(redirect path or None, page bytes): a whole USCC that the notices list goes
    straight to its page; otherwise the institutions whose name contains the query or
    whose USCC starts with it, from the published lists only."""
    query = " ".join((query or "").split())[:100]
    records = app.public_records()
    code = query.upper()
    if USCC.match(code) and code in records:
        return f"institutions/{code}.html", None
    hits = []
    if query:
        for uscc, rows in sorted(records.items()):
            name = rows[-1].get("name") or ""
            if uscc.startswith(code) or query.casefold() in name.casefold():
                hits.append({"uscc": uscc, "name": name, "outcome": rows[-1]["outcome"],
                             "number": rows[-1]["number"]})
    page = publications.render_search_html(query, hits[:MAX_RESULTS], len(hits),
                                           footer=footer())
    return None, page.encode()


def files(app, base_url, pdfs=True):
    """Every file of the portal: {site path: bytes}. The search needs the server; the
    static copy has a page per institution. Without `pdfs`, the notices' PDFs are left
    to the caller to render from their pages (the CLI does, see pinggu publish).

    Issue 14: every `pinggu publish notice` asks for the whole site again, and a notice
    lists a few institutions after the first: the notices are read once a call (not once
    a page: that was a query per institution, ~2 s of the demo's calls), and a page is
    rendered again only when what it shows changed (`_Built`): a notice's files never
    change, its page only with the later notices that affect it, an institution's with
    the notices that list it."""
    notices = app.published_notices()
    described = feed_notices(notices)
    site = {
        "index.html": publications.render_index_html(described, footer=footer()).encode(),
        "feed.atom": atom(described, base_url).encode(),
        "feed.json": json.dumps(publications.json_feed(described, base_url=base_url),
                                ensure_ascii=False, indent=2).encode(),
    }
    site_footer = tuple(sorted(footer().items()))
    built = _Built.of(app)
    for n, d in zip(notices, described):
        stored = {kind: built.get(("file", str(n["id"]), kind),
                                  lambda kind=kind: app.notice_file(n["id"], kind))
                  for kind in ("html", "json", "xlsx")}
        later = d["later"]
        site[f"notices/{n['id']}.html"] = built.get(
            ("page", str(n["id"]), tuple(o["id"] for o in later), site_footer),
            lambda: with_portal_parts(stored["html"].decode(), later)
            if stored["html"] is not None else None)
        for kind in ("json", "xlsx"):
            site[f"notices/{n['id']}.{kind}"] = stored[kind]
        if pdfs:
            site[f"notices/{n['id']}.pdf"] = notice_pdf(app, n["id"])
    for uscc, record in app.public_records().items():
        site[f"institutions/{uscc}.html"] = built.get(
            ("institution", uscc, tuple(r["notice_id"] for r in record), site_footer),
            lambda: publications.render_institution_html(
                uscc, record, footer=dict(site_footer)).encode())
    built.done()
    return site


class _Built:
    """The files of the last `files` call of an application, by what they were built
    from: the next call takes those whose inputs are the same and builds the rest. Only
    the last call's are kept (what it did not use is dropped), so the memory is one
    site's, whatever the number of calls; the notices being immutable, a key naming
    them names the file's whole content."""

    def __init__(self):
        self.last, self.now = {}, {}

    @classmethod
    def of(cls, app):
        built = app.__dict__.get("_portal_built")
        if built is None:
            built = app._portal_built = cls()
        built.now = {}
        return built

    def get(self, key, build):
        if key not in self.now:
            self.now[key] = self.last[key] if key in self.last else build()
        return self.now[key]

    def done(self):
        self.last, self.now = self.now, {}


def atom(described, base_url):
    updated = max((n["updated"] for n in described), default="2023-01-01T00:00:00+08:00")
    return publications.atom_feed(described, base_url=base_url, updated=updated)



# -- routes: what the portal process answers to GET (services/portal_server.py) ---------

TYPES = {"html": "text/html; charset=utf-8", "json": "application/json; charset=utf-8",
         "xlsx": publications.XLSX_TYPE, "atom": "application/atom+xml; charset=utf-8",
         "feed": "application/feed+json; charset=utf-8", "text": "text/plain; charset=utf-8",
         "pdf": "application/pdf"}
NOT_FOUND = (404, TYPES["text"], b"not found", {})


def route(app, path, args, base_url):
    """One GET: (status, content type or None, body or None, extra headers). `app` is the
    notices application, read only: the portal reads what is already projected."""
    if path == "/":
        return 302, None, None, {"Location": "/index.html"}
    if path == "/health":
        return 200, TYPES["json"], b'{"ok": true}', {}
    if path == "/index.html":
        return 200, TYPES["html"], index_page(app).encode(), {}
    if path == "/search":
        location, body = search(app, args.get("q", ""))
        if location:
            return 302, None, None, {"Location": f"/{location}"}
        return 200, TYPES["html"], body, {}
    if path in ("/feed.atom", "/feed.json"):
        described = feed_notices(app.published_notices(fresh=False))
        if path == "/feed.atom":
            return 200, TYPES["atom"], atom(described, base_url).encode(), {}
        body = json.dumps(publications.json_feed(described, base_url=base_url),
                          ensure_ascii=False).encode()
        return 200, TYPES["feed"], body, {}
    if path.startswith("/institutions/") and path.count("/") == 2:
        stem, _, kind = path[len("/institutions/"):].rpartition(".")
        body = institution_page(app, stem) if kind == "html" else None
        return (200, TYPES["html"], body, {}) if body is not None else NOT_FOUND
    if path.startswith("/notices/") and path.count("/") == 2:
        return _notice_file(app, path[len("/notices/"):])
    if path.startswith("/schemas/") and path.count("/") == 2:
        return _schema(path[len("/schemas/"):])
    if path == "/api/decided":
        jurisdiction = args.get("jurisdiction")
        cases = [c for c in app.published()
                 if jurisdiction is None or c["jurisdiction"] == jurisdiction]
        body = json.dumps({"cases": cases}, ensure_ascii=False).encode()
        return 200, TYPES["json"], body, {}
    return NOT_FOUND


def _schema(filename):
    """The integration contract's JSON Schema of one event type, each event's `dataschema`
    (issue 12): the text committed under docs/schemas/, which the unit tests keep equal
    to what the code generates, so it is served from the code. `index.json` lists them."""
    from shared import contracts
    from shared.contracts import generate
    if filename == "index.json":
        body = json.dumps({"schemas": [contracts.schema_url(t) for t in contracts.all_events()]},
                          ensure_ascii=False, indent=1)
        return 200, TYPES["json"], body.encode(), {}
    contract = contracts.contract_for(filename.removesuffix(".json")) \
        if filename.endswith(".json") else None
    if contract is None:
        return NOT_FOUND
    return 200, "application/schema+json", generate.render_schema(contract).encode(), {
        "Cache-Control": "public, max-age=3600"}


def _notice_file(app, filename):
    if filename.endswith(".checkpoint.json"):
        # The signed checkpoint of the history published beside the notice (security.md).
        from shared import checkpoint
        body = checkpoint.portal_files(app.config).get(f"notices/{filename}")
        return (200, TYPES["json"], body, {}) if body is not None else NOT_FOUND
    stem, _, kind = filename.rpartition(".")
    try:
        notice = uuid.UUID(stem)
    except ValueError:
        return NOT_FOUND
    if kind == "html":
        body = notice_page(app, notice)
    elif kind == "pdf":
        body = notice_pdf(app, notice)
    elif kind in ("json", "xlsx"):
        body = app.notice_file(notice, kind)
    else:
        body = None
    return (200, TYPES[kind], body, {}) if body is not None else NOT_FOUND
