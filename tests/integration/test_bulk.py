"""shared.bulk.load_many gives what repository.get gives, for many ids in one query."""
import datetime
import uuid

from shared.application import case_id
from shared.bulk import load_many
from shared.metadata import caused_by
from services.registry.application import Filings, Registry
from tests import factories


def test_load_many_equals_loading_one_at_a_time(environment):
    config, _ = environment
    app = Registry(config)
    app.attach_projections([Filings])
    try:
        rows = [factories.institution(n).to_dict() for n in (8101, 8102, 8103)]
        with caused_by("province", "province", business_date=datetime.date(2023, 8, 28)):
            app.import_roster(rows)
            app.import_roster([dict(rows[0], name=rows[0]["name"] + "（更名）")])
        ids = [case_id(r["uscc"]) for r in rows]
        missing = uuid.uuid4()
        loaded = load_many(app, ids + [missing, ids[0]])
        assert set(loaded) == set(ids) | {missing}
        assert loaded[missing] is None
        assert loaded[ids[0]].version > 1  # a stream of more than one event
        for aggregate_id in ids:
            one = app.repository.get(aggregate_id)
            assert (loaded[aggregate_id].version, app.view(loaded[aggregate_id])) == \
                (one.version, app.view(one))
    finally:
        app.close()
