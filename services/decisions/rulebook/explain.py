"""The rulebook's explanation of a verdict: bilingual lines citing each clause with the
facts behind it, and the campaign settings (readings) it was made under.
"""
from __future__ import annotations

from typing import Any, Mapping

from shared.language.clauses import (
    BEYOND_SCOPE, CLAUSES, FINDING_CLAUSES, NO_ACTIVITY, PASS, RECTIFICATION,
    REFUSED_EVALUATION, REGISTRATION_PROBLEM, RESULT_BELOW_STANDARD, RESULT_FAIL)
from services.decisions.rulebook.facts import Facts
from services.decisions.rulebook.rules import Verdict


def explain(facts: Facts, verdict: Verdict) -> list[str]:
    """Bilingual lines: the outcome, then one line per clause, with the facts behind it."""
    if not verdict.decided:
        return ["未决:尚无评分,且无终止或整改情形 / Undecided: not scored yet, and no "
                "terminate or rectify clause applies"
                + f" (rulebook {verdict.rulebook_version})"]
    lines = [f"结论:{verdict.outcome}({facts.cohort}年度备案)/ Outcome: {verdict.outcome} "
             f"({verdict.klass}, {facts.cohort} cohort; rulebook {verdict.rulebook_version})"]
    for code in verdict.clauses:
        line = _clause_line(code, facts)
        if code == RECTIFICATION:
            line += (": 整改通过 / rectification passed" if verdict.klass == PASS else
                     ": 整改未通过或逾期未提交 / rectification failed or not submitted by the deadline")
        lines.append(line)
    # After a rectification the lower clauses are what led to it, not concurrent hits.
    note = ("(整改事由 / reason for rectification)" if RECTIFICATION in verdict.clauses
            else "(同时适用 / also applies)")
    for code in verdict.also_fired:
        lines.append(_clause_line(code, facts) + note)
    if verdict.klass == PASS and not verdict.clauses:
        lines.append(f"无终止或整改情形,评估结果{facts.grade} / No terminate or rectify clause "
                     f"applies; evaluation result {facts.grade}")
    return lines


def describe_readings(readings: Mapping[str, Any]) -> list[str]:
    """One line per reading of the notice the campaign set, naming the setting."""
    sa, na = readings["self_assessment_due"], readings["no_activity"]
    bs, ext = readings["beyond_scope"], readings["extension_window"]
    by = ", ".join(f"{j} {d}" for j, d in sorted(sa["by_jurisdiction"].items()))
    return [
        f"六(二) 自查自评截止 / self-assessment due: {sa.get('applied') or sa['default']}"
        f" (campaign setting self_assessment_due: default {sa['default']}"
        + (f"; {by}" if by else "") + "); 逾期未自评且未经现场评估视为拒绝参加评估 / "
        "missing it without excuse counts as refusal until evaluated on site",
        f"四(一)1 连续两年未开展 / two years without activity: {na['months']} whole months "
        f"from the filing's publication to {na['window_ends']} (campaign setting no_activity)",
        f"四(一)3 严重超出备案范围 / seriously beyond scope: {bs['people']} people or "
        f"{bs['share']:.0%} of those assessed outside the scope (campaign setting beyond_scope)",
        f"六(四) 评估期间到期 / expiring during the evaluation: {ext['from'] or 'campaign opening'}"
        f" to {ext['to']} (campaign setting extension_window)",
    ]


def _clause_line(code: str, facts: Facts) -> str:
    c = CLAUSES[code]
    line = f"{c.code} {c.zh} / {c.en}"
    detail = _detail(code, facts)
    return f"{line}: {detail}" if detail else line


def _detail(code: str, facts: Facts) -> str:
    if code == NO_ACTIVITY and facts.filed_on and facts.activity_window_ends and (
            stretch := facts.inactive_stretch()):
        return (f"{stretch[0]}至{stretch[1]}无认定活动,满{facts.inactive_months}个月 / no "
                f"activity from {stretch[0]} to {stretch[1]}, {facts.inactive_months} whole "
                f"months (window {facts.filed_on} to {facts.activity_window_ends}; campaign "
                f"setting no_activity)")
    if code == NO_ACTIVITY and (pair := facts.inactive_years()):
        return (f"{pair[0]}、{pair[1]}年无认定活动 / no activity in {pair[0]} and {pair[1]} "
                f"(filed {facts.filed_year}, evaluated through {facts.evaluated_through_year})")
    if code in (RESULT_FAIL, RESULT_BELOW_STANDARD):
        return f"评估结果{facts.grade} / evaluation result {facts.grade}"
    if code == REFUSED_EVALUATION:
        if REFUSED_EVALUATION in facts.findings:
            return "属地记录拒绝参加评估 / refusal recorded by the jurisdiction"
        due = ((facts.readings or {}).get("self_assessment_due") or {}).get("applied")
        return ("自查自评期满未提交且无正当理由,亦未经现场评估 / no self-assessment by the "
                "jurisdiction's deadline, no accepted excuse, not evaluated on site"
                + (f" (campaign setting self_assessment_due: {due})" if due else ""))
    if code == REGISTRATION_PROBLEM:
        parts = []
        if facts.legal_registration_expired:
            parts.append("法人登记证明已过期 / legal-person registration expired")
        if facts.annual_report_problem:
            parts.append("年度报告合规性问题 / annual-report compliance problem")
        return "; ".join(parts)
    if code == BEYOND_SCOPE:
        parts = []
        if facts.seriously_out_of_scope:
            threshold = (facts.readings or {}).get("beyond_scope")
            parts.append("认定记录严重超出备案范围 / activity recorded seriously outside the "
                         "filing scope" + (f" (campaign setting beyond_scope: "
                                           f"{threshold['people']} people or "
                                           f"{threshold['share']:.0%} of those assessed)"
                                           if threshold else ""))
        if BEYOND_SCOPE in facts.findings:
            parts.append("评估人员认定 / evaluator finding")
        return "; ".join(parts)
    if code in FINDING_CLAUSES:
        return "评估人员认定 / evaluator finding"
    return ""
