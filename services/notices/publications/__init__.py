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
- Every page and PDF cites clauses in the notice's notation (shared/language/notation.py) and is
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

The package is split by output, each module with one reason to change: `lists` (the
lists of 四(三), the titles and the rows every output shows), `xlsx`, `html` and `feeds`
(with the notice as JSON). Its public names are re-exported here, so callers import
`services.notices.publications` as one module.
"""
from services.notices.publications.lists import (  # noqa: F401
    CATEGORY_ZH, CORRECTION_TITLE, ISSUER, LEVEL_ZH, LISTS, NOTICE_TITLE, PROVINCIAL_CENTER,
    RECTIFICATION_TITLE, SOURCE_NOTICE, TITLES, area, authority, clause_text, list_label,
    notice_summary, opinion_lists)
from services.notices.publications.xlsx import (  # noqa: F401
    FOLLOWUP_COLUMNS, SUMMARY_COLUMNS, SUMMARY_SHEET, XLSX_TYPE, summary_columns,
    summary_rows, write_followup_xlsx, write_summary_xlsx)
from services.notices.publications.html import (  # noqa: F401
    OPINION_FIELDS, TEMPLATES, render_footer_html, render_index_html,
    render_institution_html, render_later_html, render_notice_html, render_opinion_html,
    render_search_html)
from services.notices.publications.feeds import (  # noqa: F401
    FEED_ID, FEED_TITLE, atom_feed, etag, json_feed, later_notices, notice_data)
