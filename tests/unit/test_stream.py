"""The replayable log as provisioned (services/provision.py): a stream bound to every
routing key, its retention a policy from configuration, readable by the HR systems only."""
import re

import pytest

from services import provision
from shared import config


def test_the_stream_is_bound_to_everything_and_kept_by_a_retention_policy(monkeypatch):
    monkeypatch.setenv("PINGGU_STREAM_MAX_AGE", "3Y")
    monkeypatch.setenv("PINGGU_STREAM_MAX_BYTES", "1000000")
    definitions = provision.broker_definitions(config.load({}))
    (queue,) = definitions["queues"]
    assert (queue["name"], queue["arguments"]) == ("pinggu.events.log",
                                                   {"x-queue-type": "stream"})
    (binding,) = definitions["bindings"]
    assert (binding["source"], binding["routing_key"]) == ("pinggu.events", "#")
    (policy,) = definitions["policies"]
    assert re.fullmatch(policy["pattern"], "pinggu.events.log")
    assert policy["definition"] == {"max-age": "3Y", "max-length-bytes": 1000000}


@pytest.mark.parametrize("name,value", [("PINGGU_STREAM_MAX_AGE", "ten years"),
                                        ("PINGGU_STREAM_MAX_AGE", "10W"),
                                        ("PINGGU_STREAM_MAX_BYTES", "-1"),
                                        ("PINGGU_STREAM_MAX_BYTES", "20GB")])
def test_a_bad_retention_is_refused_with_its_setting_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError, match=name):
        provision.stream_retention()


def test_hr_systems_read_the_stream_and_nothing_else():
    loaded = config.load({})
    (configure, write, read), _ = provision.broker_permissions(loaded, "hr-legal")
    assert re.fullmatch(read, "pinggu.events.log")
    for other in ("registry.inbox", "registry.dead-letter", "pinggu.events.logx",
                  "nameko-rpc"):
        assert not re.fullmatch(read, other), other
    assert configure == "^$"  # it may not declare, so not re-bind, anything
