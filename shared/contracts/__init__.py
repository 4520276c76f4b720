"""The integration contract: one typed definition per event type and version.

Producers build an event's `data` from its contract (`data_of`), consumers read it back
typed (`read`), and `python -m shared.contracts.generate` writes the JSON Schemas
(docs/schemas/) and the AsyncAPI document (docs/asyncapi.yaml) from these definitions.
docs/events.md says what each field means; docs/integration.md how to subscribe.
"""
from shared.contracts import (decisions, evaluation, external, notices, operators,  # noqa: F401
                              registry)
from shared.contracts.base import (ABSENT, ContractError, all_events, contract_for,
                                   from_data, json_schema, of_event, schema_url, to_data)

__all__ = ["ABSENT", "ContractError", "all_events", "contract_for", "data_of", "from_data",
           "json_schema", "read", "schema_url", "to_data"]


def data_of(type_name, domain_event):
    """The `data` of the CloudEvent for a domain event, through its contract."""
    contract = contract_for(type_name)
    if contract is None:
        raise ContractError(f"no contract for {type_name}: add one to shared/contracts")
    return to_data(of_event(contract, domain_event))


def read(envelope):
    """The typed data of a CloudEvent (ContractError if it does not fit), or None for a
    type without a contract (consumers ignore types they do not know)."""
    contract = contract_for(envelope["type"])
    return None if contract is None else from_data(contract, envelope["data"])
