"""The one notation for citing the notice's clauses in what the department publishes.

The notice 晋人社办函〔2023〕223号 numbers its clauses 条 (一、二 …), 项 (（一）（二） …) and
款 (1、2 …). Publications cite them the way the notice itself would:

- in prose, `第四条第（一）项第7款`, `第六条第（二）项`, `第四条第（二）项`;
- in tables, `四（一）7`, `六（二）`, `四（二）`;

always with full-width brackets. The events keep their internal ids (`四(一)7`, half-width,
see services/decisions/rulebook/); only this module turns one into the other, so every
page, PDF, feed and xlsx reads alike.
"""
import re

_ID = re.compile(r"^\s*([一二三四五六七八九十]+)\s*[(（]\s*([一二三四五六七八九十]+)\s*[)）]\s*(\d*)\s*$")


def _parts(code):
    match = _ID.match(code or "")
    if not match:
        raise ValueError(f"not a clause of the notice: {code!r} (expected e.g. 四(一)7)")
    return match.groups()


def table(code):
    """`四(一)7` → `四（一）7`: the short form for table cells."""
    article, item, paragraph = _parts(code)
    return f"{article}（{item}）{paragraph}"


def prose(code):
    """`四(一)7` → `第四条第（一）项第7款`: the form for running text."""
    article, item, paragraph = _parts(code)
    return f"第{article}条第（{item}）项" + (f"第{paragraph}款" if paragraph else "")


def table_list(codes, empty="—"):
    """Several clauses in one cell, `四（一）5、四（二）1`."""
    return "、".join(table(c) for c in codes) or empty


def prose_list(codes):
    """Several clauses in a sentence: `第四条第（一）项第5款和第四条第（二）项第1款`."""
    cited = [prose(c) for c in codes]
    if len(cited) <= 1:
        return "".join(cited)
    return "、".join(cited[:-1]) + "和" + cited[-1]
