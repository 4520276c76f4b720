"""The identifiers every service gives the same thing: an institution's case and a campaign.

A case is named by the institution's USCC and a campaign by its notice's number, so each
service derives the same id on its own (uuid5) and their events line up without a lookup.
The namespaces are fixed forever: changing one would orphan every stored aggregate.
"""
import uuid

CASE_NAMESPACE = uuid.UUID("6f1f2a5e-2023-4223-9a1e-000000000223")
CAMPAIGN_NAMESPACE = uuid.UUID("6f1f2a5e-2023-4223-9a1e-00000000ca11")


def case_id(uscc):
    """The one id of an institution's case in every service."""
    return uuid.uuid5(CASE_NAMESPACE, uscc)


def campaign_id(notice):
    """The one id of a campaign in every service."""
    return uuid.uuid5(CAMPAIGN_NAMESPACE, notice)
