"""Signed checkpoints of the whole history (issue 10, item 4): the head of every stream of
every service, as one Merkle root, signed with the notary's Ed25519 key when a notice is
published. The portal publishes it beside the notice (`<notice>.checkpoint.json`), so a
third party holding only the notary's public key can later prove that nothing recorded
before the notice was altered or removed:

- a head is (service, stream, version, SHA-256 of the stored record); the stored record
  carries the keyed chain link (shared/chain.py), so altering any earlier event of the
  stream changes its head, and deleting the stream's last event removes the head;
- the leaves are sorted, hashed pairwise up to the root (an odd node is carried up);
- the signature covers the canonical JSON of the body (sorted keys, no spaces).

`audit verify` (shared/audit.py) checks every stored checkpoint against the event tables;
`pinggu checkpoint verify` checks a published checkpoint with the public key only.
"""
import base64
import datetime
import hashlib
import json

FORMAT = "pinggu-checkpoint/1"
SERVICES = ("registry", "evaluation", "decisions", "notices")

DDL = ("CREATE TABLE IF NOT EXISTS cluster.checkpoints ("
       "sequence bigserial PRIMARY KEY, notice_id text NOT NULL UNIQUE, "
       "issued_at timestamptz NOT NULL DEFAULT now(), body text NOT NULL, "
       "heads text NOT NULL, signature text NOT NULL)")


class CheckpointError(Exception):
    """A checkpoint that does not verify."""


# -- keys ----------------------------------------------------------------------------
def _private(seed):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_of(seed):
    from cryptography.hazmat.primitives import serialization
    return _private(seed).public_key().public_bytes(serialization.Encoding.Raw,
                                                    serialization.PublicFormat.Raw)


def key_id(public_key):
    """A short fingerprint naming the key that signed (so a rotated key is found)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def generate_seed():
    import os
    return os.urandom(32)


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(seed, body):
    return base64.b64encode(_private(seed).sign(canonical(body))).decode()


def verify_signature(public_keys, body, signature):
    """The public key (of those trusted) that made the signature, or CheckpointError."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    wanted = body.get("key_id")
    for public in public_keys:
        if wanted and key_id(public) != wanted:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(signature),
                                                              canonical(body))
            return public
        except (InvalidSignature, ValueError):
            continue
    raise CheckpointError(f"signature does not verify with the notary's public key "
                          f"(signed by key {wanted})")


# -- the tree ------------------------------------------------------------------------
def record_digest(topic, state):
    return hashlib.sha256(topic.encode() + b"\n" + bytes(state)).hexdigest()


def leaf(head):
    service, stream, version, digest = head
    return hashlib.sha256(f"{service}/{stream}/{version}/{digest}".encode()).digest()


def merkle_root(heads):
    """The root over the heads in their canonical order (service, stream)."""
    level = [leaf(h) for h in sorted(heads, key=lambda h: (h[0], h[1]))]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        level = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
                 if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    return level[0].hex()


# -- reading the heads -----------------------------------------------------------------
def events_table(service):
    return f"{service}.{service}_events"


def read_heads(cur, services=SERVICES):
    """Every stream's last event, of every service, in the transaction's one snapshot."""
    heads = []
    for service in services:
        cur.execute(f"SELECT DISTINCT ON (originator_id) originator_id, originator_version, "
                    f"topic, state FROM {events_table(service)} "
                    f"ORDER BY originator_id, originator_version DESC")
        for row in cur.fetchall():
            row = tuple(row.values()) if isinstance(row, dict) else row
            heads.append([service, str(row[0]), row[1], record_digest(row[2], row[3])])
    return heads


def issue(config, notice):
    """Sign a checkpoint of the history as it stands, for the notice just published, and
    store it. Idempotent per notice: a second call returns the stored one."""
    import psycopg2
    conn = psycopg2.connect(config.dsn())
    try:
        conn.set_session(isolation_level="REPEATABLE READ")
        with conn, conn.cursor() as cur:
            existing = _stored(cur, "WHERE notice_id = %s", (notice["id"],))
            if existing:
                return existing[0]
            heads = read_heads(cur)
            public = public_key_of(config.notary_seed)
            body = {"format": FORMAT,
                    "notice": {k: notice.get(k) for k in ("id", "number", "published_on")},
                    "issued_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    "streams": len(heads),
                    "events": sum(h[2] for h in heads),
                    "merkle_root": merkle_root(heads),
                    "key_id": key_id(public)}
            signature = sign(config.notary_seed, body)
            cur.execute("INSERT INTO cluster.checkpoints (notice_id, body, heads, signature) "
                        "VALUES (%s, %s, %s, %s)",
                        (notice["id"], canonical(body).decode(), json.dumps(heads), signature))
            return published(body, signature, public)
    finally:
        conn.close()


def published(body, signature, public_key):
    """The file the portal publishes beside the notice."""
    return {"checkpoint": body, "signature": signature, "public_key": public_key.hex(),
            "verify": "pinggu checkpoint verify <this file> --public-key <notary.pub>"}


def _stored(cur, where="", params=()):
    cur.execute(f"SELECT body, heads, signature FROM cluster.checkpoints {where} "
                f"ORDER BY sequence", params)
    result = []
    for row in cur.fetchall():
        row = tuple(row.values()) if isinstance(row, dict) else row
        body = json.loads(row[0])
        entry = {"checkpoint": body, "signature": row[2], "heads": json.loads(row[1])}
        result.append(entry)
    return result


def stored(config):
    """Every checkpoint issued, oldest first, with its heads."""
    import psycopg2
    conn = psycopg2.connect(config.dsn())
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('cluster.checkpoints')")
            if cur.fetchone()[0] is None:
                return []
            return _stored(cur)
    finally:
        conn.close()


def portal_files(config):
    """`notices/<id>.checkpoint.json` for every checkpoint, as the portal serves them."""
    files = {}
    for entry in stored(config):
        body = entry["checkpoint"]
        public = next((k for k in config.notary_public_keys if key_id(k) == body["key_id"]),
                      b"")
        content = json.dumps(published(body, entry["signature"], public), indent=2,
                             ensure_ascii=False, sort_keys=True).encode()
        files[f"notices/{body['notice']['id']}.checkpoint.json"] = content
    return files


# -- verifying -------------------------------------------------------------------------
def verify_published(document, public_keys, heads=None):
    """Check a published checkpoint with the trusted public keys only; with `heads`
    (from an audit export) also that they are the ones it signed. Returns its body."""
    body, signature = document["checkpoint"], document["signature"]
    if body.get("format") != FORMAT:
        raise CheckpointError(f"not a {FORMAT} document")
    verify_signature(public_keys, body, signature)
    if heads is not None and merkle_root(heads) != body["merkle_root"]:
        raise CheckpointError("the heads given are not the ones the checkpoint signed")
    return body


def records_at(cur, heads):
    """The digest of the stored record at each (service, stream, version) named."""
    found = {}
    for service in sorted({h[0] for h in heads}):
        wanted = [h for h in heads if h[0] == service]
        cur.execute(f"SELECT e.originator_id::text, e.originator_version, e.topic, e.state "
                    f"FROM {events_table(service)} e JOIN unnest(%s::uuid[], %s::bigint[]) "
                    f"AS w(id, v) ON e.originator_id = w.id AND e.originator_version = w.v",
                    ([h[1] for h in wanted], [h[2] for h in wanted]))
        for row in cur.fetchall():
            row = tuple(row.values()) if isinstance(row, dict) else row
            found[(service, row[0], row[1])] = record_digest(row[2], row[3])
    return found


def check_against_store(entry, found, public_keys):
    """Problems of one stored checkpoint against the event tables as they are now (`found`,
    from records_at): each stream it names must still hold, at the version it names, the
    very record it signed."""
    body = entry["checkpoint"]
    notice = body["notice"].get("number") or body["notice"]["id"]
    try:
        verify_published(entry, public_keys, entry["heads"])
    except CheckpointError as exc:
        return [{"service": "checkpoints", "case": notice, "position": None,
                 "problem": f"checkpoint of notice {notice}: {exc}"}]
    problems = []
    for service, stream, version, digest in entry["heads"]:
        now = found.get((service, stream, version))
        if now == digest:
            continue
        problems.append({"service": service, "case": stream, "position": version,
                         "problem": f"event {version}, the stream's last when notice "
                                    f"{notice} was published, is " +
                                    ("missing (deleted?)" if now is None else "altered")})
    return problems


def verify_stored(config):
    """Every checkpoint issued, against the event tables (read as the process's role: the
    auditor's, for the CLI). Returns the problems and how many checkpoints were checked."""
    import psycopg2
    conn = psycopg2.connect(config.dsn())
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('cluster.checkpoints')")
            if cur.fetchone()[0] is None:
                return [], 0
            entries = _stored(cur)
            problems = []
            for entry in entries:
                problems.extend(check_against_store(entry, records_at(cur, entry["heads"]),
                                                    config.notary_public_keys))
            return problems, len(entries)
    finally:
        conn.close()


# -- case exports and published files ------------------------------------------------
def sign_manifest(config, manifest):
    """The notary's signature of a case export's manifest (manifest.sig.json)."""
    if config.notary_seed is None:
        raise CheckpointError("signing the export needs the notary key "
                              "(PINGGU_NOTARY_KEY_FILE)")
    public = public_key_of(config.notary_seed)
    return {"signed": "manifest.json", "algorithm": "Ed25519", "key_id": key_id(public),
            "public_key": public.hex(), "signature": sign(config.notary_seed, manifest)}


def _verify_document(name, document, public_keys):
    try:
        body = verify_published(document, public_keys)
        return {"file": name, "ok": True,
                "detail": f"signed by the notary (key {body['key_id']}) for notice "
                          f"{body['notice'].get('number')}: {body['streams']} streams, "
                          f"root {body['merkle_root'][:16]}…"}
    except (CheckpointError, KeyError, TypeError, ValueError) as exc:
        return {"file": name, "ok": False, "detail": str(exc)}


def _verify_export(path, public_keys):
    import zipfile
    results = []
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        problems = [n for n, digest in manifest["files"].items()
                    if n not in z.namelist() or hashlib.sha256(z.read(n)).hexdigest() != digest]
        try:
            signature = json.loads(z.read("manifest.sig.json"))
            verify_signature(public_keys, manifest, signature["signature"])
            signed = "manifest signed by the notary"
        except (CheckpointError, KeyError) as exc:
            problems.append(f"manifest signature: {exc}")
            signed = ""
        results.append({"file": f"{path}:manifest.json", "ok": not problems,
                        "detail": "; ".join(problems) or f"{signed}; "
                                  f"{len(manifest['files'])} files match"})
        for name in z.namelist():
            if name.endswith(".checkpoint.json"):
                results.append(_verify_document(f"{path}:{name}", json.loads(z.read(name)),
                                                public_keys))
    return results


def verify_path(path, public_keys):
    """Results of checking a checkpoint file, a directory of them, or a case export."""
    import os
    if os.path.isdir(path):
        return [r for root, _, names in sorted(os.walk(path)) for n in sorted(names)
                if n.endswith(".checkpoint.json")
                for r in verify_path(os.path.join(root, n), public_keys)]
    if path.endswith(".zip"):
        return _verify_export(path, public_keys)
    with open(path, encoding="utf-8") as f:
        try:
            document = json.load(f)
        except ValueError as exc:
            return [{"file": path, "ok": False, "detail": f"not JSON: {exc}"}]
    return [_verify_document(path, document, public_keys)]
