"""The publications of the 2023 evaluation (DESIGN.md §1 "Publications"; notice 四(三)).

Pure rendering: the notices service hands in "entries" (one decided case each: uscc,
name, category, level, jurisdiction, cohort, class, outcome, clauses, deadline,
decided_on, total, grade) and gets back files and strings. Nothing here reads a clock,
a database or the bus, so a publication is reproducible from its inputs.

- Per jurisdiction, the evaluation opinion (评估意见): `opinion_lists`, the printable
  `render_opinion_html`, and the 附件3 summary `write_summary_xlsx`.
- The province's public notice (通告): `render_notice_html` and `notice_data` (the same
  content in machine form), the portal's `render_index_html`, and the feeds
  `atom_feed` / `json_feed` with `etag` for conditional GETs. After the first notice,
  the rectification-results notice and the correction (followups.py) are rendered by
  the same `render_notice_html`, by their `kind`, with `notice_summary` for the feeds.
- Every page and PDF cites clauses in the notice's notation (shared/clauses.py) and is
  laid out for print to GB/T 9704 (templates/_print.css; pdf.py makes the PDF).

The public site these produce (relative to `base_url`; portal.py serves it):
    index.html                 render_index_html (with the search form)
    feed.atom, feed.json       atom_feed, json_feed
    notices/<id>.html          render_notice_html (+ render_later_html, the footer)
    notices/<id>.json          notice_data, as JSON
    notices/<id>.xlsx          the 附件3 summary, or write_followup_xlsx's table
    notices/<id>.pdf           pdf.py, from the page
    institutions/<uscc>.html   render_institution_html
    search?q=…                 render_search_html (served only)

Institution names are untrusted (they come from operators' roster files): the HTML
templates autoescape, the feeds are built with ElementTree / escaped Markup, and the
xlsx keeps cells starting with = + - @ as literal text.

The public notice lists outcome, clauses and deadline but not scores: the scores go to
the department in the opinions and their 附件3, as the notice 四(三) asks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import xml.etree.ElementTree as ET
from decimal import Decimal
from urllib.parse import quote

import jinja2
import openpyxl
from markupsafe import Markup
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from shared.language.clauses import CLAUSES, RECTIFICATION, REFUSED_EVALUATION
from shared.language.outcomes import (
    NORMAL, RENEWAL_AGREED, RENEWAL_WITHHELD, RENEWED, RESUMED, SUSPENDED, TERMINATED)
from services.notices import followups as fu
from shared.language.jurisdictions import CITIES, PROVINCE
from shared.language import notation as cl
from shared.dates import BUSINESS_TZ, parse_date
from shared.xlsx import save_workbook, write_cell

ISSUER = "山西省人力资源和社会保障厅"
PROVINCIAL_CENTER = "山西省职业技能鉴定中心"
SOURCE_NOTICE = "《关于组织对全省职业技能等级认定评价机构开展评估的通知》（晋人社办函〔2023〕223号）"
NOTICE_TITLE = f"{ISSUER}关于2020-2021年度职业技能等级认定评价机构评估结果的通告"
RECTIFICATION_TITLE = f"{ISSUER}关于2020-2021年度职业技能等级认定评价机构整改复评结果的通告"
CORRECTION_TITLE = f"{ISSUER}关于更正2020-2021年度职业技能等级认定评价机构评估结果的通告"
TITLES = {fu.RESULTS: NOTICE_TITLE, fu.RECTIFICATION: RECTIFICATION_TITLE,
          fu.CORRECTION: CORRECTION_TITLE}
FEED_TITLE = "山西省职业技能等级认定评价机构评估结果通告"
FEED_ID = "urn:pinggu:notices"

CATEGORY_ZH = {"enterprise": "自主评价企业", "college": "自主评价院校",
               "social": "社会培训评价组织"}
LEVEL_ZH = {"municipal": "市级", "provincial": "省级以上"}

# The lists 四(三) asks for, per cohort, in the notice's own order.
LISTS = {
    2020: (TERMINATED, RENEWAL_AGREED, RENEWAL_WITHHELD),
    2021: (TERMINATED, SUSPENDED, NORMAL),
}
# After a rectification passes (四(二)) the institution is renewed / evaluates again:
# the notice has no separate list for it, so it joins the pass list of its cohort. Its
# own outcome label (延续备案 / 恢复评价活动) is kept on the row, so readers can tell it
# from a first-time pass.
_MERGED = {(2020, RENEWED): RENEWAL_AGREED, (2021, RESUMED): NORMAL}

# Headings and the one-line explanation under each list.
_TERMINATE_TEXT = (f"有通知{cl.prose('四(一)')}或{cl.prose(REFUSED_EVALUATION)}所列情形，"
                   "终止备案。")
_RECTIFY_TEXT = (f"有通知{cl.prose(RECTIFICATION)}所列情形，限期2个月内完成整改，"
                 "整改后再视情况决定是否{}；逾期未整改或整改不到位的，终止备案。")
_LIST_TEXT = {
    (2020, TERMINATED): ("需终止备案的机构", _TERMINATE_TEXT),
    (2020, RENEWAL_AGREED): ("同意延续备案的机构", "评估合格，或整改后经复评准予延续备案。"),
    (2020, RENEWAL_WITHHELD): ("暂时不予延续备案的机构", _RECTIFY_TEXT.format("准予延续备案")),
    (2021, TERMINATED): ("需终止备案的机构", _TERMINATE_TEXT),
    (2021, SUSPENDED): ("暂停评价活动的机构", _RECTIFY_TEXT.format("恢复评价活动")),
    (2021, NORMAL): ("正常评价的机构", "评估合格，或整改后经复评恢复评价活动。"),
}
_ORDINALS = "一二三四五六七八九十"

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------ lists

def opinion_lists(entries):
    """The lists of 四(三): {2020: {终止备案: [...], 同意延续备案: [...], 暂时不予延续备案:
    [...]}, 2021: {终止备案: [...], 暂停评价活动: [...], 正常评价: [...]}}, each list the
    entries themselves sorted by USCC. Every list is present, empty or not.

    Post-rectification outcomes join the pass list (延续备案 → 同意延续备案, 恢复评价活动 →
    正常评价). An outcome that does not belong to its cohort, or a USCC listed twice, is
    refused: an official list must not silently drop or repeat an institution.
    """
    lists = {cohort: {label: [] for label in labels} for cohort, labels in LISTS.items()}
    seen = set()
    for entry in entries:
        uscc = entry["uscc"]
        if uscc in seen:
            raise ValueError(f"{uscc} is listed twice")
        seen.add(uscc)
        label = list_label(entry)  # refuses an unknown cohort before it is used
        lists[entry["cohort"]][label].append(entry)
    for by_label in lists.values():
        for members in by_label.values():
            members.sort(key=lambda e: e["uscc"])
    return lists


def list_label(entry):
    """The 四(三) list an entry belongs in."""
    cohort, outcome = entry.get("cohort"), entry.get("outcome")
    if cohort not in LISTS:
        raise ValueError(f"{entry.get('uscc')}: cohort {cohort!r} is not evaluated "
                         "(the 2023 campaign covers 2020 and 2021)")
    label = _MERGED.get((cohort, outcome), outcome)
    if label not in LISTS[cohort]:
        raise ValueError(f"{entry.get('uscc')}: outcome {outcome!r} is not one of the "
                         f"{cohort} cohort's ({', '.join(LISTS[cohort])})")
    return label


def authority(jurisdiction):
    """Who gives the opinion: the provincial center, or the city's HR bureau."""
    if jurisdiction == PROVINCE:
        return PROVINCIAL_CENTER
    return f"{_city(jurisdiction)}人力资源和社会保障局"


def area(jurisdiction):
    """The short name in the 所属地市/评估单位 column."""
    return "省职业技能鉴定中心" if jurisdiction == PROVINCE else _city(jurisdiction)


def _city(jurisdiction):
    try:
        return CITIES[jurisdiction]
    except KeyError:
        raise ValueError(f"unknown jurisdiction {jurisdiction!r} (expected {PROVINCE} "
                         "or a city code 140100-141100)") from None


def _check_jurisdiction(jurisdiction, entries):
    # An opinion is signed by one authority; another's institution in it is a bug upstream.
    authority(jurisdiction)
    strays = sorted(e["uscc"] for e in entries if e.get("jurisdiction") != jurisdiction)
    if strays:
        raise ValueError(f"not of jurisdiction {jurisdiction}: {', '.join(strays)}")


def clause_text(code):
    clause = CLAUSES.get(code)
    return clause.zh if clause else ""


def _cited(entries, *more):
    """The clauses cited by these entries (and `more` codes) with their text, in the
    rulebook's order, each in the notice's table notation."""
    codes = {c for e in entries for c in (e.get("clauses") or ())} | set(more)
    known = [c for c in CLAUSES if c in codes]
    return [(cl.table(c), clause_text(c)) for c in known + sorted(codes - set(known))]


def _row(entry, label):
    """An entry as the templates show it; every key present so StrictUndefined holds."""
    outcome = entry["outcome"]
    return {
        "uscc": entry["uscc"],
        "name": entry.get("name") or "",
        "category": CATEGORY_ZH.get(entry.get("category"), entry.get("category") or ""),
        "level": LEVEL_ZH.get(entry.get("level"), entry.get("level") or ""),
        "area": area(entry["jurisdiction"]) if entry.get("jurisdiction") else "",
        "cohort": entry["cohort"],
        "outcome": outcome,
        "clauses": cl.table_list(entry.get("clauses") or ()),
        "deadline": entry.get("deadline") or "",
        "decided_on": entry.get("decided_on") or "",
        "total": _score(entry.get("total")),
        "grade": entry.get("grade") or "",
        "note": entry.get("reason") or (f"经整改复评，{outcome}" if outcome != label else ""),
    }


def _sections(entries):
    """The lists ready for a template: one section per cohort, three lists in each."""
    sections = []
    for index, (cohort, by_label) in enumerate(opinion_lists(entries).items()):
        lists = []
        for position, (label, members) in enumerate(by_label.items()):
            heading, explanation = _LIST_TEXT[(cohort, label)]
            lists.append({
                "ordinal": _ORDINALS[position], "label": label, "heading": heading,
                "explanation": explanation, "rectify": label in (RENEWAL_WITHHELD,
                                                                  SUSPENDED),
                "rows": [_row(e, label) for e in members],
            })
        sections.append({"ordinal": _ORDINALS[index], "cohort": cohort, "lists": lists,
                         "count": sum(len(lst["rows"]) for lst in lists)})
    return sections


def _score(total):
    if total is None:
        return ""
    return f"{Decimal(str(total)):.2f}".rstrip("0").rstrip(".")


def _zh_date(value):
    """2023年10月31日, as Chinese official documents write dates."""
    if not value:
        return ""
    d = parse_date(value)
    return f"{d.year}年{d.month}月{d.day}日"


# ------------------------------------------------------------------ 附件3 summary

SUMMARY_SHEET = "评估意见汇总表"
SUMMARY_COLUMNS = [
    ("序号", "行号，从1起，按备案年度、评估意见、统一社会信用代码排序"),
    ("统一社会信用代码", "机构的18位统一社会信用代码(GB 32100-2015)"),
    ("机构名称", "备案名册中的机构名称"),
    ("类型", "自主评价企业 / 自主评价院校 / 社会培训评价组织"),
    ("备案层级", "市级 / 省级以上"),
    ("所属地市/评估单位", "市级机构为所属地市；省级以上机构为省职业技能鉴定中心"),
    ("备案年度", "公开发布备案的年度：2020 或 2021"),
    ("评估得分", "附件2评估表总分(满分100)；未评分的为空"),
    ("评估等级", "合格(≥80) / 不达标(60-79.99) / 不合格(<60)；未评分的为空"),
    ("评估意见", "2020年度：终止备案 / 同意延续备案 / 暂时不予延续备案；2021年度：终止备案 / "
                 "暂停评价活动 / 正常评价；整改复评后：延续备案 / 恢复评价活动"),
    ("依据条款", "作出该意见所依据的通知条款及其内容，如 四（二）3 评估结果不达标准"),
    ("整改期限", "需整改的机构完成整改的最后一日(含)，决定日起2个日历月"),
    ("决定日期", "作出该评估意见的日期"),
]
# The public notice's attachment carries no scores (四(三): they are the department's), so
# its xlsx has no score columns rather than two always-empty ones.
_SCORE_COLUMNS = ("评估得分", "评估等级")
_WIDTHS = {"序号": 6, "统一社会信用代码": 22, "机构名称": 36, "类型": 18, "备案层级": 10,
           "所属地市/评估单位": 18, "备案年度": 9, "评估得分": 9, "评估等级": 9,
           "评估意见": 16, "依据条款": 40, "整改期限": 12, "决定日期": 12}
_TITLE_ROW, _INFO_ROW, _HEADER_ROW = 1, 2, 3
_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def summary_columns(public=False):
    """The 附件3 columns (name, meaning): the opinion's, or the public notice's."""
    return [(c, m) for c, m in SUMMARY_COLUMNS if not (public and c in _SCORE_COLUMNS)]


def summary_rows(entries, public=False):
    """The 附件3 data rows, in summary_columns(public) order: cohort, then the lists in
    the notice's order, then USCC."""
    names = [c for c, _ in summary_columns(public)]
    rows = []
    for by_label in opinion_lists(entries).values():
        for members in by_label.values():
            for e in members:
                row = {
                    "序号": len(rows) + 1, "统一社会信用代码": e["uscc"],
                    "机构名称": e.get("name") or "",
                    "类型": CATEGORY_ZH.get(e.get("category"), e.get("category")),
                    "备案层级": LEVEL_ZH.get(e.get("level"), e.get("level")),
                    "所属地市/评估单位": area(e["jurisdiction"]), "备案年度": e["cohort"],
                    "评估得分": None if e.get("total") is None else float(e["total"]),
                    "评估等级": e.get("grade"), "评估意见": e["outcome"],
                    "依据条款": "；".join(f"{cl.table(c)} {clause_text(c)}".strip()
                                      for c in e.get("clauses") or ()),
                    "整改期限": parse_date(e["deadline"]) if e.get("deadline") else None,
                    "决定日期": parse_date(e["decided_on"]) if e.get("decided_on") else None,
                }
                rows.append([row[name] for name in names])
    return rows


def write_summary_xlsx(path, jurisdiction, entries, *,
                       campaign_title="2020-2021年度备案机构评估意见汇总表", generated_on):
    """附件3 of one jurisdiction: title row, info row, header (row 3), then one row per
    institution; frozen below the header, printable on landscape A4. Saved atomically;
    returns `path`. With `jurisdiction` None, the whole province's public list (the
    notice's attachment, without scores), issued by the department on its publication
    date."""
    entries = list(entries)
    public = jurisdiction is None
    if not public:
        _check_jurisdiction(jurisdiction, entries)
    rows = summary_rows(entries, public)
    described = summary_columns(public)
    last_col = get_column_letter(len(described))
    last_row = _HEADER_ROW + len(rows)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET

    ws.merge_cells(f"A{_TITLE_ROW}:{last_col}{_TITLE_ROW}")
    title = ws.cell(row=_TITLE_ROW, column=1)
    write_cell(title, campaign_title)
    title.font = Font(bold=True, size=16)
    title.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[_TITLE_ROW].height = 30

    ws.merge_cells(f"A{_INFO_ROW}:{last_col}{_INFO_ROW}")
    write_cell(ws.cell(row=_INFO_ROW, column=1),
         f"{'发布单位' if public else '评估单位'}：{ISSUER if public else authority(jurisdiction)}　　"
         f"机构数：{len(rows)}　　"
         f"{'发布日期' if public else '填报日期'}：{_zh_date(generated_on)}")

    for index, (column, meaning) in enumerate(described, start=1):
        cell = ws.cell(row=_HEADER_ROW, column=index, value=column)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        cell.comment = Comment(meaning, "pinggu", width=300, height=120)

    wrap = Alignment(vertical="center", wrap_text=True)
    for row_index, values in enumerate(rows, start=_HEADER_ROW + 1):
        for col_index, value in enumerate(values, start=1):
            cell = ws.cell(row=row_index, column=col_index)
            write_cell(cell, value)
            cell.alignment, cell.border = wrap, _BORDER
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, float):
                cell.number_format = "0.00"

    for index, (column, _) in enumerate(described, start=1):
        ws.column_dimensions[get_column_letter(index)].width = _WIDTHS[column]
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{_HEADER_ROW}:{last_col}{last_row}"
    _print_setup(ws, campaign_title)
    save_workbook(wb, path)
    return path


FOLLOWUP_COLUMNS = ("序号", "统一社会信用代码", "机构名称", "备案年度", "所属地市/评估单位",
                    "原通告", "原评估意见", "原依据条款", "现评估意见", "依据条款", "整改期限",
                    "备注")


def write_followup_xlsx(path, notice):
    """The attachment of a rectification-results notice or a correction: one row per
    institution, original → now, with the reason in 备注."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = fu.KIND_ZH[notice["kind"]]
    last_col = get_column_letter(len(FOLLOWUP_COLUMNS))
    ws.merge_cells(f"A{_TITLE_ROW}:{last_col}{_TITLE_ROW}")
    write_cell(ws.cell(row=_TITLE_ROW, column=1), notice.get("title") or TITLES[notice["kind"]])
    ws.cell(row=_TITLE_ROW, column=1).font = Font(bold=True, size=14)
    ws.merge_cells(f"A{_INFO_ROW}:{last_col}{_INFO_ROW}")
    write_cell(ws.cell(row=_INFO_ROW, column=1),
               f"{notice['number']}　　发布单位：{ISSUER}　　机构数：{len(notice['entries'])}　　"
               f"发布日期：{_zh_date(notice['published_on'])}")
    for index, column in enumerate(FOLLOWUP_COLUMNS, start=1):
        cell = ws.cell(row=_HEADER_ROW, column=index, value=column)
        cell.font, cell.border = Font(bold=True), _BORDER
    wrap = Alignment(vertical="center", wrap_text=True)
    entries = sorted(notice["entries"], key=lambda e: (e["cohort"], e["outcome"], e["uscc"]))
    for n, e in enumerate(entries, start=1):
        original = e.get("original") or {}
        values = [n, e["uscc"], e.get("name") or "", e["cohort"],
                  area(e["jurisdiction"]) if e.get("jurisdiction") else "",
                  original.get("number") or "", original.get("outcome") or "",
                  cl.table_list(original.get("clauses") or (), empty=""), e["outcome"],
                  cl.table_list(e.get("clauses") or (), empty=""),
                  parse_date(e["deadline"]) if e.get("deadline") else None,
                  e.get("reason") or ""]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=_HEADER_ROW + n, column=col)
            write_cell(cell, value)
            cell.alignment, cell.border = wrap, _BORDER
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for index, width in enumerate((6, 22, 36, 9, 18, 22, 16, 16, 14, 16, 12, 40), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"
    _print_setup(ws, notice.get("title") or TITLES[notice["kind"]])
    save_workbook(wb, path)
    return path


def _print_setup(ws, title):
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    # "&" starts a header/footer code; a literal one is doubled.
    ws.oddHeader.center.text = title.replace("&", "&&")
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


# ------------------------------------------------------------------ HTML

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
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
_RECTIFICATION_OUTCOMES = {2020: (RENEWED, TERMINATED), 2021: (RESUMED, TERMINATED)}


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


def notice_summary(notice):
    """One or two sentences for the feed and the index: what the notice decides, not
    its title again."""
    kind = notice.get("kind") or fu.RESULTS
    entries = list(notice["entries"])
    count = {}
    for e in entries:
        count[e["outcome"]] = count.get(e["outcome"], 0) + 1
    if kind == fu.RESULTS:
        lists = {cohort: {label: len(m) for label, m in by.items() if m}
                 for cohort, by in opinion_lists(entries).items()}
        parts = "；".join(f"{cohort}年度{sum(by.values())}家，" + "、".join(
            f"{label}{n}家" for label, n in by.items()) for cohort, by in lists.items() if by)
        return f"公布{len(entries)}家评价机构的评估结果：{parts}。"
    if kind == fu.RECTIFICATION:
        passed = sum(count.get(o, 0) for o in (RENEWED, RESUMED))
        reasons = {}
        for e in entries:
            if e["outcome"] == TERMINATED:
                why = (e.get("reason") or "").split("，")[0]
                reasons[why] = reasons.get(why, 0) + 1
        detail = "、".join(f"{why}{n}家" for why, n in sorted(reasons.items()))
        return (f"{len(entries)}家限期整改机构的整改复评结果：整改复评合格{passed}家，"
                f"终止备案{count.get(TERMINATED, 0)}家" + (f"（{detail}）" if detail else "")
                + "。")
    numbers = sorted({(e.get("original") or {}).get("number") or "" for e in entries} - {""})
    return (f"更正{'、'.join(numbers) or '此前通告'}中{len(entries)}家机构的评估结果：" + "；".join(
        f"{e.get('name') or e['uscc']}由{(e.get('original') or {}).get('outcome') or '未列入'}"
        f"更正为{e['outcome']}" for e in entries[:3]) + ("等" if len(entries) > 3 else "") + "。")


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
