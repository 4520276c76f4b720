"""The notice's own readings where it leaves one open (issue 17, docs/rules.md).

A campaign may set each reading (services/evaluation/campaign.py checks them when it is
opened); the ones it leaves out take these defaults, derived from its milestones. The
evaluation service fills them in when a campaign opens, and the decisions service applies
them (services/decisions/rulebook/), so both read the same defaults from here.
"""
from datetime import date, timedelta
from typing import Any, Mapping

NO_ACTIVITY_MONTHS = 24  # 四(一)1 连续两年
BEYOND_SCOPE_PEOPLE, BEYOND_SCOPE_SHARE = 20, 0.2  # 四(一)3 严重超出, the department's reading


def default_readings(milestones: Mapping[str, str]) -> dict:
    """The notice's own readings, from the campaign's milestones."""
    due = date.fromisoformat(milestones["self_assessment_due"])
    return {
        # 三(一) 各市属评价机构自查自评工作由各市自行安排; 五(一) 8月底完成.
        "self_assessment_due": {"default": due.isoformat(), "by_jurisdiction": {}},
        # 二(一) 至评估前一个月: the evaluation starts after the self-assessment month.
        "no_activity": {"months": NO_ACTIVITY_MONTHS,
                        "window_ends": (due.replace(day=1) - timedelta(days=1)).isoformat()},
        # 四(一)3: people assessed or certified outside the scope, count or share.
        "beyond_scope": {"people": BEYOND_SCOPE_PEOPLE, "share": BEYOND_SCOPE_SHARE},
        # 六(四) 评估期间: from the campaign's opening (None: the day it was opened) to the
        # province's publication.
        "extension_window": {"from": None, "to": milestones["publication_due"]},
    }


def readings_with_defaults(readings: Mapping[str, Any] | None,
                           milestones: Mapping[str, str]) -> dict:
    """`readings` as set for a campaign, each missing one at the notice's default."""
    merged = default_readings(milestones)
    for name, value in (readings or {}).items():
        if name in merged and isinstance(value, Mapping):
            merged[name] = {**merged[name], **value}
    return merged
