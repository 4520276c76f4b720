"""A file is one command (issue 14): its aggregates are loaded in one query, not one a
row, and saved with its command journal in one transaction; a refused row anywhere in the
file writes nothing. On the real PostgreSQL, where shared.bulk.load_many reads by set."""
import datetime
import uuid

import pytest

from shared import commands
from shared.application import case_id
from shared.errors import BadInput, Refused
from shared.metadata import caused_by
from shared.operators import Operator
from services.evaluation import campaign
from services.evaluation.application import CaseFiles, Evaluation
from services.evaluation.domain import CaseFile
from services.evaluation.forms import SelfAssessmentRow
from services.registry.application import Filings, Registry
from tests import factories

ROWS = 40
CITY = Operator("city-140100", "city", "140100")
DAY = datetime.date(2023, 8, 28)


@pytest.fixture(scope="module")
def apps(environment):
    config, _ = environment
    registry, evaluation = Registry(config), Evaluation(config)
    registry.attach_projections([Filings])
    evaluation.attach_projections([CaseFiles])
    with caused_by("province", "province", business_date=DAY):
        evaluation.open_campaign(campaign.validate(campaign.DEFAULT_2023))
    yield registry, evaluation
    registry.close()
    evaluation.close()


def count_gets(app, monkeypatch):
    """How often the application loads one aggregate by itself (repository.get)."""
    calls = []
    get = app.repository.get
    monkeypatch.setattr(app.repository, "get", lambda *a, **k: calls.append(a) or get(*a, **k))
    return calls


def one_command(app, method, run):
    """Run `run()` as an operator's command (journaled), as the services do."""
    command_id = str(uuid.uuid4())
    with commands.bound(command_id, method, "digest"):
        result = run()
    return result, app.get_or_none(commands.journal_id(command_id))


def open_cases(evaluation, first, city="140100"):
    rows = [factories.institution(n, cohort=2021, city=city) for n in range(first, first + ROWS)]
    with caused_by("system", "system", business_date=DAY):
        evaluation.save(*[CaseFile(uscc=r.uscc, filing=r.to_dict()) for r in rows])
    return [r.uscc for r in rows]


def self_assessment(usccs):
    return [SelfAssessmentRow(n + 2, uscc, 12, 3, 5, 85, [
        {"year": 2022, "occupation": "6-18-02-04", "level": 4, "assessed": 40, "passed": 36,
         "certified": 36, "row_number": n + 2}]) for n, uscc in enumerate(usccs)]


def test_a_roster_is_one_command_with_one_read_for_its_rows(apps, monkeypatch):
    registry, _ = apps
    rows = [factories.institution(n).to_dict() for n in range(9100, 9100 + ROWS)]
    gets = count_gets(registry, monkeypatch)
    with caused_by("province", "province", business_date=DAY):
        first, journal = one_command(registry, "import_roster",
                                     lambda: registry.import_roster(rows))
        renamed = [dict(rows[0], name=rows[0]["name"] + "（更名）")] + rows[1:]
        again, _ = one_command(registry, "import_roster",
                               lambda: registry.import_roster(renamed))
    assert first == {"filed": ROWS, "changed": 0, "unchanged": 0}
    assert again == {"filed": 0, "changed": 1, "unchanged": ROWS - 1}
    assert journal is not None and journal.method == "import_roster"
    # The journal of each command is looked up once; the rows are not loaded one by one.
    assert len(gets) <= 4, f"{len(gets)} single loads for two files of {ROWS} rows"
    assert registry.get_or_none(case_id(rows[0]["uscc"])).filing["name"].endswith("（更名）")


def test_a_form_is_one_command_with_one_read_for_its_rows(apps, monkeypatch):
    _, evaluation = apps
    usccs = open_cases(evaluation, 9200)
    before = evaluation.recorder.max_notification_id()
    gets = count_gets(evaluation, monkeypatch)
    with caused_by(CITY.id, CITY.role, business_date=DAY):
        result, journal = one_command(evaluation, "submit_self_assessment", lambda: (
            evaluation.submit_self_assessments(CITY, "sa.xlsx", self_assessment(usccs), DAY)))
    assert result == {"self_assessed": ROWS, "unchanged": 0, "flagged": []}
    assert journal is not None and journal.method == "submit_self_assessment"
    # The campaign and the journal are loaded alone; the file's cases together.
    assert len(gets) <= 3, f"{len(gets)} single loads for a file of {ROWS} rows"
    assert evaluation.recorder.max_notification_id() - before == ROWS + 1  # + the journal
    assert all(evaluation.get_or_none(case_id(u)).self_assessment for u in usccs)


@pytest.mark.parametrize("last", ["another city's", "not filed"])
def test_a_refused_last_row_writes_nothing_of_the_file(apps, last):
    _, evaluation = apps
    ours = open_cases(evaluation, 9300 if last == "not filed" else 9400)
    stranger = open_cases(evaluation, 9500, city="140200")[0] if last == "another city's" \
        else factories.institution(9600).uscc
    before = evaluation.recorder.max_notification_id()
    expected = Refused if last == "another city's" else BadInput
    with caused_by(CITY.id, CITY.role, business_date=DAY), pytest.raises(expected) as refused:
        one_command(evaluation, "submit_self_assessment", lambda: (
            evaluation.submit_self_assessments(CITY, "sa.xlsx",
                                               self_assessment(ours + [stranger]), DAY)))
    named = getattr(refused.value, "row", None) or str(refused.value)
    assert str(ROWS + 2) in str(named)  # the refused row is named
    assert evaluation.recorder.max_notification_id() == before
    assert not any(evaluation.get_or_none(case_id(u)).self_assessment for u in ours)


def test_a_template_reads_its_institutions_names_in_one_query(apps, monkeypatch):
    _, evaluation = apps
    usccs = open_cases(evaluation, 9700)
    gets = count_gets(evaluation, monkeypatch)
    listed = evaluation.named_institutions(
        "140100", evaluation.template_usccs("140100", usccs=usccs[1:]))
    assert [i["uscc"] for i in listed] == sorted(usccs[1:])
    assert {i["name"] for i in listed} == {factories.institution(n).name
                                           for n in range(9701, 9700 + ROWS)}
    assert len(gets) <= 1, f"{len(gets)} single loads for a template of {ROWS - 1} rows"
