"""The parameters a service hands a parse worker travel as JSON and come back as they were
(shared/parse_worker.py), without shared importing the service's types."""
import datetime as dt
import json

from services.evaluation.rubric import DEFAULT_RUBRIC, Rubric
from shared import parse_worker


def test_dates_pairs_and_objects_survive_the_trip():
    params = {"today": dt.date(2023, 9, 1),
              "window": (dt.date(2023, 9, 1), dt.date(2023, 10, 31)),
              "rubric": DEFAULT_RUBRIC, "limit": 3}
    sent = json.loads(parse_worker.request("score-sheet", "/x.xlsx", "x.xlsx", **params))
    assert sent["params"]["rubric"]["object"] == "services.evaluation.rubric:Rubric"
    back = parse_worker._decode(sent["params"])
    assert isinstance(back["rubric"], Rubric)
    assert back["rubric"].to_dict() == DEFAULT_RUBRIC.to_dict()
    assert {k: v for k, v in back.items() if k != "rubric"} == \
        {k: v for k, v in params.items() if k != "rubric"}
