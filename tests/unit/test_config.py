"""Production refuses what only development may use (issue 10, item 5); accounts are the
deployment's own; a published message's user must own what it claims (item 2)."""
import pytest

from shared import config, integration


def production(tmp_path, **extra):
    from services import provision
    provision.generate_keys(str(tmp_path / "keys"), "k1")
    env = {"PINGGU_MODE": "production", "PINGGU_ROLE": "registry",
           "PINGGU_AMQP_URI": "amqps://broker.example:5671/pinggu",
           "PINGGU_HISTORY_KEY_FILE": str(tmp_path / "keys" / "history.key"),
           "PINGGU_NOTARY_KEY_FILE": str(tmp_path / "keys" / "notary.key"),
           "PINGGU_BROKER_PASSWORD_REGISTRY": "s3cret-broker",
           "PINGGU_PG_PASSWORD_REGISTRY": "s3cret-db"}
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def test_production_with_its_own_keys_and_passwords_starts(tmp_path):
    loaded = config.load(production(tmp_path))
    loaded.check_production()
    # No development operators' credentials unless the one-off bootstrap asks for them.
    assert loaded.provision_dev_operators is False
    assert config.load({}).provision_dev_operators is True
    assert loaded.amqp_uri == "amqps://pinggu_registry:s3cret-broker@broker.example:5671/pinggu"
    assert loaded.pg_credentials() == ("pinggu_registry", "s3cret-db")


@pytest.mark.parametrize("change, complaint", [
    ({"PINGGU_HISTORY_KEY_FILE": None}, "history key is the development key"),
    ({"PINGGU_BROKER_PASSWORD_REGISTRY": None}, "PINGGU_BROKER_PASSWORD_REGISTRY is not set"),
    ({"PINGGU_PG_PASSWORD_REGISTRY": "pinggu-dev-registry"}, "development password"),
    ({"PINGGU_SIMULATED_CLOCK": "1"}, "simulated clock"),
    ({"PINGGU_AMQP_URI": "amqp://guest:guest@broker:5672/"}, "guest"),
])
def test_production_refuses_any_development_key_secret_or_password(tmp_path, change,
                                                                   complaint):
    env = production(tmp_path)
    for key, value in change.items():
        env.pop(key, None)
        if value is not None:
            env[key] = value
    with pytest.raises(config.ConfigError, match=complaint):
        config.load(env).check_production()


def test_production_refuses_the_development_notary_key_for_notices(tmp_path):
    env = production(tmp_path, PINGGU_ROLE="notices", PINGGU_NOTARY_KEY_FILE=None,
                     PINGGU_BROKER_PASSWORD_NOTICES="x1", PINGGU_PG_PASSWORD_NOTICES="x2")
    with pytest.raises(config.ConfigError, match="no notary key"):
        config.load(env).check_production()


def test_the_wall_clock_is_the_default():
    assert not config.load({}).allow_simulated_clock
    assert config.load({"PINGGU_SIMULATED_CLOCK": "1"}).allow_simulated_clock


def test_secrets_come_from_the_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# the registry's\nPINGGU_BROKER_PASSWORD_REGISTRY=from-file\n")
    loaded = config.load({"PINGGU_SECRETS_FILE": str(secrets), "PINGGU_ROLE": "registry"})
    assert loaded.broker_password("registry") == "from-file"
    assert loaded.broker_password("evaluation") == "pinggu-dev-evaluation"


SCORED = {"source": "/pinggu/evaluation", "type": "pinggu.evaluation.CaseFile.Scored.v1"}
LEGAL = {"source": "/hr/legal-registry", "type": "pinggu.external.LegalRegistration.v1"}


@pytest.mark.parametrize("user, envelope, key, allowed", [
    ("pinggu_evaluation", SCORED, "evaluation.CaseFile.Scored", True),
    ("pinggu_registry", SCORED, "evaluation.CaseFile.Scored", False),
    ("pinggu_hr-legal", SCORED, "evaluation.CaseFile.Scored", False),
    ("pinggu_cli", SCORED, "evaluation.CaseFile.Scored", False),
    ("pinggu_evaluation", SCORED, "decisions.inbox", False),
    ("guest", SCORED, "evaluation.CaseFile.Scored", False),
    (None, SCORED, "evaluation.CaseFile.Scored", False),
    ("other_evaluation", SCORED, "evaluation.CaseFile.Scored", False),
    ("pinggu_hr-legal", LEGAL, "external.LegalRegistration", True),
    ("pinggu_registry", LEGAL, "external.LegalRegistration", False),
])
def test_a_consumer_accepts_a_message_only_from_the_user_owning_it(user, envelope, key,
                                                                   allowed):
    loaded = config.load({})
    if allowed:
        integration.check_publisher(envelope, key, user, loaded)
    else:
        with pytest.raises(integration.PoisonMessage):
            integration.check_publisher(envelope, key, user, loaded)


def test_more_hr_systems_are_configured_each_with_its_own_user():
    from services import provision
    loaded = config.load({"PINGGU_HR_SYSTEMS": "hr-legal, hr-training"})
    assert loaded.owner_of("pinggu_hr-training") == "hr-training"
    users = {u["name"] for u in provision.broker_definitions(loaded)["users"]}
    assert {"pinggu_hr-legal", "pinggu_hr-training", "pinggu_cli"} <= users
    topics = {t["user"]: t["write"] for t in provision.broker_definitions(loaded)[
        "topic_permissions"]}
    assert topics["pinggu_hr-training"] == r"^external\." and topics["pinggu_cli"] == "^$"
    with pytest.raises(config.ConfigError, match="hr-"):
        config.load({"PINGGU_HR_SYSTEMS": "registry"})
