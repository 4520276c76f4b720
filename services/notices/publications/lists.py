"""The lists of 四(三) and what the department's publications say around them: the issuer,
the titles, each list's heading and explanation, and the rows as every output shows them
(the opinions, the public notice, the 附件3 summary)."""

from __future__ import annotations

from decimal import Decimal

from shared.dates import parse_date
from shared.language import notation as cl
from shared.language.clauses import CLAUSES, RECTIFICATION, REFUSED_EVALUATION
from shared.language.jurisdictions import CITIES, PROVINCE
from shared.language.notice import NOTICE_2023, NOTICE_2023_TITLE, citation, cohort_span
from shared.language.outcomes import (
    COHORTS, CONTINUING_COHORT, NORMAL, RENEWAL_AGREED, RENEWAL_COHORT, RENEWAL_WITHHELD,
    RENEWED, RESUMED, SUSPENDED, TERMINATED)
from services.notices import followups as fu

ISSUER = "山西省人力资源和社会保障厅"
PROVINCIAL_CENTER = "山西省职业技能鉴定中心"
SOURCE_NOTICE = citation(NOTICE_2023, NOTICE_2023_TITLE)
_YEARS = cohort_span(COHORTS)  # 2020-2021年度
NOTICE_TITLE = f"{ISSUER}关于{_YEARS}职业技能等级认定评价机构评估结果的通告"
RECTIFICATION_TITLE = f"{ISSUER}关于{_YEARS}职业技能等级认定评价机构整改复评结果的通告"
CORRECTION_TITLE = f"{ISSUER}关于更正{_YEARS}职业技能等级认定评价机构评估结果的通告"
TITLES = {fu.RESULTS: NOTICE_TITLE, fu.RECTIFICATION: RECTIFICATION_TITLE,
          fu.CORRECTION: CORRECTION_TITLE}

CATEGORY_ZH = {"enterprise": "自主评价企业", "college": "自主评价院校",
               "social": "社会培训评价组织"}
LEVEL_ZH = {"municipal": "市级", "provincial": "省级以上"}

# The lists 四(三) asks for, per cohort, in the notice's own order.
LISTS = {
    RENEWAL_COHORT: (TERMINATED, RENEWAL_AGREED, RENEWAL_WITHHELD),
    CONTINUING_COHORT: (TERMINATED, SUSPENDED, NORMAL),
}
# After a rectification passes (四(二)) the institution is renewed / evaluates again:
# the notice has no separate list for it, so it joins the pass list of its cohort. Its
# own outcome label (延续备案 / 恢复评价活动) is kept on the row, so readers can tell it
# from a first-time pass.
_MERGED = {(RENEWAL_COHORT, RENEWED): RENEWAL_AGREED, (CONTINUING_COHORT, RESUMED): NORMAL}

# Headings and the one-line explanation under each list.
_TERMINATE_TEXT = (f"有通知{cl.prose('四(一)')}或{cl.prose(REFUSED_EVALUATION)}所列情形，"
                   "终止备案。")
_RECTIFY_TEXT = (f"有通知{cl.prose(RECTIFICATION)}所列情形，限期2个月内完成整改，"
                 "整改后再视情况决定是否{}；逾期未整改或整改不到位的，终止备案。")
_LIST_TEXT = {
    (RENEWAL_COHORT, TERMINATED): ("需终止备案的机构", _TERMINATE_TEXT),
    (RENEWAL_COHORT, RENEWAL_AGREED): ("同意延续备案的机构", "评估合格，或整改后经复评准予延续备案。"),
    (RENEWAL_COHORT, RENEWAL_WITHHELD): ("暂时不予延续备案的机构", _RECTIFY_TEXT.format("准予延续备案")),
    (CONTINUING_COHORT, TERMINATED): ("需终止备案的机构", _TERMINATE_TEXT),
    (CONTINUING_COHORT, SUSPENDED): ("暂停评价活动的机构", _RECTIFY_TEXT.format("恢复评价活动")),
    (CONTINUING_COHORT, NORMAL): ("正常评价的机构", "评估合格，或整改后经复评恢复评价活动。"),
}
_ORDINALS = "一二三四五六七八九十"


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
                         f"(the 2023 campaign covers {', '.join(map(str, COHORTS))})")
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
