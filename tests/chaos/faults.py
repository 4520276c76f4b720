"""The faults, each confined to one test cluster: its processes, the connections of its
RabbitMQ virtual host, the backends of its PostgreSQL database. Only the server restarts
touch the machine's servers, and they run only when asked for (--with-server-restarts)."""
import collections
import contextlib
import os
import random
import signal
import subprocess
import threading
import time

from tests.support import SERVICES

TAP = "registry.chaos-tap"  # the registry user may bind its own queues


class Faults:
    """Injects faults into `cluster` from a thread of its own while the campaign runs, and
    restarts what died, as supervisord would. Counts what it did in `injected`."""

    def __init__(self, cluster, seed, *, interval=(4.0, 9.0), server_restarts=False,
                 commit_kills=3, log=print):
        self.cluster = cluster
        self.rng = random.Random(seed)
        self.interval = interval
        self.server_restarts = server_restarts
        self.log = log
        self.injected = collections.Counter()
        self.held = set()  # processes kept down on purpose (a backlog)
        self.stopping = threading.Event()
        self.lock = threading.RLock()
        self.commit_kills = commit_kills
        self._mark = self._counted = 0
        self.redelivered = 0  # messages, not faults
        self._arm_commit_kill()

    # -- the commit/ack hook (shared/faults.py) ----------------------------------------
    def _arm_commit_kill(self):
        """Arm the test-only hook: the next evaluation process to commit a submission dies
        before it answers; armed again after each restart, `commit_kills` times."""
        self._mark += 1
        self.cluster.env["PINGGU_FAULT_KILL_AT"] = "evaluation.submit.committed"
        self.cluster.env["PINGGU_FAULT_MARK"] = os.path.join(self.cluster.logdir,
                                                             f"fault-mark-{self._mark}")

    def _commit_kill_fired(self):
        mark = self.cluster.env.get("PINGGU_FAULT_MARK")
        return bool(mark) and os.path.exists(mark)

    # -- the loops ---------------------------------------------------------------------
    def start(self):
        """Start (or after `stop`, resume) injecting."""
        self.stopping.clear()
        if self.commit_kills > 0 and "PINGGU_FAULT_KILL_AT" not in self.cluster.env:
            self._arm_commit_kill()
        self.tap()
        self.threads = [threading.Thread(target=self._supervise, daemon=True),
                        threading.Thread(target=self._inject, daemon=True)]
        for thread in self.threads:
            thread.start()
        return self

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)
        self.held.clear()
        self._restart_dead()
        self.cluster.env.pop("PINGGU_FAULT_KILL_AT", None)

    def _supervise(self):
        while not self.stopping.wait(0.5):
            try:
                self._restart_dead()
            except Exception as exc:  # a restart that failed is tried again
                self.log(f"  supervise: {exc!r}")

    def _restart_dead(self):
        with self.lock:
            for key, process in list(self.cluster.processes.items()):
                if process.poll() is None or key in self.held:
                    continue
                if key.endswith("2"):  # a second instance killed: the first goes on
                    self.cluster.processes.pop(key)
                    continue
                if self._commit_kill_fired() and self._counted != self._mark:
                    self._counted = self._mark
                    self.injected["SIGKILL between commit and ack (hook)"] += 1
                    self.commit_kills -= 1
                    if self.commit_kills > 0:
                        self._arm_commit_kill()
                    else:
                        self.cluster.env.pop("PINGGU_FAULT_KILL_AT", None)
                self.restart(key)

    def restart(self, key):
        self.cluster.processes.pop(key, None)
        service, instance = key.rstrip("2"), "2" if key.endswith("2") else ""
        # No waiting for the whole cluster: another service may be down at this moment.
        self.cluster.start(service, instance=instance, wait=False)

    def _inject(self):
        kinds = [self.kill_random, self.kill_random, self.terminate_backends,
                 self.redeliver, self.backlog, self.kill_one_of_two]
        restarts = [self.restart_rabbitmq, self.restart_postgresql] if self.server_restarts \
            else []
        while not self.stopping.wait(self.rng.uniform(*self.interval)):
            fault = restarts.pop(0) if restarts and self.injected.total() >= 6 \
                else self.rng.choice(kinds)
            try:
                fault()
            except Exception as exc:
                self.log(f"  fault {fault.__name__} failed: {exc!r}")

    # -- the faults --------------------------------------------------------------------
    def kill_random(self):
        with self.lock:
            key = self.rng.choice(sorted(k for k, p in self.cluster.processes.items()
                                         if p.poll() is None))
            self.cluster.processes[key].send_signal(signal.SIGKILL)
        self.injected["SIGKILL of a random service"] += 1
        self.log(f"  fault: SIGKILL {key}")

    def kill_one_of_two(self):
        """A second instance of a service, then one of the two killed mid-flow. At most
        one second instance runs at a time: PostgreSQL's connections are shared by every
        cluster on the machine."""
        service = self.rng.choice(SERVICES)
        with self.lock:
            for key in [k for k in self.cluster.processes if k.endswith("2")]:
                self.cluster.kill(key, signal.SIGTERM)
            self.cluster.start(service, instance="2", wait=False)
        self.stopping.wait(3.0)  # let it start consuming
        with self.lock:
            key = self.rng.choice([service, service + "2"])
            process = self.cluster.processes.get(key)
            if process is not None:
                process.send_signal(signal.SIGKILL)
        self.injected["two instances, one killed"] += 1
        self.log(f"  fault: two instances of {service}, SIGKILL {key}")

    def terminate_backends(self):
        count = self.cluster.terminate_backends()
        self.injected["PostgreSQL backends terminated"] += 1
        self.log(f"  fault: {count} PostgreSQL backends terminated")

    def backlog(self, seconds=8.0):
        """decisions down while the others go on: a backlog in its inbox, then drained."""
        keys = [k for k in self.cluster.processes if k.rstrip("2") == "decisions"]
        with self.lock:
            self.held.update(keys)
            for key in keys:
                self.cluster.processes[key].send_signal(signal.SIGKILL)
        self.stopping.wait(seconds)
        waiting = self.queue_depths().get("decisions.inbox", 0)
        with self.lock:
            self.held.difference_update(keys)
        self.injected["backlog (decisions down)"] += 1
        self.log(f"  fault: backlog of {waiting} messages for decisions")

    def close_connections(self):
        """Force-close every broker connection of this cluster's virtual host (and of no
        other: --vhost, never --global)."""
        done = subprocess.run(["rabbitmqctl", "-q", "close_all_connections", "--vhost",
                               self.cluster.vhost, "--limit", "1000", "chaos"],
                              capture_output=True, text=True, timeout=60)
        self.injected["broker connections force-closed"] += 1
        self.log(f"  fault: broker connections of {self.cluster.vhost} force-closed "
                 f"(exit {done.returncode})")

    @contextlib.contextmanager
    def during_submit(self, kind):
        """Close the broker connections while a submission is in flight."""
        timer = threading.Timer(self.rng.uniform(0.3, 1.5), self.close_connections)
        timer.start()
        try:
            yield
        finally:
            timer.join()

    # -- redelivery: consumed messages published again ----------------------------------
    # As the deployment's own users (docs/security.md): the tap is the registry's queue, and
    # a copy goes out again as the user that first published it, with its user_id, exactly
    # as a redelivery by the broker would arrive.
    def _connection(self, role="registry"):
        from kombu import Connection
        return Connection(self.cluster.amqp_uri(role))

    def tap(self):
        """A queue that keeps a copy of every integration event, to publish again."""
        from kombu import Queue
        from shared import bus, config as config_module
        config = config_module.load()
        with self._connection() as connection:
            Queue(TAP, exchange=bus.events_exchange(config), routing_key="#",
                  durable=False, queue_arguments={"x-max-length": 5000})(
                connection.default_channel).declare()

    def redeliver(self, count=60, times=3):
        from kombu import Exchange, Queue
        exchange = Exchange(os.environ.get("PINGGU_EXCHANGE", "pinggu.events"), "topic",
                            durable=True)
        sent, publishers = 0, {}
        with self._connection() as connection:
            queue = Queue(TAP)(connection.default_channel)
            try:
                for _ in range(count):
                    message = queue.get(no_ack=True)
                    if message is None:
                        break
                    routing_key = message.delivery_info["routing_key"]
                    role = routing_key.split(".")[0]
                    role = "hr-legal" if role == "external" else role
                    if role not in publishers:
                        publishers[role] = self._connection(role)
                    producer = publishers[role].Producer(exchange=exchange)
                    for _ in range(times):
                        producer.publish(message.body, routing_key=routing_key,
                                         content_type=message.content_type,
                                         content_encoding=message.content_encoding,
                                         headers=message.headers, delivery_mode=2,
                                         user_id=message.properties.get("user_id"),
                                         message_id=message.properties.get("message_id"))
                        sent += 1
            finally:
                for publisher in publishers.values():
                    publisher.release()
        self.injected["consumed messages published again (rounds)"] += 1
        self.redelivered += sent
        self.log(f"  fault: {sent} consumed messages published again")

    def queue_depths(self):
        out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "--no-table-headers", "-p",
                              self.cluster.vhost, "name", "messages"], capture_output=True,
                             text=True, timeout=60).stdout
        return {name: int(n) for name, n in (line.split("\t") for line in out.splitlines()
                                             if "\t" in line)}

    # -- the machine's servers (only with --with-server-restarts) ----------------------
    def restart_rabbitmq(self):
        """Stop and start the RabbitMQ application (the node, and its data, stay); the
        start is tried whatever the stop did, so the server is never left down."""
        try:
            subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True,
                           timeout=120)
        finally:
            for attempt in range(3):
                started = subprocess.run(["rabbitmqctl", "start_app"], capture_output=True,
                                         timeout=180)
                if started.returncode == 0:
                    break
                time.sleep(5)
            subprocess.run(["rabbitmqctl", "await_startup", "--timeout", "120"], check=True,
                           capture_output=True, timeout=150)
        self.injected["RabbitMQ restarted"] += 1
        self.log("  fault: RabbitMQ restarted")

    def restart_postgresql(self):
        """Restart the machine's PostgreSQL cluster; if the restart fails, start it, and
        wait until it answers either way."""
        version = sorted(os.listdir("/etc/postgresql"))[0]
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]
        try:
            subprocess.run(command + ["restart"], check=True, capture_output=True, timeout=180)
        finally:
            deadline = time.monotonic() + 120
            while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not come back within 120 s")
                subprocess.run(command + ["start"], capture_output=True, timeout=180)
                time.sleep(1)
        self.injected["PostgreSQL restarted"] += 1
        self.log("  fault: PostgreSQL restarted")
