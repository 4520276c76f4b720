"""What a notice after the first one says about each institution it lists (四(二), 四(三)).

Two kinds of later notice, never confused:

- the rectification-results notice (整改复评结果通告): the institutions that were given two
  months to rectify (暂时不予延续备案 / 暂停评价活动) and whose rectification is now closed,
  each with its final outcome (延续备案 / 恢复评价活动 / 终止备案) and the reason in words
  (整改复评合格, 逾期未整改, 复评仍不合格 …) with the clause 四(二);
- the correction (更正通告): a published result that was wrong, shown as original →
  corrected with why.

The reason is read from what the decisions service recorded with the verdict (the
`Decided` event's `basis`: "rescore" or "deadline" close a rectification; its facts'
grade; the verdict it revises), never re-derived from rules here.
"""
from shared.language.clauses import CLAUSES, RECTIFICATION as RECTIFICATION_CLAUSE
from shared.language.outcomes import (
    GRADE_BELOW_STANDARD, GRADE_FAIL, RENEWAL_WITHHELD, RENEWED, RESUMED, SUSPENDED)
from shared.language import notation as cl

RESULTS, RECTIFICATION, CORRECTION = "results", "rectification", "correction"
KINDS = (RESULTS, RECTIFICATION, CORRECTION)
KIND_ZH = {RESULTS: "评估结果通告", RECTIFICATION: "整改复评结果通告", CORRECTION: "更正通告"}

# What the public sees of a case and what a correction compares: a re-score that leaves
# the outcome as it was (a new decided_on, a new total) is no public change.
PUBLIC_KEYS = ("name", "category", "level", "jurisdiction", "cohort", "class", "outcome",
               "clauses", "deadline")
_UNDER_RECTIFICATION = (RENEWAL_WITHHELD, SUSPENDED)
_CLOSING = ("rescore", "deadline")


def public_view(entry):
    return {k: entry.get(k) for k in PUBLIC_KEYS}


def changed(entry, published):
    """Whether `entry` differs, as the public sees it, from its last published row."""
    return published is None or public_view(entry) != public_view(published)


def closes_rectification(entry, published):
    """The entry is the end of a rectification the public was told about."""
    if published is None or published.get("outcome") not in _UNDER_RECTIFICATION:
        return False
    if entry.get("basis") in _CLOSING:
        return True
    # A row recorded before the basis was carried: the re-decision cites 四(二) alone.
    return (entry.get("basis") is None
            and list(entry.get("clauses") or ()) == [RECTIFICATION_CLAUSE])


def rectification_reason(entry):
    """The reason in words, with the clause, for a closed rectification."""
    article = cl.prose(RECTIFICATION_CLAUSE)
    if entry["outcome"] in (RENEWED, RESUMED):
        return f"整改复评合格，依据{article}{entry['outcome']}"
    if entry.get("basis") == "deadline":
        return f"逾期未整改，依据{article}终止备案"
    grade = entry.get("facts_grade")
    still = f"复评仍{grade}" if grade in (GRADE_FAIL, GRADE_BELOW_STANDARD) else "整改不到位"
    return f"{still}，依据{article}终止备案"


def correction_reason(entry, published, given=None):
    """Why a published result is corrected: the operator's words if given, else what
    changed in the verdict's grounds."""
    if given:
        return given
    before = set(published.get("clauses") or ())
    after = set(entry.get("clauses") or ())
    added = [c for c in entry.get("clauses") or () if c not in before]
    removed = [c for c in published.get("clauses") or () if c not in after]
    parts = []
    if added:
        parts.append(f"经核查，存在通知{cl.prose_list(added)}所列情形"
                     f"（{'；'.join(_zh(c) for c in added)}）")
    if removed:
        parts.append(f"经复核，原认定的通知{cl.prose_list(removed)}所列情形不成立")
    if not parts and published.get("outcome") != entry.get("outcome"):
        parts.append("经复核，评估结果有误")
    if not parts:
        parts.append("整改期限有误" if published.get("deadline") != entry.get("deadline")
                     else "机构信息有误")
    return "；".join(parts)


def _zh(code):
    clause = CLAUSES.get(code)
    return clause.zh if clause else cl.table(code)


def follow_up_rows(entries, published_rows, notices_of, given_reason=None):
    """The changed entries split by kind: {RECTIFICATION: [...], CORRECTION: [...]}.

    `published_rows` maps a USCC to its last published row, `notices_of` to the
    {id, number} of that notice. Each row gets `reason` and `original` (the published
    row it follows: notice, outcome, clauses, deadline); a rectification row also gets
    `rectified`, the clauses it had to rectify."""
    out = {RECTIFICATION: [], CORRECTION: []}
    for entry in entries:
        published = published_rows.get(entry["uscc"])
        if not changed(entry, published):
            continue
        original = None
        if published is not None:
            original = {**notices_of[entry["uscc"]],
                        **{k: published.get(k) for k in ("outcome", "clauses", "deadline")}}
        if closes_rectification(entry, published):
            out[RECTIFICATION].append({
                **entry, "original": original, "reason": rectification_reason(entry),
                "rectified": list(published.get("clauses") or ())})
        else:
            reason = (correction_reason(entry, published, given_reason) if published
                      else given_reason or "原通告未列入")
            out[CORRECTION].append({**entry, "original": original, "reason": reason})
    return out
