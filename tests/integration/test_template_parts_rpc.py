"""The evaluation service's `template` RPC cuts a jurisdiction's form in parts as
`pinggu template` cuts its files (issue 14), on the real PostgreSQL store: the service's
own methods (nameko's worker_factory) over the Evaluation application, with parts of 3."""
import base64
import datetime
import io

import openpyxl
import pytest

from shared.errors import BadInput, Refused
from shared.metadata import caused_by
from shared.operators import Operator
from services.evaluation import campaign
from services.evaluation.application import CaseFiles, Evaluation
from services.evaluation.domain import CaseFile
from tests import factories

CITY = "140500"
PROVINCE = Operator("province", "province", "140000")


class Acting:
    """Who calls: the operator given as the identity (the token is checked elsewhere)."""

    def verify(self, identity):
        return identity


@pytest.fixture(scope="module")
def service(environment):
    from nameko.testing.services import worker_factory
    from services.evaluation.service import EvaluationService
    config, _ = environment
    app = Evaluation(config)
    app.attach_projections([CaseFiles])
    rows = [factories.institution(n, cohort=2020 + n % 2, city=CITY) for n in range(7601, 7608)]
    outside = factories.institution(7608, cohort=2019, city=CITY)  # not in the campaign
    with caused_by("province", "province", business_date=datetime.date(2023, 8, 28)):
        app.open_campaign(campaign.validate(campaign.DEFAULT_2023))
        app.save(*[CaseFile(uscc=r.uscc, filing=r.to_dict()) for r in rows + [outside]])
    worker = worker_factory(EvaluationService, store=app, acting=Acting())
    worker.template_per_file = 3
    worker.usccs = sorted(r.uscc for r in rows)
    yield worker
    app.close()


def listed(answer):
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(answer["content"]))).worksheets[0]
    return [r[0] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]


def test_each_part_lists_its_run_of_the_jurisdictions_institutions(service):
    usccs = service.usccs
    answers = [service.template(PROVINCE, "self-assessment", CITY, None, k) for k in (1, 2, 3)]
    assert [listed(a) for a in answers] == [usccs[:3], usccs[3:6], usccs[6:]]
    assert [(a["part"], a["parts"], a["institutions"]) for a in answers] == [
        (1, 3, 3), (2, 3, 3), (3, 3, 1)]
    assert service.template(PROVINCE, "self-assessment", CITY, None, 4) is None
    assert service.template_parts(PROVINCE, CITY) == [
        {"part": 1, "first": 1, "last": 3, "institutions": 3},
        {"part": 2, "first": 4, "last": 6, "institutions": 3},
        {"part": 3, "first": 7, "last": 7, "institutions": 1}]


def test_without_a_part_the_answer_is_the_whole_as_before_with_how_many_parts(service):
    whole = service.template(PROVINCE, "score-sheet", CITY)
    assert listed(whole) == service.usccs
    assert (whole["part"], whole["parts"], whole["institutions"]) == (None, 3, 7)


def test_a_part_of_some_institutions_cuts_those_only(service):
    some = service.usccs[1::2] + ["91140100MA0000000X"]  # one not of the jurisdiction
    assert [p["institutions"] for p in service.template_parts(PROVINCE, CITY, some)] == [3]
    answer = service.template(PROVINCE, "rectification", CITY, some, 1)
    assert listed(answer) == service.usccs[1::2] and answer["parts"] == 1
    assert service.template(PROVINCE, "rectification", CITY, [], 1)["institutions"] == 0


def test_a_bad_part_is_refused_and_another_city_may_not_read_it(service):
    for bad in (0, -1, "2", 1.5, True):
        with pytest.raises(BadInput, match="part"):
            service.template(PROVINCE, "findings", CITY, None, bad)
    other = Operator("city-140100", "city", "140100")
    with pytest.raises(Refused):
        service.template(other, "findings", CITY, None, 1)
    with pytest.raises(Refused):
        service.template_parts(other, CITY)
