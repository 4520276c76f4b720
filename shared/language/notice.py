"""The notice itself: 晋人社办函〔2023〕223号, its number and title as the department cites it.

The evaluation service opens the 2023 campaign from these (a campaign names its notice, and
another notice can be opened from a file); the notices service publishes under the
campaign's notice and cites it in every opinion and public notice.
"""

NOTICE_2023 = "晋人社办函〔2023〕223号"
NOTICE_2023_TITLE = "关于组织对全省职业技能等级认定评价机构开展评估的通知"


def citation(number=NOTICE_2023, title=NOTICE_2023_TITLE):
    """How a publication cites the notice it applies: 《title》（number）."""
    return f"《{title}》（{number}）"


def cohort_span(cohorts):
    """The filing years a campaign covers as the titles write them: `2020-2021年度`."""
    years = sorted(cohorts)
    if not years:
        raise ValueError("a campaign covers at least one cohort")
    span = str(years[0]) if years[0] == years[-1] else f"{years[0]}-{years[-1]}"
    return f"{span}年度"
