"""The campaign's cohorts, the rubric's grades and the outcomes of 四(三).

Notice 2023-223 evaluates the institutions filed in 2020 and in 2021 (一、评估范围). The
2020 cohort's filings are up for renewal (延续备案); the 2021 cohort's continue (正常评价).
Each verdict class reads differently for each cohort (四(三)).
"""
from shared.language.clauses import PASS, RECTIFY, TERMINATE

# The cohorts of the 2023 campaign; a campaign names its own (services/evaluation/campaign.py).
COHORTS = (2020, 2021)
RENEWAL_COHORT, CONTINUING_COHORT = COHORTS

# Grades as the rubric (services.evaluation.rubric) names them (附件2).
GRADE_PASS = "合格"
GRADE_BELOW_STANDARD = "不达标"
GRADE_FAIL = "不合格"
GRADES = (GRADE_PASS, GRADE_BELOW_STANDARD, GRADE_FAIL)

# Outcome labels (四(三)).
TERMINATED = "终止备案"
RENEWAL_WITHHELD = "暂时不予延续备案"
SUSPENDED = "暂停评价活动"
RENEWAL_AGREED = "同意延续备案"
NORMAL = "正常评价"
RENEWED = "延续备案"
RESUMED = "恢复评价活动"

OUTCOMES = {
    (TERMINATE, RENEWAL_COHORT): TERMINATED, (TERMINATE, CONTINUING_COHORT): TERMINATED,
    (RECTIFY, RENEWAL_COHORT): RENEWAL_WITHHELD, (RECTIFY, CONTINUING_COHORT): SUSPENDED,
    (PASS, RENEWAL_COHORT): RENEWAL_AGREED, (PASS, CONTINUING_COHORT): NORMAL,
}
AFTER_RECTIFICATION = {RENEWAL_COHORT: RENEWED, CONTINUING_COHORT: RESUMED}
