"""The events about operators rather than institutions (docs/events.md, "The operators'
directory and command journals"): the registry's directory of operators (identity.md),
which every service follows, and each service's journal of operators' commands."""
from shared.contracts.base import event


@event("pinggu.registry.Operator.Authorised.v1", "registry.Operator.Authorised",
       summary="An operator was authorised: the whole directory entry.")
class OperatorAuthorised:
    entry: dict  # id, role, jurisdiction, name, authorised, revoked, keys


@event("pinggu.registry.Operator.KeyRotated.v1", "registry.Operator.KeyRotated",
       summary="An operator's key was replaced: the whole directory entry after it.")
class OperatorKeyRotated:
    entry: dict


@event("pinggu.registry.Operator.Revoked.v1", "registry.Operator.Revoked",
       summary="An operator was revoked: the whole directory entry after it.")
class OperatorRevoked:
    entry: dict


def _journal(service):
    @event(f"pinggu.{service}.CommandJournal.Recorded.v1",
           f"{service}.CommandJournal.Recorded",
           summary=f"An operator's command ran once in the {service} service.")
    class CommandJournalRecorded:
        command_id: str
        method: str
        digest: str  # of the arguments
        result: str  # JSON text
    CommandJournalRecorded.__qualname__ = f"{service.title()}CommandJournalRecorded"
    return CommandJournalRecorded


JOURNALS = {service: _journal(service)
            for service in ("registry", "evaluation", "decisions", "notices")}
