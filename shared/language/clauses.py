"""The notice's clauses (晋人社办函〔2023〕223号 四、六): their codes, classes and texts.

The one place a clause of the notice is written; the rulebook (services/decisions/rulebook/)
applies them, the forms accept the finding clauses, the publications cite them
(shared/language/notation.py gives the printed notation).
"""
from __future__ import annotations

from dataclasses import dataclass

TERMINATE = "terminate"
RECTIFY = "rectify"
PASS = "pass"
CLASSES = (TERMINATE, RECTIFY, PASS)  # precedence: the first that fires wins

# Clause codes, as the notice numbers them.
NO_ACTIVITY = "四(一)1"
FALSE_MATERIALS = "四(一)2"
BEYOND_SCOPE = "四(一)3"
FORGED_CANDIDATE_MATERIALS = "四(一)4"
EXAM_MISCONDUCT = "四(一)5"
CERTIFICATES_WITHOUT_EVALUATION = "四(一)6"
RESULT_FAIL = "四(一)7"
REFUSED_EVALUATION = "六(二)"
AUDIT_NOT_RECTIFIED = "四(二)1"
REGISTRATION_PROBLEM = "四(二)2"
RESULT_BELOW_STANDARD = "四(二)3"
RECTIFICATION = "四(二)"  # the re-decision after the two-month rectification
EXTENSION = "六(四)"  # two-month extension of an expired filing; not a verdict class

TERMINATE_CLAUSES = (NO_ACTIVITY, FALSE_MATERIALS, BEYOND_SCOPE, FORGED_CANDIDATE_MATERIALS,
                     EXAM_MISCONDUCT, CERTIFICATES_WITHOUT_EVALUATION, RESULT_FAIL,
                     REFUSED_EVALUATION)
RECTIFY_CLAUSES = (AUDIT_NOT_RECTIFIED, REGISTRATION_PROBLEM, RESULT_BELOW_STANDARD)
# Recorded by evaluators with evidence (the findings form); the rest are derived.
# 六(二) is a finding too: a refusal the jurisdiction records (issue 17).
FINDING_CLAUSES = (FALSE_MATERIALS, BEYOND_SCOPE, FORGED_CANDIDATE_MATERIALS,
                   EXAM_MISCONDUCT, CERTIFICATES_WITHOUT_EVALUATION, REFUSED_EVALUATION,
                   AUDIT_NOT_RECTIFIED)

@dataclass(frozen=True)
class Clause:
    code: str
    klass: str | None  # None: not a verdict clause (四(二) re-decision, 六(四) extension)
    zh: str
    en: str


CLAUSES: dict[str, Clause] = {c.code: c for c in (
    Clause(NO_ACTIVITY, TERMINATE, "自备案以来连续两年未开展职业技能等级评价工作",
           "no certification activity in two consecutive years since filing"),
    Clause(FALSE_MATERIALS, TERMINATE, "备案申请中故意提供虚假承诺、虚假资料",
           "false commitments or materials in the filing application"),
    Clause(BEYOND_SCOPE, TERMINATE, "严重超出备案范围开展评价工作",
           "evaluation seriously beyond the filing scope"),
    Clause(FORGED_CANDIDATE_MATERIALS, TERMINATE, "为参评人员或协助参评人员伪造申报资料或证件,或纵容参评人员违规报名",
           "forging, or helping forge, candidates' materials; conniving at irregular registration"),
    Clause(EXAM_MISCONDUCT, TERMINATE, "考场秩序混乱,有组织舞弊",
           "disorderly examinations, organised cheating"),
    Clause(CERTIFICATES_WITHOUT_EVALUATION, TERMINATE, "未经评价直接颁发证书或伪造虚假成绩颁发证书",
           "certificates issued without evaluation, or on forged results"),
    Clause(RESULT_FAIL, TERMINATE, "评估结果不合格", "evaluation result 不合格 (fail)"),
    Clause(REFUSED_EVALUATION, TERMINATE, "无故拒绝参加评估,取消备案资质",
           "refused to take part in the evaluation without good reason"),
    Clause(AUDIT_NOT_RECTIFIED, RECTIFY, "对涉及审计提出问题整改不到位",
           "audit findings not properly rectified"),
    Clause(REGISTRATION_PROBLEM, RECTIFY, "法人登记证明不在有效期内,或年度报告中存在影响法人资质合规性问题",
           "legal-person registration expired, or compliance problems in the annual reports "
           "of 民政/市场监管"),
    Clause(RESULT_BELOW_STANDARD, RECTIFY, "评估结果不达标准", "evaluation result 不达标 (below standard)"),
    Clause(RECTIFICATION, None, "限期2个月内完成整改,再视情况决定是否准予延续备案或恢复评价活动",
           "rectify within two months, then renewal/resumption or termination"),
    Clause(EXTENSION, None, "备案时间已到期的,认定工作可暂时延续2个月",
           "an expired filing may continue certification for two months"),
)}


def parse_clause(text: str) -> str:
    """A clause code as typed in a form: Chinese input methods give full-width
    parentheses (四\uff08一\uff095) and cells pick up blanks, so both are normalised."""
    if not isinstance(text, str):
        raise ValueError(f"expected a clause code such as 四(一)5, got {text!r}")
    code = "".join(text.split()).replace("\uff08", "(").replace("\uff09", ")")
    if code not in CLAUSES:
        raise ValueError(f"unknown clause {text!r} (known: {', '.join(CLAUSES)})")
    return code
