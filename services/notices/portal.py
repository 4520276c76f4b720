"""The public portal's files, built from the published notices: the index page, each
notice's HTML, data and attachment, and the Atom and JSON feeds; and the routes the
portal process (services/portal_server.py) serves them under."""
import json
import uuid

from services.notices import publications


def feed_notices(notices):
    """The published notices as the feeds and the index describe them."""
    out = []
    for n in notices:
        out.append({
            "id": str(n["id"]), "number": n["number"], "title": n["title"],
            "published_on": n["published_on"].isoformat(),
            # The recorded time, so a feed reader sees when it appeared.
            "updated": n["recorded_at"].isoformat(),
            "corrects": n["corrects"],
            "summary": f"{n['number']}：{n['title']}",
            "sizes": {"xlsx": n["xlsx_size"]},
        })
    return out


def files(app, base_url):
    """Every file of the portal: {site path: bytes}."""
    notices = app.published_notices()
    described = feed_notices(notices)
    site = {
        "index.html": publications.render_index_html(described).encode(),
        "feed.atom": atom(described, base_url).encode(),
        "feed.json": json.dumps(publications.json_feed(described, base_url=base_url),
                                ensure_ascii=False, indent=2).encode(),
    }
    for n in notices:
        for kind in ("html", "json", "xlsx"):
            site[f"notices/{n['id']}.{kind}"] = app.notice_file(n["id"], kind)
    return site


def atom(described, base_url):
    updated = max((n["updated"] for n in described), default="2023-01-01T00:00:00+08:00")
    return publications.atom_feed(described, base_url=base_url, updated=updated)


# -- routes: what the portal process answers to GET (services/portal_server.py) ---------

TYPES = {"html": "text/html; charset=utf-8", "json": "application/json; charset=utf-8",
         "xlsx": publications.XLSX_TYPE, "atom": "application/atom+xml; charset=utf-8",
         "feed": "application/feed+json; charset=utf-8", "text": "text/plain; charset=utf-8"}


def route(app, path, args, base_url):
    """One GET: (status, content type or None, body or None, extra headers). `app` is the
    notices application, read only: the portal reads what is already projected."""
    if path == "/":
        return 302, None, None, {"Location": "/index.html"}
    if path == "/health":
        return 200, TYPES["json"], b'{"ok": true}', {}
    if path in ("/index.html", "/feed.atom", "/feed.json"):
        described = feed_notices(app.published_notices(fresh=False))
        if path == "/index.html":
            return 200, TYPES["html"], publications.render_index_html(described).encode(), {}
        if path == "/feed.atom":
            return 200, TYPES["atom"], atom(described, base_url).encode(), {}
        body = json.dumps(publications.json_feed(described, base_url=base_url),
                          ensure_ascii=False).encode()
        return 200, TYPES["feed"], body, {}
    if path.startswith("/notices/") and path.count("/") == 2:
        stem, _, kind = path[len("/notices/"):].rpartition(".")
        try:
            body = app.notice_file(uuid.UUID(stem), kind) if kind in (
                "html", "json", "xlsx") else None
        except ValueError:
            body = None
        if body is not None:
            return 200, TYPES[kind], body, {}
    if path == "/api/decided":
        jurisdiction = args.get("jurisdiction")
        cases = [c for c in app.published()
                 if jurisdiction is None or c["jurisdiction"] == jurisdiction]
        body = json.dumps({"cases": cases}, ensure_ascii=False).encode()
        return 200, TYPES["json"], body, {}
    return 404, TYPES["text"], b"not found", {}
