"""Blank forms to hand out: one pre-filled row per institution of a jurisdiction (a
pre-filled row left untouched is skipped on import), every column with a header
comment, an input prompt and a cell rule, codes as text, printed landscape to the page
width with the header repeated (issue #15)."""

from __future__ import annotations

import openpyxl

from shared import xlsx
from services.evaluation.rubric import DEFAULT_RUBRIC
from services.evaluation.forms import findings, rectification, score_sheet, self_assessment
from services.evaluation.forms.common import (COL_NAME, COL_USCC, FINDINGS, KINDS,
                                              RECTIFICATION, SCORE_SHEET, SELF_ASSESSMENT)

_FORMS = {SELF_ASSESSMENT: self_assessment, SCORE_SHEET: score_sheet,
          FINDINGS: findings, RECTIFICATION: rectification}


def sheets(kind, rubric=DEFAULT_RUBRIC):
    """The sheets of form `kind`, each with its columns."""
    if kind not in _FORMS:
        raise ValueError(f"unknown form kind {kind!r} (kinds: {', '.join(KINDS)})")
    return _FORMS[kind].sheets(rubric)


def write_template(kind, path, institutions, *, rubric=DEFAULT_RUBRIC):
    """A blank form of `kind` at `path`, one pre-filled row per institution (dicts with
    `uscc` and `name`). Returns `path`."""
    form = sheets(kind, rubric)
    prefill = [{COL_USCC: i["uscc"], COL_NAME: i.get("name")} for i in institutions]
    wb = openpyxl.Workbook()
    for sheet in form:
        columns = sheet.columns
        xlsx.write_sheet(
            wb, sheet.title, [c.name for c in columns],
            prefill if sheet.prefilled else [],
            widths={c.name: c.width for c in columns},
            comments={c.name: c.zh for c in columns},
            prompts={c.name: c.zh for c in columns},
            validations={c.name: c.validation() for c in columns if c.validation},
            text_columns=[c.name for c in columns if c.text],
            formulas={c.name: c.formula for c in columns if c.formula})
    _describe(wb, kind, institutions, rubric)
    xlsx.save_workbook(wb, path)
    return path


# A sheet is read up to xlsx.MAX_ROWS rows (20,000), and the self-assessment's activity
# sheet takes rows the clerk adds, one per year, occupation and level of each institution:
# a template lists at most this many institutions, so a filled-in file has room for 4 such
# rows an institution and more to spare (issue 14: a nation's province lists ~20,000
# institutions, whose two years of activity alone were ~40,000 rows, refused whole).
PER_FILE = 4000


def part_ranges(count, per_file=PER_FILE):
    """Where a template of `count` institutions (in the order they are listed) is cut:
    the range of each part's positions, in order; one range, maybe empty, when they fit.
    The one rule for the CLI's files (write_templates) and the evaluation service's
    `template` parts (the desk's downloads): the same institutions, the same parts."""
    return [range(start, min(start + per_file, count))
            for start in range(0, count, per_file)] or [range(0)]


def write_templates(kind, path, institutions, *, rubric=DEFAULT_RUBRIC, per_file=PER_FILE):
    """Blank forms of `kind` for `institutions`, at most `per_file` in each: `path` itself
    when they fit in one, else path-1.xlsx, path-2.xlsx, ... (each handed in on its own).
    Returns the paths written."""
    parts = part_ranges(len(institutions), per_file)
    if len(parts) == 1:
        return [write_template(kind, path, institutions, rubric=rubric)]
    stem = path[:-5] if path.endswith(".xlsx") else path
    return [write_template(kind, f"{stem}-{n}.xlsx", institutions[part.start:part.stop],
                           rubric=rubric)
            for n, part in enumerate(parts, 1)]


def _describe(wb, kind, institutions, rubric):
    # Lets an operator (or support) tell which campaign form a returned file started as.
    jurisdictions = sorted({str(i["jurisdiction"]) for i in institutions
                            if i.get("jurisdiction")})
    wb.properties.creator = "pinggu"
    wb.properties.title = f"pinggu {kind} template"
    wb.properties.subject = ("jurisdiction " + ", ".join(jurisdictions)) if jurisdictions \
        else None
    if kind == SCORE_SHEET:
        wb.properties.keywords = f"rubric {rubric.version}"


def _documentation():
    docs = {}
    for kind in KINDS:
        form = sheets(kind)
        docs[kind] = [
            (c.name, (f"[{s.title}] " if len(form) > 1 else "")
             + f"{c.en} / {c.zh.replace(chr(10), ' ')}")
            for s in form for c in s.columns]
    return docs


# kind -> [(column, meaning in English / Chinese)], for the project's docs. The score
# sheet is documented with the default rubric; a campaign's rubric may differ.
COLUMNS = _documentation()
