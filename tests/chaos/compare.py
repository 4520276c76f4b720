"""What a run ends with, read from its database and virtual host, and how two runs differ:
per case (outcome, clauses, deadline, verdict count), per store (events by type), per
aggregate (events beyond the reference's: duplicates), and what is left in the queues."""
import collections
import json
import subprocess

from tests.support import SERVICES


def _topic(topic):
    return topic.split(":", 1)[-1]


# Not facts of any case, so not compared: a command's journal entry acknowledges one
# invocation (a client's retry after a lost answer is a new invocation with its own
# entry), and the operators' directory is provisioned anew for whoever starts a machine.
UNCOMPARED = ("CommandJournal.", "Operator.")


def snapshot(cluster):
    stores, per_aggregate = {}, {}
    for service in SERVICES:
        rows = cluster.sql(f"SELECT originator_id::text, topic, count(*) FROM "
                           f"{service}.{service}_events GROUP BY 1, 2")
        stores[service] = collections.Counter()
        for originator, topic, count in rows:
            if _topic(topic).startswith(UNCOMPARED):
                continue
            stores[service][_topic(topic)] += count
            per_aggregate[f"{service} {_topic(topic)} {originator}"] = count
        stores[service] = dict(stores[service])
    cases = {}
    for originator, state in cluster.sql(
            "SELECT originator_id::text, state FROM decisions.decisions_events "
            "WHERE topic LIKE %s ORDER BY originator_id, originator_version",
            ("%:Case.Decided",)):
        event = json.loads(bytes(state))
        verdict = event.get("verdict") or {}
        count = cases.get(originator, {}).get("verdicts", 0) + 1
        cases[originator] = {"outcome": verdict.get("outcome"),
                             "clauses": verdict.get("clauses"),
                             "deadline": json.dumps(event.get("deadline"), sort_keys=True),
                             "verdicts": count}
    return {"stores": stores, "per_aggregate": per_aggregate, "cases": cases,
            "queues": queue_depths(cluster.vhost), "dead": _safely(dead_letters, cluster)}


def _safely(read, cluster):
    try:
        return read(cluster)
    except Exception as exc:  # the counts above still stand; only the detail is lost
        return {f"could not read: {exc!r}": 0}


def dead_letters(cluster, limit=20):
    """What the dead-letter queues hold: queue, event type and reason, counted. Read with
    a requeue, so the queues are left as they were."""
    from kombu import Connection, Queue
    found = collections.Counter()
    for service in SERVICES:  # each service's own user reads its own dead letters
        with Connection(cluster.amqp_uri(service)) as connection:
            queue = Queue(f"{service}.dead-letter")(connection.channel())
            held = []
            for _ in range(limit):
                message = queue.get(no_ack=False)
                if message is None:
                    break
                held.append(message)
                deaths = (message.headers or {}).get("x-death") or [{}]
                try:
                    body = json.loads(message.body)
                    kind = (f"batch of {len(body)} {body[0].get('type')}"
                            if isinstance(body, list) else body.get("type"))
                except (ValueError, AttributeError, IndexError):
                    kind = "undecodable"
                found[f"{service}: {kind} ({deaths[0].get('reason', '?')})"] += 1
            for message in held:
                message.requeue()
    return dict(found)


def queue_depths(vhost):
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "--no-table-headers", "-p", vhost,
                          "name", "messages"], capture_output=True, text=True,
                         timeout=60).stdout
    return {name: int(n) for name, n in (line.split("\t") for line in out.splitlines()
                                         if "\t" in line)}


def compare(reference, run):
    ids = sorted(set(reference["cases"]) | set(run["cases"]))
    mismatches = [(i, reference["cases"].get(i), run["cases"].get(i)) for i in ids
                  if reference["cases"].get(i) != run["cases"].get(i)]
    store_diffs = []
    for service in SERVICES:
        ref, got = reference["stores"].get(service, {}), run["stores"].get(service, {})
        for topic in sorted(set(ref) | set(got)):
            if ref.get(topic, 0) != got.get(topic, 0):
                store_diffs.append((service, topic, ref.get(topic, 0), got.get(topic, 0)))
    duplicates = collections.Counter()
    for key, count in run["per_aggregate"].items():
        extra = count - reference["per_aggregate"].get(key, 0)
        if extra > 0:
            duplicates[" ".join(key.split(" ")[:2])] += extra
    queues = run["queues"]
    return {
        "cases compared": len(ids),
        "mismatches": len(mismatches),
        "store differences": len(store_diffs),
        "duplicates": sum(duplicates.values()),
        "dead letters": sum(n for q, n in queues.items() if q.endswith(".dead-letter")),
        "inbox messages left": sum(n for q, n in queues.items() if q.endswith(".inbox")),
        "_mismatches": mismatches[:20], "_store_diffs": store_diffs,
        "_dead_letters": run.get("dead", {}),
        "_duplicates": dict(duplicates),
    }
