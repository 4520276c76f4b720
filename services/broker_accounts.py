"""The broker's part of provisioning (services/provision.py, docs/security.md): the users
of one deployment, their permissions, the replayable log (the stream) and its retention,
posted to RabbitMQ as one definitions document."""
import base64
import hashlib
import json
import os
import re
import subprocess
from urllib.parse import unquote, urlsplit

from shared import config as config_module
from shared.config import SERVICES

RPC_EXCHANGE = "nameko-rpc"


# -- the broker ------------------------------------------------------------------------
def vhost_of(config):
    path = urlsplit(config.amqp_uri_base).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def password_hash(password):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def broker_permissions(config, role):
    """(configure, write, read) regexes on the vhost, and (write, read) topic regexes on
    the events exchange, of one role."""
    events = config.exchange.replace(".", r"\.")
    rpc = r"nameko-rpc|rpc\.reply-.*"
    if role in SERVICES:
        return ((".*", rf"^({events}|{events}\.dead|{rpc}|rpc-.*|[a-z-]+\.(inbox|dead-letter|directory)"
                 rf"|{role}\..*)$",
                 ".*"), (rf"^{role}\.", ".*"))
    if role.startswith("hr-"):
        return (("^$", rf"^{events}$", rf"^{re.escape(stream_name(config))}$"),
                (r"^external\.", "^$"))
    return ((rf"^({rpc})$", rf"^({rpc})$", rf"^({rpc})$"), ("^$", "^$"))  # the CLI, the desk


def stream_name(config):
    return f"{config.exchange}.log"


def stream_retention(environ=None):
    """The stream's retention policy: RabbitMQ drops whole segments older than max-age or
    beyond max-length-bytes. The defaults keep a campaign's history for years."""
    environ = os.environ if environ is None else environ
    max_bytes = environ.get("PINGGU_STREAM_MAX_BYTES", str(20 * 1024 ** 3))
    if not max_bytes.isdigit() or int(max_bytes) <= 0:
        raise config_module.ConfigError(f"PINGGU_STREAM_MAX_BYTES: a positive number of "
                                        f"bytes, not {max_bytes!r}")
    max_age = environ.get("PINGGU_STREAM_MAX_AGE", "10Y")
    if not (max_age[:-1].isdigit() and max_age[-1] in "YMDhms"):
        raise config_module.ConfigError(f"PINGGU_STREAM_MAX_AGE: a number and a unit of "
                                        f"Y, M, D, h, m, s (e.g. 10Y), not {max_age!r}")
    return {"max-age": max_age, "max-length-bytes": int(max_bytes)}


def stream_definitions(config, vhost):
    """The replayable log: every event published on the exchange, kept for its retention,
    readable from any offset by the integrators (hr-* accounts)."""
    stream = stream_name(config)
    return {
        "exchanges": [{"name": config.exchange, "vhost": vhost, "type": "topic",
                       "durable": True, "auto_delete": False, "internal": False,
                       "arguments": {}}],
        "queues": [{"name": stream, "vhost": vhost, "durable": True, "auto_delete": False,
                    "arguments": {"x-queue-type": "stream"}}],
        "bindings": [{"source": config.exchange, "vhost": vhost, "destination": stream,
                      "destination_type": "queue", "routing_key": "#", "arguments": {}}],
        "policies": [{"vhost": vhost, "name": f"{stream}.retention",
                      "pattern": f"^{re.escape(stream)}$", "apply-to": "queues",
                      "priority": 0, "definition": stream_retention()}],
    }


def broker_roles(config):
    return (*SERVICES, *config.hr_systems, "cli", "desk")


def broker_definitions(config):
    vhost = vhost_of(config)
    definitions = {"users": [], "vhosts": [{"name": vhost}], "permissions": [],
                   "topic_permissions": []}
    for role in broker_roles(config):
        user = config.account(role)
        (configure, write, read), (topic_write, topic_read) = broker_permissions(config, role)
        definitions["users"].append({
            "name": user, "password_hash": password_hash(config.broker_password(role)),
            "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ""})
        definitions["permissions"].append({"user": user, "vhost": vhost, "configure": configure,
                                           "write": write, "read": read})
        definitions["topic_permissions"].append({
            "user": user, "vhost": vhost, "exchange": config.exchange,
            "write": topic_write, "read": topic_read})
    definitions.update(stream_definitions(config, vhost))
    return definitions


def provision_broker(config):
    """Create or update the users and their permissions on the deployment's vhost: through
    the management API when PINGGU_RABBITMQ_API names one (a remote broker, a container),
    else with the local `rabbitmqctl`."""
    api = os.environ.get("PINGGU_RABBITMQ_API")
    if api:
        return _post_definitions(api, broker_definitions(config))
    # On stdin: no file of password hashes left behind (nor one the broker cannot read).
    subprocess.run(["rabbitmqctl", "-q", "import_definitions", "--format", "json"],
                   input=json.dumps(broker_definitions(config)).encode(), check=True,
                   capture_output=True, timeout=120)


def _post_definitions(api, definitions):
    import urllib.request
    user = os.environ.get("PINGGU_RABBITMQ_ADMIN_USER", "")
    password = os.environ.get("PINGGU_RABBITMQ_ADMIN_PASSWORD", "")
    request = urllib.request.Request(
        api.rstrip("/") + "/api/definitions", data=json.dumps(definitions).encode(),
        method="POST", headers={"content-type": "application/json", "authorization": "Basic "
                                + base64.b64encode(f"{user}:{password}".encode()).decode()})
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def remove_broker_users(config):
    """Delete the deployment's users (test clusters, when their run ends)."""
    for role in broker_roles(config):
        subprocess.run(["rabbitmqctl", "-q", "delete_user", config.account(role)],
                       capture_output=True, timeout=60)
