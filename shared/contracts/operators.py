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


@event("pinggu.registry.Operator.PasswordSet.v1", "registry.Operator.PasswordSet",
       summary="An operator's desk password was set (when and by whom, never the password "
               "or its hash) and their sign-in unlocked: the whole directory entry after it.")
class OperatorPasswordSet:
    entry: dict  # adds password {set_at, by} and sign_in {failures, locked}


@event("pinggu.registry.Operator.SignInFailed.v1", "registry.Operator.SignInFailed",
       summary="A wrong desk password: the entry's sign_in counts it, and is locked at the "
               "fifth in a row.")
class OperatorSignInFailed:
    entry: dict


@event("pinggu.registry.Operator.SignedIn.v1", "registry.Operator.SignedIn",
       summary="A right desk password after wrong ones: the entry's count starts again.")
class OperatorSignedIn:
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
