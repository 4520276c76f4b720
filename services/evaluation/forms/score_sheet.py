"""附件2, the evaluators' score sheet (notice 二): one row per institution, one column
per area of the campaign's rubric, the evaluator and the date; a 合计 formula column
helps the evaluator and is ignored on import (the rubric computes the total)."""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.utils import get_column_letter

from services.evaluation.rubric import Rubric, ScoreError, json_number, to_decimal
from services.evaluation.forms import columns as c
from services.evaluation.forms.common import (
    COL_EVALUATED_ON, COL_EVALUATOR, COL_TOTAL, COL_USCC, SHEET_SCORES, Problems,
    file_name, read_rows, read_uscc, row_failed)

EVALUATOR_MAX = 100


@dataclass(frozen=True)
class ScoreRow:
    row_number: int
    uscc: str
    areas: dict      # short name -> the number as typed (int or float), rubric order
    score: dict      # Score.to_dict(): total, grade, rubric_version, areas (to 0.1)
    evaluator: str
    evaluated_on: str  # ISO date

    def to_dict(self) -> dict:
        return {"row_number": self.row_number, "uscc": self.uscc, "areas": dict(self.areas),
                "score": dict(self.score, areas=dict(self.score["areas"])),
                "evaluator": self.evaluator, "evaluated_on": self.evaluated_on}

    @classmethod
    def from_dict(cls, d) -> "ScoreRow":
        return cls(d["row_number"], d["uscc"], dict(d["areas"]), dict(d["score"]),
                   d["evaluator"], d["evaluated_on"])


def read_score_sheet(path, rubric: Rubric, *, name=None, period=None) -> list[ScoreRow]:
    """Every institution, scored on every area of `rubric`, or BadInput listing every
    problem of the file. `period` (first, last) bounds 评估日期: the campaign's year up
    to the business date."""
    fname = file_name(path, name)
    problems = Problems()
    rows = read_rows(path, fname, problems, [COL_USCC, *rubric.short_names, COL_EVALUATOR,
                                             COL_EVALUATED_ON])
    seen = {}
    out = [_score_row(row, rubric, seen, period, problems) for row in rows]
    problems.check()
    return out


def _score_row(row, rubric, seen, period, problems):
    before = len(problems)
    code = problems.cell(read_uscc, row, seen)
    # Each area through the one number policy first (NFKC, 15 digits): the rubric then
    # sees only plain numbers, never 1e999999 or a 5000-digit integer.
    typed = {a: problems.cell(row.decimal, a, required=False) for a in rubric.short_names}
    evaluator = problems.cell(row.text, COL_EVALUATOR, max_length=EVALUATOR_MAX)
    first, last = period or (None, None)
    on = problems.cell(row.date, COL_EVALUATED_ON, earliest=first, latest=last)
    if row_failed(problems, before):
        return None
    try:
        score = rubric.score(typed)
    except ScoreError as exc:
        problems.add(row.error(exc.area or rubric.short_names[0], str(exc),
                               f"不符合评分细则:{exc}", "rubric"))
        return None
    areas = {a: json_number(to_decimal(v, a)) for a, v in typed.items()}
    return ScoreRow(row.row_number, code, areas, score.to_dict(), evaluator,
                    on.isoformat())


def sheets(rubric):
    return (c.Sheet(SHEET_SCORES, columns(rubric), True),)


def columns(rubric):
    areas = tuple(
        c.Column(a.short_name,
                 f"{a.title}\n满分 {c.points(a.points)} 分;填 0 至 {c.points(a.points)} "
                 "之间的数,最多一位小数",
                 f"score for area '{a.title}', 0 to {c.points(a.points)} points "
                 f"(rubric {rubric.version}); one decimal", 12,
                 c.decimal(0, c.points(a.points), a.short_name))
        for a in rubric.areas)
    # Areas are columns C.. (after USCC and name); the total sums exactly them.
    first, last = get_column_letter(3), get_column_letter(2 + len(areas))
    return (c.USCC, c.NAME, *areas,
            c.Column(COL_TOTAL, f"合计(自动计算,满分 {c.points(rubric.max_total)} 分;"
                     "导入时忽略,以系统按评分细则计算为准)",
                     "total of the areas (a formula, for the evaluator; ignored on "
                     "import)", 8, formula=lambda n: f"=IF(COUNT({first}{n}:{last}{n}),"
                                                   f"SUM({first}{n}:{last}{n}),\"\")"),
            c.Column(COL_EVALUATOR, "评估人姓名或工号(必填)",
                     "who scored the institution (name or staff id); required", 12,
                     c.text_length("lessThanOrEqual", EVALUATOR_MAX,
                                   f"评估人不超过 {EVALUATOR_MAX} 个字符")),
            c.Column(COL_EVALUATED_ON, "评估日期,YYYY-MM-DD", "date of the evaluation", 12,
                     c.date(COL_EVALUATED_ON)))
