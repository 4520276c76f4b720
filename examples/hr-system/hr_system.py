"""A reference HR system integrating with pinggu (docs/integration.md).

It reads pinggu's replayable log, the RabbitMQ stream `pinggu.events.log`, from the first
event (or from where it stopped), a message carrying one CloudEvent or a batch of them, and keeps in SQLite each institution's filing and its
current status as the province's notices published it (四(三)'s outcomes). It publishes
the legal-person registration (法人登记) facts it holds as `external.LegalRegistration`.

    python hr_system.py sync                       # read the stream, update the table
    python hr_system.py status [USCC]              # the table (JSON lines)
    python hr_system.py publish-legal USCC STATUS --reported-on 2023-09-02 [--valid-until D]
    python hr_system.py refusals                   # pinggu's answers to refused messages

Settings (environment): HR_AMQP_URI, the broker URI with this system's own account
(amqp://pinggu_hr-legal:PASSWORD@host:5672/vhost); HR_DB, the SQLite file (hr.sqlite3);
HR_SOURCE, this system's CloudEvents source (/hr/legal-registry); HR_STREAM
(pinggu.events.log).

Only the standard library and `amqp` (py-amqp, the AMQP 0-9-1 client) are used, so the
program reads as what any integrator writes: no pinggu code is imported.
"""
import argparse
import datetime
import json
import os
import socket
import sqlite3
import sys
import uuid
from urllib.parse import unquote, urlsplit

import amqp

TABLES = """
CREATE TABLE IF NOT EXISTS filings (uscc text PRIMARY KEY, name text, cohort int,
    jurisdiction text);
CREATE TABLE IF NOT EXISTS status (uscc text PRIMARY KEY, outcome text, class text,
    clauses text, deadline text, decided_on text, notice text);
CREATE TABLE IF NOT EXISTS refusals (refused_id text PRIMARY KEY, reason text,
    sequence text, refused_type text);
CREATE TABLE IF NOT EXISTS progress (name text PRIMARY KEY, value int);
"""


def connect(uri):
    parts = urlsplit(uri)
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    conn = amqp.Connection(host=f"{parts.hostname}:{parts.port or 5672}",
                           userid=unquote(parts.username or "guest"),
                           password=unquote(parts.password or "guest"), virtual_host=vhost)
    conn.connect()
    return conn


def open_db(path):
    db = sqlite3.connect(path)
    db.executescript(TABLES)
    return db


def _progress(db, name, default=None):
    row = db.execute("SELECT value FROM progress WHERE name = ?", (name,)).fetchone()
    return row[0] if row else default


def _set_progress(db, name, value):
    db.execute("INSERT INTO progress VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET "
               "value = excluded.value", (name, value))


def apply(db, event, source):
    """One event of the log into the table. Events this system does not use are skipped
    (a consumer ignores types and fields it does not know)."""
    kind, data = event["type"], event["data"]
    if kind in ("pinggu.registry.Institution.Filed.v1",
                "pinggu.registry.Institution.FilingChanged.v1"):
        f = data["filing"]
        db.execute("INSERT INTO filings VALUES (?, ?, ?, ?) ON CONFLICT (uscc) DO UPDATE SET "
                   "name = excluded.name, cohort = excluded.cohort, "
                   "jurisdiction = excluded.jurisdiction",
                   (f["uscc"], f["name"], f["cohort"], f["jurisdiction"]))
    elif kind == "pinggu.notices.Entry.PublishedInNotice.v1":
        # The latest notice naming an institution states its status (a correction or the
        # rectification results replace what an earlier notice said).
        e = data["entry"]
        db.execute("INSERT INTO status VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uscc) DO "
                   "UPDATE SET outcome = excluded.outcome, class = excluded.class, "
                   "clauses = excluded.clauses, deadline = excluded.deadline, "
                   "decided_on = excluded.decided_on, notice = excluded.notice",
                   (data["uscc"], e["outcome"], e["class"], json.dumps(e["clauses"]),
                    e["deadline"], e["decided_on"], data["number"]))
    elif kind == "pinggu.registry.Refusal.Recorded.v1" and data["source"] == source:
        db.execute("INSERT OR REPLACE INTO refusals VALUES (?, ?, ?, ?)",
                   (data["refused_id"], data["reason"], data["sequence"],
                    data["refused_type"]))


def sync(uri, db, stream, source, idle_seconds=2.0):
    """Read the stream from the offset after the last one applied (the first offset on the
    first run) until it has been idle for `idle_seconds`; returns how many were read."""
    next_offset = _progress(db, "offset", -1) + 1
    conn = connect(uri)
    count = 0
    try:
        channel = conn.channel()
        # A stream is consumed with a prefetch (the broker's credit) and manual acks.
        channel.basic_qos(prefetch_size=0, prefetch_count=500, a_global=False)

        def on_message(message):
            nonlocal count
            offset = message.headers["x-stream-offset"]
            # One CloudEvent a message, or several of one type as a JSON array
            # (content type application/cloudevents-batch+json).
            body = json.loads(message.body)
            for event in body if isinstance(body, list) else [body]:
                apply(db, event, source)
            _set_progress(db, "offset", offset)
            channel.basic_ack(message.delivery_tag)
            count += 1

        channel.basic_consume(stream, callback=on_message,
                              arguments={"x-stream-offset": next_offset if next_offset
                                         else "first"})
        while True:
            try:
                conn.drain_events(timeout=idle_seconds)
            except socket.timeout:
                break
        db.commit()
    finally:
        conn.close()
    return count


def publish_legal(uri, db, source, account, uscc, status, reported_on, valid_until=None,
                  exchange="pinggu.events"):
    """Publish one legal-registration fact; returns its CloudEvent id."""
    sequence = _progress(db, "published", 0) + 1
    data = {"uscc": uscc, "status": status, "reported_on": reported_on}
    if valid_until is not None:
        data["legal_valid_until"] = valid_until
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
             "type": "pinggu.external.LegalRegistration.v1", "sequence": str(sequence),
             "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
             "datacontenttype": "application/json", "data": data}
    conn = connect(uri)
    try:
        channel = conn.channel()
        channel.confirm_select()  # returns once the broker has the message
        channel.basic_publish(
            amqp.Message(json.dumps(event, ensure_ascii=False).encode(),
                         content_type="application/cloudevents+json",
                         content_encoding="utf-8", delivery_mode=2, message_id=event["id"],
                         type=event["type"], user_id=account),
            exchange=exchange, routing_key="external.LegalRegistration")
    finally:
        conn.close()
    _set_progress(db, "published", sequence)
    db.commit()
    return event["id"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sync", help="read the stream and update the table")
    status = sub.add_parser("status", help="print the table")
    status.add_argument("uscc", nargs="?")
    legal = sub.add_parser("publish-legal", help="publish a LegalRegistration fact")
    legal.add_argument("uscc")
    legal.add_argument("status", choices=["valid", "expired", "annual-report-problem"])
    legal.add_argument("--reported-on", required=True)
    legal.add_argument("--valid-until")
    sub.add_parser("refusals", help="pinggu's answers to this system's refused messages")
    args = parser.parse_args(argv)

    uri = os.environ.get("HR_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    source = os.environ.get("HR_SOURCE", "/hr/legal-registry")
    db = open_db(os.environ.get("HR_DB", "hr.sqlite3"))
    if args.command == "sync":
        count = sync(uri, db, os.environ.get("HR_STREAM", "pinggu.events.log"), source)
        print(f"read {count} events; offset {_progress(db, 'offset')}")
    elif args.command == "status":
        where, params = ("WHERE f.uscc = ?", (args.uscc,)) if args.uscc else ("", ())
        for row in db.execute(
                "SELECT f.uscc, f.name, f.cohort, s.outcome, s.class, s.clauses, s.notice "
                f"FROM filings f LEFT JOIN status s USING (uscc) {where} ORDER BY f.uscc",
                params):
            print(json.dumps(dict(zip(("uscc", "name", "cohort", "outcome", "class",
                                       "clauses", "notice"), row)), ensure_ascii=False))
    elif args.command == "publish-legal":
        account = unquote(urlsplit(uri).username or "")
        print(publish_legal(uri, db, source, account, args.uscc, args.status,
                            args.reported_on, args.valid_until))
    elif args.command == "refusals":
        for row in db.execute("SELECT * FROM refusals ORDER BY refused_id"):
            print(json.dumps(dict(zip(("refused_id", "reason", "sequence", "type"), row)),
                             ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
