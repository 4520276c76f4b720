"""The evaluators' findings (notice 四(一)2–6, 四(二)1): one row per institution and
clause, with the facts and evidence. The other clauses the system derives from its data,
so they are not offered."""

from __future__ import annotations

from dataclasses import dataclass

from shared.language.clauses import CLAUSES, FINDING_CLAUSES, parse_clause
from services.evaluation.forms import columns as c
from services.evaluation.forms.common import (
    COL_CLAUSE, COL_EVIDENCE, COL_USCC, PARENS, SHEET_FINDINGS, Problems, file_name,
    read_rows, read_uscc, row_failed)

EVIDENCE_MAX = 2000


@dataclass(frozen=True)
class FindingRow:
    row_number: int
    uscc: str
    clause: str  # one of FINDING_CLAUSES, canonical spelling
    evidence: str

    def to_dict(self) -> dict:
        return {"row_number": self.row_number, "uscc": self.uscc, "clause": self.clause,
                "evidence": self.evidence}

    @classmethod
    def from_dict(cls, d) -> "FindingRow":
        return cls(d["row_number"], d["uscc"], d["clause"], d["evidence"])


def read_findings(path, *, name=None) -> list[FindingRow]:
    """Every finding, or BadInput listing every problem of the file."""
    fname = file_name(path, name)
    problems = Problems()
    rows = read_rows(path, fname, problems, [COL_USCC, COL_CLAUSE, COL_EVIDENCE])
    seen, out = {}, []
    for row in rows:
        before = len(problems)
        code = problems.cell(read_uscc, row)
        clause = problems.cell(_clause, row)
        evidence = problems.cell(row.text, COL_EVIDENCE, max_length=EVIDENCE_MAX,
                                 multiline=True)
        if row_failed(problems, before):
            continue
        if (code, clause) in seen:
            problems.add(row.error(
                COL_CLAUSE, f"{code} already has a finding under {clause} in row "
                f"{seen[code, clause]}: put all the evidence for one clause in one row",
                f"{code} 已在第 {seen[code, clause]} 行有条款 {clause} 的问题:同一条款的"
                "事实与证据请写在一行", "one row per institution and clause"))
            continue
        seen[code, clause] = row.row_number
        out.append(FindingRow(row.row_number, code, clause, evidence))
    problems.check()
    return out


def _clause(row):
    text = row.code(COL_CLAUSE, max_length=40)
    # parse_clause strips blanks; full-width parentheses are normalised here as well so
    # that 四（一）5 typed with a Chinese input method is accepted.
    try:
        code = parse_clause(text.translate(PARENS))
    except ValueError:
        code = None
    if code in FINDING_CLAUSES:
        return code
    allowed = "; ".join(f"{k} {CLAUSES[k].zh}" for k in FINDING_CLAUSES)
    listed = "、".join(FINDING_CLAUSES)
    if code is not None:
        raise row.error(COL_CLAUSE, f"{code} is not recorded as a finding (the system "
                                    f"derives it from its data); findings are: {allowed}",
                        f"条款 {code} 由系统根据数据认定,不在此表填报;可填条款:{listed}",
                        "finding clause")
    raise row.error(COL_CLAUSE, f"unknown clause {text!r}; findings are: {allowed}",
                    f"未知条款 {text!r};可填条款:{listed}", "finding clause")


def sheets(rubric):
    return (c.Sheet(SHEET_FINDINGS, COLUMNS, True),)


COLUMNS = (
    c.Column(COL_USCC, "18 位统一社会信用代码;一个机构有多项问题时每项一行(可复制本行)",
             "USCC; one row per institution and clause (copy the row for more clauses)",
             22, c.text_length("equal", 18, "统一社会信用代码为 18 位"), text=True),
    c.NAME,
    c.Column(COL_CLAUSE, "条款(下拉选择):\n" + "\n".join(
                 f"{k} {CLAUSES[k].zh}" for k in FINDING_CLAUSES),
             "clause of the notice the finding is under, one of "
             + ", ".join(FINDING_CLAUSES), 12, c.choice(FINDING_CLAUSES, "条款"),
             text=True),
    c.Column(COL_EVIDENCE, f"事实与证据(必填,不超过 {EVIDENCE_MAX} 字)",
             f"facts and evidence for the finding; required, at most {EVIDENCE_MAX} "
             "characters", 60,
             c.text_length("lessThanOrEqual", EVIDENCE_MAX,
                           f"事实与证据不超过 {EVIDENCE_MAX} 字")),
)
