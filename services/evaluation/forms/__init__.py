"""The campaign's four operator forms (DESIGN.md §3), one module each, with their blank
templates and readers:

- self_assessment: 附件1, sheets 机构情况 (one row per institution) and 认定开展情况 (one
  row per institution, year, occupation and level);
- score_sheet: 附件2, one row per institution, one column per rubric area;
- findings: one row per institution and clause (四(一)2–6, 四(二)1), with evidence;
- rectification: one row per institution.

`common` holds the names and the reading helpers, `columns` how a template column is
described, `templates` the writing of a blank form, `filler` the filling of one (demo,
bench and tests). Readers are all or nothing, and refuse a file with every problem it
has at once (see `common`). Every row class has `to_dict()` (plain JSON, for RPC) and
`from_dict()`. This package re-exports the names callers use.
"""

from services.evaluation.forms.common import (
    COL_ASSESSED, COL_ASSESSORS, COL_CERTIFIED, COL_CLAUSE, COL_EVALUATED_ON, COL_EVALUATOR,
    COL_EVIDENCE, COL_EXPERTS, COL_LEVEL, COL_NAME, COL_OCCUPATION, COL_PASSED, COL_REPORT,
    COL_SELF_SCORE, COL_SUBMITTED_ON, COL_SUPERVISORS, COL_TOTAL, COL_USCC, COL_YEAR,
    FINDINGS, KINDS, RECTIFICATION, SCORE_SHEET, SELF_ASSESSMENT, SHEET_ACTIVITY,
    SHEET_FINDINGS, SHEET_INSTITUTIONS, SHEET_RECTIFICATION, SHEET_SCORES, YEAR_MAX,
    YEAR_MIN)
from services.evaluation.forms.findings import (
    EVIDENCE_MAX, FindingRow, read_findings)
from services.evaluation.forms.rectification import (
    REPORT_MAX, RectificationRow, read_rectification)
from services.evaluation.forms.score_sheet import (
    EVALUATOR_MAX, ScoreRow, read_score_sheet)
from services.evaluation.forms.self_assessment import (
    LEVEL_MAX, LEVEL_MIN, OCCUPATION_CODE, SELF_SCORE_MAX, SelfAssessmentRow,
    read_self_assessment)
from services.evaluation.forms.templates import (COLUMNS, sheets, write_template,
                                                 write_templates)

__all__ = [
    "COL_ASSESSED", "COL_ASSESSORS", "COL_CERTIFIED", "COL_CLAUSE", "COL_EVALUATED_ON",
    "COL_EVALUATOR", "COL_EVIDENCE", "COL_EXPERTS", "COL_LEVEL", "COL_NAME",
    "COL_OCCUPATION", "COL_PASSED", "COL_REPORT", "COL_SELF_SCORE", "COL_SUBMITTED_ON",
    "COL_SUPERVISORS", "COL_TOTAL", "COL_USCC", "COL_YEAR", "FINDINGS", "KINDS",
    "RECTIFICATION", "SCORE_SHEET", "SELF_ASSESSMENT", "SHEET_ACTIVITY",
    "SHEET_FINDINGS", "SHEET_INSTITUTIONS", "SHEET_RECTIFICATION", "SHEET_SCORES",
    "YEAR_MAX", "YEAR_MIN", "EVIDENCE_MAX", "FindingRow", "read_findings", "REPORT_MAX",
    "RectificationRow", "read_rectification", "EVALUATOR_MAX", "ScoreRow",
    "read_score_sheet", "LEVEL_MAX", "LEVEL_MIN", "OCCUPATION_CODE", "SELF_SCORE_MAX",
    "SelfAssessmentRow", "read_self_assessment", "COLUMNS", "sheets", "write_template",
    "write_templates",
]
