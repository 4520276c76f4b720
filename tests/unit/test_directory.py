"""The operators' directory on the in-memory store: authorise, rotate, revoke, and the
development provisioning (services/registry/directory.py)."""
import dataclasses
import os
import stat

import pytest

from shared import config as config_module, tokens
from shared.errors import BadInput, Refused
from shared.metadata import caused_by
from services.registry import directory
from services.registry.application import Registry


@pytest.fixture
def registry():
    return Registry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def public():
    return tokens.public_bytes(tokens.new_private_key())


def test_rotate_retires_the_old_key_and_revoke_is_for_good(registry):
    first, second = public(), public()
    with caused_by("province", "province"):
        entry = directory.authorise(registry, "city-140100-wang", "city", "140100", "王五",
                                    first, "province")
        assert entry["key"] == tokens.key_id(first)
        with pytest.raises(Refused, match="already exists"):
            directory.authorise(registry, "city-140100-wang", "city", "140100", "", second,
                                "province")
        entry = directory.rotate(registry, "city-140100-wang", second, "province")
        assert entry["key"] == tokens.key_id(second)
        assert entry["keys"][tokens.key_id(first)]["retired"]
        entry = directory.revoke(registry, "city-140100-wang", "调离岗位", "province")
        assert entry["revoked"]["by"] == "province" and entry["version"] == 3
        with pytest.raises(Refused, match="revoked"):
            directory.rotate(registry, "city-140100-wang", public(), "province")


@pytest.mark.parametrize("role, jurisdiction", [("city", "140000"), ("province", "140100"),
                                                ("system", "140000"), ("mayor", None)])
def test_a_role_must_fit_its_jurisdiction(registry, role, jurisdiction):
    with caused_by("province", "province"), pytest.raises(BadInput):
        directory.authorise(registry, "x", role, jurisdiction, "", public(), "province")


def test_dev_provisioning_is_automatic_and_idempotent(registry, tmp_path):
    config = dataclasses.replace(config_module.load(), credentials_dir=str(tmp_path / "c"))
    with caused_by("bootstrap", "system"):
        changed = directory.provision_dev(registry, config)
        assert "province" in changed and "city-140100" in changed and len(changed) == 14
        path = os.path.join(config.credentials_dir, "city-140100.json")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        written = registry.recorder.max_notification_id()
        assert directory.provision_dev(registry, config) == []
        assert registry.recorder.max_notification_id() == written
        # A lost credentials directory: new keys, rotated in; a revoked operator stays so.
        directory.revoke(registry, "center", "test", "province")
        os.unlink(path)
        os.unlink(os.path.join(config.credentials_dir, "center.json"))
        assert directory.provision_dev(registry, config) == ["city-140100"]
