"""The machine forms of the public notices: `notice_data` (a notice as JSON) and the
Atom and JSON feeds, with `etag` for conditional GETs. Built with ElementTree and
escaped text, never by string pasting."""

from __future__ import annotations

import datetime as dt
import hashlib
import xml.etree.ElementTree as ET
from urllib.parse import quote

from markupsafe import Markup

from shared.dates import BUSINESS_TZ, parse_date
from services.notices import followups as fu
from services.notices.publications.lists import (
    ISSUER, NOTICE_TITLE, SOURCE_NOTICE, _zh_date, notice_summary, opinion_lists)
from services.notices.publications.xlsx import XLSX_TYPE

FEED_TITLE = "山西省职业技能等级认定评价机构评估结果通告"
FEED_ID = "urn:pinggu:notices"


# ------------------------------------------------------------------ machine form

def notice_data(notice):
    """The notice as JSON-safe data: the same lists the HTML shows."""
    return {
        "schema": "urn:pinggu:schema:notice:1",
        "id": notice["id"],
        "number": notice["number"],
        "title": notice.get("title") or NOTICE_TITLE,
        "published_on": parse_date(notice["published_on"]).isoformat(),
        "kind": notice.get("kind") or fu.RESULTS,
        "corrects": _corrects(notice),
        "cites": notice.get("cites"),
        "affects": list(notice.get("affects") or ()),
        "summary": notice.get("summary") or notice_summary(notice),
        "source": SOURCE_NOTICE,
        "entries": {
            str(cohort): {label: [_public(e) for e in members]
                          for label, members in by_label.items()}
            for cohort, by_label in _grouped(notice).items()
        },
    }


def _grouped(notice):
    """The entries by cohort and list: the results notice's lists of 四(三); a follow-up's
    rows by cohort and their outcome now."""
    if (notice.get("kind") or fu.RESULTS) == fu.RESULTS:
        return opinion_lists(notice["entries"])
    grouped = {}
    for e in sorted(notice["entries"], key=lambda e: e["uscc"]):
        grouped.setdefault(e["cohort"], {}).setdefault(e["outcome"], []).append(e)
    return grouped


def _public(entry):
    return {
        "uscc": entry["uscc"], "name": entry.get("name"),
        "category": entry.get("category"), "level": entry.get("level"),
        "jurisdiction": entry.get("jurisdiction"), "cohort": entry["cohort"],
        "class": entry.get("class"), "outcome": entry["outcome"],
        "clauses": list(entry.get("clauses") or ()),
        "deadline": _iso(entry.get("deadline")), "decided_on": _iso(entry.get("decided_on")),
        **{k: entry[k] for k in ("reason", "original", "rectified") if entry.get(k)},
    }


def _corrects(notice):
    """The {id, number} of the notice this one corrects, or None."""
    corrects = notice.get("corrects")
    if not corrects:
        return None
    return {"id": corrects["id"], "number": corrects["number"]}


def _iso(value):
    return parse_date(value).isoformat() if value else None


# ------------------------------------------------------------------ feeds
# A feed `notice` is a dict: id, number, title, published_on (ISO date), updated (ISO
# datetime with offset; defaults to midnight of published_on in Asia/Shanghai), summary,
# optional corrects {id, number}, optional html_url / xlsx_url / json_url (site-relative;
# default notices/<id>.<ext>) and optional sizes {"xlsx": bytes, "json": bytes}.

def atom_feed(notices, *, base_url, updated):
    """An Atom (RFC 4287) feed of the notices, newest first, as an XML string."""
    feed = ET.Element("feed", {"xmlns": "http://www.w3.org/2005/Atom",
                               "{http://www.w3.org/XML/1998/namespace}lang": "zh-CN"})
    _text(feed, "id", FEED_ID)
    _text(feed, "title", FEED_TITLE)
    _text(feed, "updated", _rfc3339(updated))
    ET.SubElement(feed, "link", rel="self", type="application/atom+xml",
                  href=_url(base_url, "feed.atom"))
    ET.SubElement(feed, "link", rel="alternate", type="text/html",
                  href=_url(base_url, "index.html"))
    _text(ET.SubElement(feed, "author"), "name", ISSUER)

    for notice in _newest_first(notices):
        paths = _paths(notice)
        sizes = notice.get("sizes") or {}
        entry = ET.SubElement(feed, "entry")
        _text(entry, "id", _entry_id(notice))
        _text(entry, "title", f"{notice['number']} {notice.get('title') or NOTICE_TITLE}")
        _text(entry, "published", _rfc3339(notice["published_on"]))
        _text(entry, "updated", _rfc3339(notice.get("updated") or notice["published_on"]))
        _text(entry, "summary", _summary(notice), type="text")
        ET.SubElement(entry, "link", rel="alternate", type="text/html",
                      href=_url(base_url, paths["html"]))
        for kind, mime in (("xlsx", XLSX_TYPE), ("json", "application/json")):
            attrs = {"rel": "enclosure", "type": mime, "href": _url(base_url, paths[kind])}
            if sizes.get(kind) is not None:
                attrs["length"] = str(int(sizes[kind]))
            ET.SubElement(entry, "link", attrs)
        for title, other in _related(notice):
            ET.SubElement(entry, "link", rel="related", type="text/html", title=title,
                          href=_url(base_url, f"notices/{_quote(other['id'])}.html"))
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            + ET.tostring(feed, encoding="unicode"))


def json_feed(notices, *, base_url):
    """A JSON Feed 1.1 of the notices, newest first, as a dict."""
    items = []
    for notice in _newest_first(notices):
        paths = _paths(notice)
        sizes = notice.get("sizes") or {}
        title = f"{notice['number']} {notice.get('title') or NOTICE_TITLE}"
        attachments = []
        for kind, mime, label in (("xlsx", XLSX_TYPE, "评估结果汇总表"),
                                  ("json", "application/json", "机器可读数据")):
            attachment = {"url": _url(base_url, paths[kind]), "mime_type": mime,
                          "title": label}
            if sizes.get(kind) is not None:
                attachment["size_in_bytes"] = int(sizes[kind])
            attachments.append(attachment)
        items.append({
            "id": _entry_id(notice),
            "url": _url(base_url, paths["html"]),
            "title": title,
            # Markup.format escapes its arguments: names and titles are not trusted. The
            # title is the item's own field; the content says what the notice decides.
            "content_html": str(Markup("<p>{}</p>").format(_summary(notice)) + Markup("").join(
                Markup('<p><a href="{}">{}</a></p>').format(
                    _url(base_url, f"notices/{_quote(other['id'])}.html"), title)
                for title, other in _related(notice))),
            "summary": _summary(notice),
            "date_published": _rfc3339(notice["published_on"]),
            "date_modified": _rfc3339(notice.get("updated") or notice["published_on"]),
            "language": "zh-CN",
            "attachments": attachments,
            "_pinggu": {"number": notice["number"], "kind": notice.get("kind") or fu.RESULTS,
                        "corrects": _corrects(notice),
                        "affects": list(notice.get("affects") or ()),
                        "later": list(notice.get("later") or ())},
        })
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": FEED_TITLE,
        "home_page_url": _url(base_url, "index.html"),
        "feed_url": _url(base_url, "feed.json"),
        "language": "zh-CN",
        "authors": [{"name": ISSUER}],
        "items": items,
    }


def etag(body: bytes) -> str:
    """A strong ETag: equal bodies, equal tags (128 bits of sha256 is plenty)."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError("etag needs the bytes sent, not a str (the encoding matters)")
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _text(parent, tag, text, **attrs):
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def _paths(notice):
    key = _quote(notice["id"])
    return {"html": notice.get("html_url") or f"notices/{key}.html",
            "xlsx": notice.get("xlsx_url") or f"notices/{key}.xlsx",
            "json": notice.get("json_url") or f"notices/{key}.json"}


def _quote(notice_id):
    return quote(str(notice_id), safe="")


def _entry_id(notice):
    # Never derived from the URL: the portal may move, the id must not.
    return f"urn:pinggu:notice:{_quote(notice['id'])}"


def _url(base_url, path):
    return f"{base_url.rstrip('/')}/{path.lstrip('/')}"


def _summary(notice):
    if notice.get("summary"):
        return notice["summary"]
    text = f"发布日期{_zh_date(notice['published_on'])}。"
    if _corrects(notice):
        text += f"本通告更正{notice['corrects']['number']}。"
    return text


def _related(notice):
    """(title, {id, number}) of the notices this one follows and of every later notice
    that affects it: a reader of the original finds what changed it."""
    kind = notice.get("kind") or fu.RESULTS
    earlier = list(notice.get("affects") or ()) or ([_corrects(notice)] if _corrects(notice)
                                                     else [])
    verb = "更正" if kind == fu.CORRECTION else "所涉原通告"
    return ([(f"{verb}：{n['number']}", n) for n in earlier]
            + [(f"后续{fu.KIND_ZH.get(n.get('kind'), '通告')}：{n['number']}", n)
               for n in notice.get("later") or ()])


def later_notices(notices):
    """{notice id: [{id, number, kind}, ...]}: for each notice, the later ones that follow
    it (list its institutions again), in publication order."""
    later = {str(n["id"]): [] for n in notices}
    for n in sorted(notices, key=lambda n: (n.get("sequence") or 0, n["published_on"])):
        earlier = list(n.get("affects") or ()) or ([n["corrects"]] if n.get("corrects") else [])
        for other in earlier:
            later.setdefault(str(other["id"]), []).append(
                {"id": str(n["id"]), "number": n["number"], "kind": n.get("kind") or fu.RESULTS})
    return later


def _rfc3339(value):
    """An RFC 3339 timestamp. A bare date is midnight in Asia/Shanghai, the province's
    business time zone; a naive datetime is refused rather than guessed."""
    if isinstance(value, str):
        text = value.strip()
        value = parse_date(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"timestamp without a time zone: {value.isoformat()}")
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), BUSINESS_TZ).isoformat()
    raise ValueError(f"expected a date or datetime, got {value!r}")


def _newest_first(notices):
    notices = list(notices)
    ids = [n["id"] for n in notices]
    if len(set(ids)) != len(ids):
        raise ValueError("two notices share an id")
    return sorted(notices, key=lambda n: (_rfc3339(n["published_on"]), str(n["id"])),
                  reverse=True)
