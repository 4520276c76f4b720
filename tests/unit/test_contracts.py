"""The integration contract: committed schemas match the code, published schemas change
only compatibly, every domain event has a contract, data round-trips through it."""
import copy
import dataclasses
import importlib
import json

import jsonschema
import pytest
from eventsourcing.domain import Aggregate

from shared import contracts, integration
from shared.contracts import base, compat, generate


def test_committed_schemas_and_asyncapi_match_the_code():
    assert generate.differences() == [], "run: make schemas"


def test_published_schemas_change_only_compatibly():
    lock = generate.read_lock()
    assert lock, "docs/schemas/published.lock is empty"
    for name, published in lock.items():
        contract = contracts.contract_for(name)
        assert contract is not None, f"{name} was published: it may not disappear"
        assert compat.problems(published, contracts.json_schema(contract)) == [], name


def test_every_type_is_published():
    assert set(contracts.all_events()) <= set(generate.read_lock()), \
        "python -m shared.contracts.generate --publish"


@pytest.fixture
def decided():
    return copy.deepcopy(generate.read_lock()["pinggu.decisions.Case.Decided.v1"])


def test_compat_refuses_a_removed_field(decided):
    changed = copy.deepcopy(decided)
    del changed["properties"]["phase"]
    changed["required"].remove("phase")
    assert "data.phase: removed" in compat.problems(decided, changed)


def test_compat_refuses_a_new_required_field_and_allows_an_optional_one(decided):
    changed = copy.deepcopy(decided)
    changed["properties"]["reason"] = {"type": "string"}
    assert compat.problems(decided, changed) == []
    changed["required"].append("reason")
    assert compat.problems(decided, changed) == ["data.reason: newly required"]


def test_compat_refuses_a_type_change_in_a_nested_shape(decided):
    changed = copy.deepcopy(decided)
    changed["$defs"]["Verdict"]["properties"]["clauses"] = {"type": "string"}
    assert compat.problems(decided, changed) == [
        "data.verdict.clauses: type changed from array to string",
        "data.revises.clauses: type changed from array to string"]


def _domain_events():
    for service in ("registry", "evaluation", "decisions", "notices"):
        module = importlib.import_module(f"services.{service}.domain")
        for aggregate in vars(module).values():
            if isinstance(aggregate, type) and issubclass(aggregate, Aggregate) \
                    and aggregate.__module__ == module.__name__:
                for name, cls in vars(aggregate).items():
                    if isinstance(cls, type) and issubclass(cls, Aggregate.Event) \
                            and name not in ("Event", "Created"):
                        yield service, cls
    yield "registry", importlib.import_module("services.registry.refusals").Refusal.Recorded
    operator = importlib.import_module("services.registry.directory").Operator
    yield from (("registry", cls) for cls in vars(operator).values()
                if isinstance(cls, type) and issubclass(cls, Aggregate.Event)
                and cls.__name__ not in ("Event", "Created"))
    journal = importlib.import_module("shared.commands").CommandJournal.Recorded
    yield from ((service, journal) for service in ("registry", "evaluation", "decisions",
                                                   "notices"))
    module = importlib.import_module("services.evaluation.campaign")
    yield "evaluation", module.Campaign.Opened
    yield "evaluation", module.Campaign.RubricChanged


@pytest.mark.parametrize("service,cls", list(_domain_events()),
                         ids=lambda v: getattr(v, "__qualname__", v))
def test_every_domain_event_has_a_contract_with_its_fields(service, cls):
    kind = f"pinggu.{service}.{cls.__qualname__}.v1"
    contract = contracts.contract_for(kind)
    assert contract is not None, kind
    fields = {f.name for f in dataclasses.fields(cls)} - set(contracts.base.ENVELOPE_FIELDS)
    assert fields == {f.name for f in dataclasses.fields(contract)}, kind


FILING = {"uscc": "914403001922038216", "name": "甲", "category": "social",
          "level": "municipal", "city": "140100", "published_on": "2020-10-30",
          "valid_until": "2023-12-16", "scope": [{"occupation": "6-18-02-04", "levels": [4, 5]}],
          "legal_valid_until": None, "cohort": 2020, "jurisdiction": "140100"}


def test_a_consumer_reads_typed_data_and_ignores_unknown_fields():
    envelope = {"type": "pinggu.registry.Institution.Filed.v1",
                "data": {"filing": dict(FILING, new_field=1), "other": True}}
    event = contracts.read(envelope)
    assert event.filing.uscc == "914403001922038216"
    assert event.filing.scope[0].levels == [4, 5]
    assert contracts.to_data(event) == {"filing": FILING}


@pytest.mark.parametrize("change,message", [
    (lambda d: d["filing"].pop("uscc"), "filing.uscc: missing"),
    (lambda d: d["filing"].update(cohort="2020"), "filing.cohort: expected an integer"),
    (lambda d: d["filing"].update(valid_until="2023-13-01"), "filing.valid_until: expected a date"),
    (lambda d: d["filing"]["scope"][0].update(levels="4"), "filing.scope[0].levels: expected an array"),
    # The readings chosen once per type hint (issue 14) still look at every value.
    (lambda d: d["filing"].update(cohort=True), "filing.cohort: expected an integer"),
    (lambda d: d["filing"]["scope"][0].update(levels=[4, False]),
     "filing.scope[0].levels[1]: expected an integer"),
    (lambda d: d["filing"]["scope"].append("x"), "filing.scope[1]: expected an object"),
    (lambda d: d["filing"].update(city=1), "filing.city: expected a string"),
    (lambda d: d["filing"].update(legal_valid_until="soon"),
     "filing.legal_valid_until: expected a date"),
    (lambda d: d.update(filing=None), "filing: expected an object"),
])
def test_data_that_does_not_fit_names_the_field(change, message):
    data = {"filing": copy.deepcopy(FILING)}
    change(data)
    with pytest.raises(contracts.ContractError, match=message.replace("[", r"\[")):
        contracts.read({"type": "pinggu.registry.Institution.Filed.v1", "data": data})


def test_a_nullable_field_reads_null_and_a_written_contract_reads_back_the_same():
    data = {"filing": dict(FILING, city=None, legal_valid_until=None)}
    event = contracts.read({"type": "pinggu.registry.Institution.Filed.v1", "data": data})
    assert event.filing.city is None
    assert contracts.to_data(event) == data
    # A number (a score's total) is an int or a float, never a boolean.
    assert base._read(base.Number, 72.5, "total") == 72.5
    with pytest.raises(contracts.ContractError, match="total: expected a number"):
        base._read(base.Number, True, "total")


def test_a_type_without_a_contract_is_ignored_by_readers():
    assert contracts.read({"type": "pinggu.external.Unknown.v1", "data": {}}) is None


def test_schemas_accept_what_the_contract_writes_and_refuse_what_it_would_not():
    schema = contracts.json_schema(contracts.contract_for("pinggu.registry.Institution.Filed.v1"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    validator.validate({"filing": FILING})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"filing": dict(FILING, cohort="2020")})


def test_every_generated_schema_is_a_valid_2020_12_schema():
    for contract in contracts.all_events().values():
        jsonschema.Draft202012Validator.check_schema(contracts.json_schema(contract))


def test_sequence_orders_as_text_and_parses_as_before():
    positions = [5, 412, 1000, 10**12]
    texts = [integration.format_sequence(p) for p in positions]
    assert sorted(texts) == texts and all(len(t) == integration.SEQUENCE_DIGITS for t in texts)
    for text, position in zip(texts, positions):
        envelope = {"specversion": "1.0", "id": "x", "source": "/hr/x", "type": "t",
                    "sequence": text, "data": {}}
        assert integration.position_of(integration.parse(json.dumps(envelope))) == position
    assert integration.position_of({"sequence": "412"}) == 412  # unpadded, from others


def test_the_portal_serves_each_dataschema_as_committed():
    from services.notices import portal
    kind = "pinggu.decisions.Case.Decided.v1"
    status, content_type, body, _ = portal.route(None, contracts.schema_url(kind), {}, "")
    assert (status, content_type) == (200, "application/schema+json")
    assert body.decode() == (generate.SCHEMAS / f"{kind}.json").read_text(encoding="utf-8")
    status, _, body, _ = portal.route(None, "/schemas/index.json", {}, "")
    assert contracts.schema_url(kind) in json.loads(body)["schemas"]
    for missing in ("/schemas/pinggu.decisions.Case.Decided.v9.json", "/schemas/../x.json",
                    "/schemas/published.lock"):
        assert portal.route(None, missing, {}, "")[0] == 404
