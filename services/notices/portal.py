"""The public portal's files, built from the published notices: the index page, each
notice's HTML, data and attachment, and the Atom and JSON feeds."""
import json

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
