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
    conn.close()
    vhosts = subprocess.run(["rabbitmqctl", "-q", "list_vhosts", "name"], capture_output=True,
                            text=True, timeout=60).stdout.split()
    for vhost in vhosts:
        if vhost.startswith(PREFIX) and not _owner_alive(vhost):
            rabbitmqctl("delete_vhost", vhost)


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


class Cluster:
    def __init__(self, name=None, http_port=None):
        # The creating process's pid is in the name: what a dead run leaves is found by it.
        self.name = name or f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.vhost = self.name
        self.http_port = http_port or free_port()
        self.env = dict(
            os.environ,
            PINGGU_AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
            PINGGU_PG_DBNAME=self.name,
            PINGGU_HTTP_PORT=str(self.http_port),
            PINGGU_LOG_JSON="1",
            PINGGU_ALLOW_SIMULATED_CLOCK="1",
        )
        self.env.pop("PINGGU_OPERATOR", None)
        self.processes = {}
        self.logdir = os.path.join(ROOT, "var", "test-logs", self.name)

    # -- lifecycle -------------------------------------------------------------------
    def create(self):
        os.makedirs(self.logdir, exist_ok=True)
        rabbitmqctl("add_vhost", self.vhost)
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        return self

    def destroy(self):
        self.stop_all()
        try:
            rabbitmqctl("delete_vhost", self.vhost)
        except subprocess.CalledProcessError:
            pass
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
        return self

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
        self.cli("clock", "set", on, operator="province", check=True)
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
    def cli(self, *args, operator=None, check=False, timeout=120):
        env = dict(self.env)
        if operator:
            env["PINGGU_OPERATOR"] = operator
        result = subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"pinggu {' '.join(args)} exited {result.returncode}: "
                                 f"{result.stderr}")
        return result.returncode, result.stdout, result.stderr

    def cli_json(self, *args, operator="province"):
        rc, out, err = self.cli(*args, "--json", operator=operator, check=True)
        return json.loads(out)

    def sql(self, statement, params=()):
        conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=self.name)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement, params or None)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()


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
