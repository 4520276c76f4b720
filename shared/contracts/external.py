"""The facts other provincial HR systems publish (docs/events.md, "Consumed events"),
under `external.*` routing keys: the legal-person registration (四(二)2) and the yearly
certification activity (四(一)1).

These contracts state the shape only; shared.language.uscc and the registry check the
values (services/registry/facts.py). `reported_on` orders the reports of one institution:
the newest report wins whatever order they arrive in."""
from shared.contracts.base import Date, absent, event
from shared.contracts.registry import ActivityRow


@event("pinggu.external.LegalRegistration.v1", "external.LegalRegistration",
       summary="The legal-person registration (法人登记) status, from 民政 or 市场监管.")
class LegalRegistration:
    uscc: str
    status: str  # valid, expired, annual-report-problem (or 有效, 已过期, 年报异常)
    reported_on: Date
    legal_valid_until: Date | None = absent()


@event("pinggu.external.CertificationActivity.v1", "external.CertificationActivity",
       summary="The certificates an institution issued in one year.")
class CertificationActivity:
    uscc: str
    year: int
    rows: list[ActivityRow]
    reported_on: Date = absent()

