"""A real cluster for tests: the four services as processes on the machine's RabbitMQ and
PostgreSQL, in a database and a RabbitMQ virtual host of their own, removed afterwards."""
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import unquote, urlsplit

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = ("registry", "evaluation", "decisions", "notices")


def _die_with_parent():
    """A service started by a test dies with the test process, even one that is killed
    (Linux's PR_SET_PDEATHSIG), so no cluster outlives the run that started it."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


class _Launcher:
    """Starts the services from one thread that lives as long as the test process.

    Linux ties PR_SET_PDEATHSIG to the thread that forked, not to the process: a service
    restarted from a helper thread (a fault-injection run) would be killed the moment that
    thread ended."""

    def __init__(self):
        self._requests = queue.Queue()
        self._lock = threading.Lock()
        self._thread = None

    def popen(self, *args, **kwargs):
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, daemon=True,
                                                name="service-launcher")
                self._thread.start()
        answer = queue.Queue(maxsize=1)
        self._requests.put((args, kwargs, answer))
        ok, value = answer.get()
        if not ok:
            raise value
        return value

    def _serve(self):
        while True:
            args, kwargs, answer = self._requests.get()
            try:
                answer.put((True, subprocess.Popen(*args, preexec_fn=_die_with_parent,
                                                   **kwargs)))
            except BaseException as exc:  # handed to the caller, raised in its thread
                answer.put((False, exc))


_launcher = _Launcher()


PREFIX = "pinggu_test_"
# The broker users and database roles of this test run (services/provision.py): shared by
# its clusters (each permitted on its own vhost and database), removed when the run ends.
ACCOUNT_PREFIX = f"{PREFIX}{os.getpid()}_"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _owner_alive(name):
    try:
        pid = int(name[len(PREFIX):].split("_")[0])
    except ValueError:
        return False  # an older naming scheme: nobody owns it any more
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_stale_clusters():
    """Drop the databases and vhosts of test clusters whose creating process is gone (a
    run killed before it could clean up); a live run's clusters are never touched."""
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",))
        for (name,) in cur.fetchall():
            if not _owner_alive(name):
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (PREFIX + "%",))
        for (name,) in cur.fetchall():
            if not _owner_alive(name):
                try:
                    cur.execute(f'DROP ROLE IF EXISTS "{name}"')
                except psycopg2.Error:
                    pass  # still granted in a live run's database
    conn.close()
    vhosts = subprocess.run(["rabbitmqctl", "-q", "list_vhosts", "name"], capture_output=True,
                            text=True, timeout=60).stdout.split()
    for vhost in vhosts:
        if vhost.startswith(PREFIX) and not _owner_alive(vhost):
            rabbitmqctl("delete_vhost", vhost)
    users = subprocess.run(["rabbitmqctl", "-q", "list_users", "--no-table-headers"],
                           capture_output=True, text=True, timeout=60).stdout.split("\n")
    for line in users:
        user = line.split("\t")[0].strip()
        if user.startswith(PREFIX) and not _owner_alive(user):
            subprocess.run(["rabbitmqctl", "-q", "delete_user", user], capture_output=True,
                           timeout=60)


_ACCOUNTS = {"made": False}


def remove_own_accounts():
    """The run's broker users and database roles, once its clusters are gone."""
    if not _ACCOUNTS["made"]:
        return
    from services import provision
    from shared import config
    accounts = config.load({"PINGGU_ACCOUNT_PREFIX": ACCOUNT_PREFIX})
    provision.remove_broker_users(accounts)
    provision.remove_database_roles(accounts)


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


# What the clusters of this run published that breaks its published JSON Schema
# (Cluster.invalid_events, read when a cluster is destroyed; tests/conftest.py fails on it).
CONTRACT_PROBLEMS = []


class Cluster:
    def __init__(self, name=None, http_port=None):
        # The creating process's pid is in the name: what a dead run leaves is found by it.
        self.name = name or f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.vhost = self.name
        self.http_port = http_port or free_port()
        self.desk_port = free_port()
        self.env = dict(
            os.environ,
            PINGGU_AMQP_URI=f"amqp://127.0.0.1:5672/{self.vhost}",
            PINGGU_ACCOUNT_PREFIX=ACCOUNT_PREFIX,
            PINGGU_PG_DBNAME=self.name,
            PINGGU_HTTP_PORT=str(self.http_port),
            PINGGU_DESK_PORT=str(self.desk_port),
            PINGGU_LOG_JSON="1",
            PINGGU_SIMULATED_CLOCK="1",
            # The cluster provisions the dev operators' credentials here for the test run
            # (services/registry/directory.py); the CLI signs with them.
            PINGGU_CREDENTIALS=os.path.join(ROOT, "var", "test-logs", self.name, "credentials"),
            PINGGU_PROVISION_DEV_OPERATORS="1",
        )
        for name in ("PINGGU_OPERATOR", "PINGGU_ROLE", "PINGGU_PG_USER", "PINGGU_MODE"):
            self.env.pop(name, None)
        self.processes = {}
        self.logdir = os.path.join(ROOT, "var", "test-logs", self.name)

    # -- lifecycle -------------------------------------------------------------------
    def create(self):
        from services import provision
        os.makedirs(self.logdir, exist_ok=True)
        # As production does (docs/security.md): the vhost with the run's users and their
        # permissions on it, the database with the services' roles and event tables.
        _ACCOUNTS["made"] = True
        provision.provision_broker(self.config())
        provision.provision_database(self.config())
        return self

    def config(self, role=None):
        from shared import config
        return config.load(dict(self.env, PINGGU_ROLE=role) if role else self.env)

    def amqp_uri(self, role):
        """The broker URI with `role`'s own credentials (a service, hr-legal, cli)."""
        return self.config().amqp_uri_for(role)

    def publish(self, role, routing_key, body, content_type="application/cloudevents+json",
                user_id=True, exchange="pinggu.events", **properties):
        """Publish as `role` would: its own user, and the user_id the broker checks
        (user_id=None leaves it out, a string claims another)."""
        from kombu import Connection, Exchange, Producer
        if user_id is True:
            user_id = self.config().account(role)
        if user_id is not None:
            properties["user_id"] = user_id
        with Connection(self.amqp_uri(role),
                        transport_options={"confirm_publish": True}) as conn:
            # No declaring: an HR system may not configure the exchange, only publish.
            Producer(conn.channel(), exchange=Exchange(exchange, type="topic" if exchange
                                                       else "direct"),
                     auto_declare=False).publish(
                body, routing_key=routing_key, content_type=content_type,
                content_encoding="utf-8", delivery_mode=2, retry=False, **properties)

    def set_clock(self, date):
        """The simulated date; a rewind, which pinggu refuses once cases exist, is done as
        the database's administrator would (and shows in `pinggu clock history`), so the
        tests sharing one cluster can each start their story on the notice's dates."""
        rc, out, err = self.cli("clock", "set", date, operator="province")
        if rc == 2 and "backwards" in err:
            self.cli("settle", check=True)
            self.sql("INSERT INTO cluster.clock_moves (moved_by, from_date, to_date, "
                     "simulated) SELECT 'test-administrator', COALESCE((SELECT to_date FROM "
                     "cluster.clock_moves ORDER BY sequence DESC LIMIT 1), %s), %s, true",
                     (date, date))
            time.sleep(0.6)  # shared/clock.py CACHE_SECONDS
        elif rc != 0:
            raise AssertionError(f"pinggu clock set {date} exited {rc}: {err}")

    def destroy(self):
        import amqp
        self.stop_all()
        try:
            CONTRACT_PROBLEMS.extend(f"{self.name}: {p}" for p in self.invalid_events())
        except (OSError, amqp.exceptions.AMQPError) as exc:
            # The broker unreachable or the vhost gone (a chaos run): nothing to read.
            print(f"{self.name}: the event log could not be read: {exc}", file=sys.stderr)
        try:
            rabbitmqctl("delete_vhost", self.vhost)
        except subprocess.CalledProcessError:
            pass
        self.drop_database()

    def drop_database(self):
        conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        conn.close()

    def start(self, *services, instance="", wait=True):
        services = services or SERVICES
        for service in services:
            key = service + instance
            log = open(os.path.join(self.logdir, f"{key}.log"), "ab")
            self.processes[key] = _launcher.popen(
                [sys.executable, "-m", "services.run", service], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_healthy(services)
            if "notices" in services and "portal" not in self.processes:
                self.start_portal()
        return self

    def start_portal(self):
        """The public portal's own process (services/portal_server.py), on http_port."""
        log = open(os.path.join(self.logdir, "portal.log"), "ab")
        self.processes["portal"] = _launcher.popen(
            [sys.executable, "-m", "services.portal_server"], cwd=ROOT, env=self.env,
            stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._portal_up, timeout=60, what="the portal")

    def start_desk(self):
        """The operators' desk's own process (services/desk/server.py), on desk_port."""
        log = open(os.path.join(self.logdir, "desk.log"), "ab")
        self.processes["desk"] = _launcher.popen(
            [sys.executable, "-m", "services.desk.server"], cwd=ROOT, env=self.env,
            stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._up(f"http://127.0.0.1:{self.desk_port}/health"), timeout=60,
                 what="the desk")
        return f"http://127.0.0.1:{self.desk_port}"

    def _up(self, url):
        import urllib.request
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def _portal_up(self):
        import urllib.request
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/health",
                                        timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def wait_healthy(self, services=SERVICES, timeout=60):
        rc, out, err = self.cli("health", "--wait", str(timeout), "--json")
        status = json.loads(out) if out else {}
        down = [s for s in services if not status.get(s, {}).get("ok")]
        assert not down, f"services not up: {down}: {err}"
        # Each service declares its inbox queue as it starts; wait until bound, so no
        # event published from now on is missed by a consumer that is still starting.
        time.sleep(0.5)

    def open_campaign(self, on="2023-08-28"):
        """The 2023 campaign, opened on the notice's date."""
        self.set_clock(on)
        self.cli("campaign", "open", operator="province", check=True)
        return self

    def kill(self, key, sig=signal.SIGKILL):
        process = self.processes.pop(key)
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._dump_stacks(key, process.pid)
            process.kill()  # the service's own stop timeout failed; do not leak it
            process.wait(timeout=30)
            raise AssertionError(f"{key} did not stop on signal {sig}")

    def _dump_stacks(self, key, pid):
        """Where a hung service is stuck, into its log (py-spy, where installed)."""
        spy = os.path.join(os.path.dirname(sys.executable), "py-spy")
        if os.path.exists(spy):
            with open(os.path.join(self.logdir, f"{key}.log"), "ab") as log:
                log.write(b"\n=== hung on stop: py-spy dump ===\n")
                subprocess.run([spy, "dump", "--pid", str(pid)], stdout=log,
                               stderr=subprocess.STDOUT, timeout=60)

    def stop_all(self):
        for key in list(self.processes):
            self.kill(key, signal.SIGTERM)

    # -- use -------------------------------------------------------------------------
    def cli(self, *args, operator=None, check=False, timeout=120, input=None):
        env = dict(self.env)
        env.setdefault("PINGGU_LANG", "en")  # the tests read the English messages
        if operator:
            env["PINGGU_OPERATOR"] = operator
        result = subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=timeout,
                                input=input)
        if check and result.returncode != 0:
            raise AssertionError(f"pinggu {' '.join(args)} exited {result.returncode}: "
                                 f"{result.stderr}")
        return result.returncode, result.stdout, result.stderr

    def cli_json(self, *args, operator="province"):
        rc, out, err = self.cli(*args, "--json", operator=operator, check=True)
        return json.loads(out)

    def tamper(self, statement, params=()):
        """Run `statement` as an attacker holding the database's superuser would: past the
        event tables' append-only triggers (session_replication_role)."""
        return self.sql("SET LOCAL session_replication_role = replica; " + statement, params)

    def sql(self, statement, params=()):
        conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=self.name)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement, params or None)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()


    def stream_events(self, role="hr-legal", idle_seconds=1.0):
        """Every message of the replayable log (provision's stream), from the first offset,
        read as an integrator reads it: [(routing key, body as text, user_id), ...]."""
        import socket
        import amqp
        parts = urlsplit(self.amqp_uri(role))
        conn = amqp.Connection(host=f"{parts.hostname}:{parts.port or 5672}",
                               userid=unquote(parts.username), password=unquote(parts.password),
                               virtual_host=self.vhost)
        conn.connect()
        out = []
        try:
            channel = conn.channel()
            channel.basic_qos(0, 1000, False)  # a stream is consumed with a prefetch

            def on_message(message):
                body = message.body  # py-amqp decodes a utf-8 body already
                out.append((message.delivery_info["routing_key"],
                            body.decode() if isinstance(body, bytes) else body,
                            message.properties.get("user_id")))
                channel.basic_ack(message.delivery_tag)
            channel.basic_consume("pinggu.events.log", callback=on_message,
                                  arguments={"x-stream-offset": "first"})
            while True:
                try:
                    conn.drain_events(timeout=idle_seconds)
                except socket.timeout:
                    return out
        finally:
            conn.close()

    def _stream_envelopes(self):
        """(routing key, CloudEvent, user_id) of every event on the log, a batched
        message's one by one; a body that is not JSON is left out."""
        for routing_key, body, user_id in self.stream_events():
            try:
                decoded = json.loads(body)
            except ValueError:
                continue
            for envelope in decoded if isinstance(decoded, list) else [decoded]:
                yield routing_key, envelope, user_id

    def invalid_events(self):
        """The events of the log whose data does not validate against its type's published
        JSON Schema (docs/schemas), as readable lines. Only what the services' outboxes
        published: their own account, and the id the outbox derives (shared.integration
        event_id); what others sent, forged or injected by a test, is not theirs."""
        import jsonschema
        from shared import contracts, integration
        validators, problems = {}, []
        config = self.config()
        for routing_key, envelope, user_id in self._stream_envelopes():
            try:
                service = envelope["source"].split("/")[2]
            except (ValueError, KeyError, IndexError, AttributeError, TypeError):
                continue  # not a CloudEvent of pinggu's
            if service not in SERVICES or user_id != config.account(service) or \
                    envelope.get("id") != integration.event_id(
                        service, envelope.get("subject"), envelope.get("caseversion")):
                continue  # not what a service's outbox published (others', tests' poison)
            kind = envelope["type"]
            if kind not in validators:
                path = os.path.join(ROOT, "docs", "schemas", f"{kind}.json")
                if not os.path.exists(path):
                    problems.append(f"{kind}: no published schema")
                    validators[kind] = None
                    continue
                with open(path, encoding="utf-8") as f:
                    validators[kind] = jsonschema.Draft202012Validator(
                        json.load(f), format_checker=jsonschema.FormatChecker())
            if validators[kind] is None:
                continue
            if envelope.get("dataschema") != contracts.schema_url(kind):
                problems.append(f"{kind} {envelope['id']}: dataschema {envelope.get('dataschema')}")
            for error in validators[kind].iter_errors(envelope["data"]):
                problems.append(f"{kind} {envelope['id']}: {'/'.join(map(str, error.path))}: "
                                f"{error.message[:200]}")
        return problems

    def terminate_backends(self):
        """End every PostgreSQL session of this cluster's database (and of no other)."""
        return self.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (self.name,))[0][0]


def wait_for(predicate, timeout=30, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
