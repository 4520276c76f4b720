"""audit verify checks each link under the key it names, so history linked before a key
rotation still verifies, and stops verifying once that key is dropped."""
import datetime

from shared import audit, chain
from shared.metadata import caused_by
from services.registry.application import Registry
from tests import factories


def _verify(app):
    problems, token, done = [], None, False
    while not done:
        found, token, done, _ = audit.verify_chains(app, token, limit=3)
        problems += found
    return problems


def test_links_made_before_a_key_rotation_verify_until_the_key_is_dropped(environment):
    from shared import config
    config_, _ = environment
    app = Registry(config_)
    try:
        row = factories.institution(8801)
        with caused_by("province", "province", business_date=datetime.date(2023, 8, 28)):
            app.import_roster([row.to_dict(), factories.institution(8802).to_dict()])
            chain.configure({"k2": b"new" * 11, "dev": config.DEV_HISTORY_KEY}, "k2")
            app.import_roster([dict(row.to_dict(), name="改名后的学校")])
        assert _verify(app) == []
        chain.configure({"k2": b"new" * 11}, "k2")
        assert {p["problem"] for p in _verify(app)} == {
            "content does not match its hash (altered?)"}
    finally:
        chain.configure({"dev": config.DEV_HISTORY_KEY}, "dev")
        app.close()
