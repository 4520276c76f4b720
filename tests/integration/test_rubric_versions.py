"""Changing the rubric makes a new version; a recorded score keeps the version it was
computed with (issue 4)."""
import datetime

import pytest

from shared.errors import BadInput
from shared.metadata import caused_by
from shared.operators import Operator
from services.evaluation import campaign
from services.evaluation.application import CaseFiles, Evaluation
from services.evaluation.forms import ScoreRow
from services.evaluation.domain import CaseFile
from tests import factories

PROVINCE = Operator("province", "province", "140000")


@pytest.fixture(scope="module")
def evaluation(environment):
    config, _ = environment
    app = Evaluation(config)
    app.attach_projections([CaseFiles])
    yield app
    app.close()


def score_row(uscc, total):
    areas = factories.split_total(total)
    return ScoreRow(row_number=2, uscc=uscc, areas=areas, score={}, evaluator="甲",
                    evaluated_on="2023-09-15")


def test_a_new_rubric_is_a_new_version_and_recorded_scores_keep_theirs(evaluation):
    spec = campaign.validate(campaign.DEFAULT_2023)
    first, second = (factories.institution(n, cohort=2021) for n in (8001, 8002))
    with caused_by("province", "province", business_date=datetime.date(2023, 9, 15)):
        evaluation.open_campaign(spec)
        evaluation.save(CaseFile(uscc=first.uscc, filing=first.to_dict()),
                        CaseFile(uscc=second.uscc, filing=second.to_dict()))
        evaluation.submit_scores(PROVINCE, "s.xlsx", [score_row(first.uscc, 82)])

        stricter = dict(spec, rubric=dict(spec["rubric"], version="2023.2", pass_at=85))
        with pytest.raises(BadInput, match="new version"):
            evaluation.open_campaign(dict(spec, rubric=dict(spec["rubric"], pass_at=85)))
        evaluation.open_campaign(campaign.validate(stricter))
        evaluation.submit_scores(PROVINCE, "s.xlsx", [score_row(second.uscc, 82)])

    before = evaluation.case(first.uscc)["scores"]
    after = evaluation.case(second.uscc)["scores"]
    assert [(s["rubric_version"], s["grade"]) for s in before] == [("2023.1", "合格")]
    assert [(s["rubric_version"], s["grade"]) for s in after] == [("2023.2", "不达标")]
    events = [type(e).__name__ for e in evaluation.events.get(
        campaign.campaign_id(spec["notice"]))]
    assert events == ["Opened", "RubricChanged"]
