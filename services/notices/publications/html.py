"""The pages: the evaluation opinion (评估意见), the public notices of each kind, the
portal's index, institution and search pages. Templates autoescape (names are
untrusted) and print to GB/T 9704 (templates/_print.css)."""

from __future__ import annotations

import os

import jinja2

from shared.language import notation as cl
from shared.language.jurisdictions import PROVINCE
from shared.language.outcomes import (
    CONTINUING_COHORT, RENEWAL_COHORT, RENEWED, RESUMED, TERMINATED)
from services.notices import followups as fu
from services.notices.publications.feeds import (
    FEED_TITLE, _corrects, _newest_first, _paths, _quote)
from services.notices.publications.lists import (
    CATEGORY_ZH, ISSUER, LEVEL_ZH, NOTICE_TITLE, SOURCE_NOTICE, TITLES, _ORDINALS,
    _check_jurisdiction, _cited, _sections, _zh_date, area, authority)

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # names are untrusted; every template is HTML
    undefined=jinja2.StrictUndefined,  # a misspelt field fails the render, not the page
    trim_blocks=True, lstrip_blocks=True,
)
_env.filters["zh_date"] = _zh_date


OPINION_FIELDS = ("number", "signer", "contact", "phone")
# Left blank to be filled in by hand when the command gives none: the 版头 keeps its place.
_BLANK_NUMBER, _BLANK_SIGNER = "〔　　　　〕　　号", "　　　　"


def render_opinion_html(jurisdiction, entries, *, generated_on, title=None, fields=None):
    """The printable evaluation opinion (评估意见) of one jurisdiction, a report to the
    department: 版头 with 发文字号 and 签发人, 落款 and the contact line from `fields`
    (number, signer, contact, phone)."""
    entries = list(entries)
    _check_jurisdiction(jurisdiction, entries)
    fields = {k: (v or "").strip() for k, v in (fields or {}).items() if k in OPINION_FIELDS}
    issuer = authority(jurisdiction)
    contact = "，".join(part for part in (
        fields.get("contact") and f"联系人：{fields['contact']}",
        fields.get("phone") and f"联系电话：{fields['phone']}") if part)
    return _env.get_template("opinion.html").render(
        title=title or f"{issuer}关于2020-2021年度备案职业技能等级认定评价机构的评估意见",
        issuer=issuer, provincial=jurisdiction == PROVINCE, addressee=ISSUER,
        source_notice=SOURCE_NOTICE, sections=_sections(entries), total=len(entries),
        cited=_cited(entries), generated_on=generated_on,
        number=fields.get("number") or _BLANK_NUMBER,
        signer=fields.get("signer") or _BLANK_SIGNER,
        contact_line=f"（{contact}）" if contact else None,
    )


def render_notice_html(notice):
    """The province's notice (通告), one page readable on a phone and in print; the
    follow-ups (整改复评结果通告, 更正通告) by their own templates."""
    kind = notice.get("kind") or fu.RESULTS
    entries = list(notice["entries"])
    cites = notice.get("cites") or _corrects(notice)
    common = dict(
        title=notice.get("title") or TITLES[kind], number=notice["number"], issuer=ISSUER,
        kind=kind, kind_zh=fu.KIND_ZH[kind],
        published_on=notice["published_on"], source_notice=SOURCE_NOTICE,
        cites=cites and {"number": cites["number"], "href": f"{_quote(cites['id'])}.html"},
        data_href=f"{_quote(notice['id'])}.json" if notice.get("id") else None,
        pdf_href=f"{_quote(notice['id'])}.pdf" if notice.get("id") else None,
        xlsx_href=_from_notices_dir(notice.get("xlsx_url")), total=len(entries),
    )
    if kind == fu.RESULTS:
        return _env.get_template("notice.html").render(
            corrects=None, sections=_sections(entries), cited=_cited(entries), **common)
    rows = [_followup_row(e) for e in sorted(entries, key=lambda e: e["uscc"])]
    if kind == fu.RECTIFICATION:
        cited = _cited(entries, *(c for e in entries for c in e.get("rectified") or ()))
        return _env.get_template("rectification.html").render(
            sections=_followup_sections(rows), cited=cited, **common)
    cited = _cited(entries, *(c for e in entries
                               for c in (e.get("original") or {}).get("clauses") or ()))
    return _env.get_template("correction.html").render(rows=rows, cited=cited, **common)


def _followup_row(entry):
    original = entry.get("original") or {}
    return {
        "uscc": entry["uscc"], "name": entry.get("name") or "",
        "category": CATEGORY_ZH.get(entry.get("category"), entry.get("category") or ""),
        "area": area(entry["jurisdiction"]) if entry.get("jurisdiction") else "",
        "cohort": entry["cohort"], "outcome": entry["outcome"],
        "clauses": cl.table_list(entry.get("clauses") or ()),
        "deadline": entry.get("deadline") or "",
        "rectified": cl.table_list(entry.get("rectified") or ()),
        "reason": entry.get("reason") or "",
        "original": {"number": original.get("number") or "",
                     "href": f"{_quote(original['id'])}.html#u-{entry['uscc']}"
                     if original.get("id") else None,
                     "outcome": original.get("outcome") or "—",
                     "clauses": cl.table_list(original.get("clauses") or ()),
                     "deadline": original.get("deadline") or ""},
    }


# The final outcomes of a rectification, per cohort, in the notice's order (四(二)).
_RECTIFICATION_OUTCOMES = {RENEWAL_COHORT: (RENEWED, TERMINATED),
                           CONTINUING_COHORT: (RESUMED, TERMINATED)}


def _followup_sections(rows):
    sections = []
    for cohort, outcomes in _RECTIFICATION_OUTCOMES.items():
        mine = [r for r in rows if r["cohort"] == cohort]
        lists = [{"ordinal": _ORDINALS[i], "label": outcome,
                  "rows": [r for r in mine if r["outcome"] == outcome]}
                 for i, outcome in enumerate(outcomes)]
        strays = [r for r in mine if r["outcome"] not in outcomes]
        if strays:
            raise ValueError(f"not a rectification's final outcome: "
                             f"{', '.join(r['uscc'] + ' ' + r['outcome'] for r in strays)}")
        sections.append({"ordinal": _ORDINALS[len(sections)], "cohort": cohort,
                         "lists": lists, "count": len(mine)})
    return sections


def render_index_html(notices, footer=None):
    """The portal's list of notices, newest first."""
    items = [{"number": n["number"], "title": n.get("title") or NOTICE_TITLE,
              "published_on": n["published_on"], "href": _paths(n)["html"],
              "kind": n.get("kind") or fu.RESULTS,
              "kind_zh": fu.KIND_ZH[n.get("kind") or fu.RESULTS],
              "summary": n.get("summary") or "",
              "corrects": (n.get("corrects") or {}).get("number"),
              "later": [{"number": o["number"], "href": f"notices/{_quote(o['id'])}.html",
                         "kind_zh": fu.KIND_ZH.get(o.get("kind"), "通告")}
                        for o in n.get("later") or ()]}
             for n in _newest_first(notices)]
    return _env.get_template("index.html").render(title=FEED_TITLE, issuer=ISSUER,
                                                  notices=items, footer=footer or {},
                                                  query="")


def render_later_html(later):
    """The note on a notice's page naming every later notice that affects it."""
    items = [{"number": o["number"], "href": f"{_quote(o['id'])}.html",
              "kind_zh": fu.KIND_ZH.get(o.get("kind"), "通告")} for o in later]
    return str(_env.get_template("_document.html").module.later_block(items))


def render_footer_html(footer):
    return str(_env.get_template("_document.html").module.site_footer(footer))


def render_institution_html(uscc, record, *, footer=None):
    """One institution's public record: each notice that listed it, oldest first, with
    the outcome, clauses and reason it gave, and a link to its row in that notice."""
    latest = record[-1]
    rows = [{"number": r["number"], "kind_zh": fu.KIND_ZH.get(r.get("kind"), "通告"),
             "published_on": r["published_on"],
             "href": f"../notices/{_quote(r['notice_id'])}.html#u-{uscc}",
             "outcome": r["outcome"], "clauses": cl.table_list(r.get("clauses") or ()),
             "deadline": r.get("deadline") or "", "reason": r.get("reason") or ""}
            for r in record]
    return _env.get_template("institution.html").render(
        title=f"{latest.get('name') or uscc} 评估结果", uscc=uscc,
        name=latest.get("name") or "",
        category=CATEGORY_ZH.get(latest.get("category"), latest.get("category") or ""),
        level=LEVEL_ZH.get(latest.get("level"), latest.get("level") or ""),
        area=area(latest["jurisdiction"]) if latest.get("jurisdiction") else "",
        cohort=latest["cohort"], outcome=latest["outcome"], rows=rows, issuer=ISSUER,
        footer=footer or {})


def render_search_html(query, hits, total, *, footer=None):
    """The search results: links to the institutions' pages."""
    return _env.get_template("search.html").render(
        title=f"查询：{query}" if query else "查询评价机构", query=query, hits=hits,
        total=total, issuer=ISSUER, footer=footer or {})


def _from_notices_dir(url):
    # Notice pages live in notices/; site paths are relative to the site root.
    if not url:
        return None
    return url.removeprefix("notices/") if url.startswith("notices/") else f"../{url}"
