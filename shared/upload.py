"""Files sent over RPC: the CLI sends an xlsx as base64 in one command, never row by row.

The CLI only encodes: shared.parse_worker (and openpyxl with it, ~0.2 s) is imported by
the services' functions that parse, not by every `pinggu` start-up (issue 14)."""
import base64
import os
import tempfile
import contextlib

from shared.errors import BadInput

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def encode(path):
    size = os.path.getsize(path)
    if size > MAX_UPLOAD_BYTES:
        raise BadInput(f"file is {size} bytes; the limit is {MAX_UPLOAD_BYTES}",
                       file=os.path.basename(path))
    with open(path, "rb") as f:
        return {"filename": os.path.basename(path), "content": base64.b64encode(f.read()).decode()}


@contextlib.contextmanager
def received(upload):
    """The uploaded file on local disk, under its original name (errors name it)."""
    try:
        content = base64.b64decode(upload["content"], validate=True)
        filename = os.path.basename(upload["filename"])
        if filename in ("", ".", ".."):
            filename = "upload.xlsx"
    except (KeyError, TypeError, ValueError):
        raise BadInput("malformed upload")
    if len(content) > MAX_UPLOAD_BYTES:
        raise BadInput(f"file is {len(content)} bytes; the limit is {MAX_UPLOAD_BYTES}",
                       file=filename)
    with tempfile.TemporaryDirectory(prefix="pinggu-upload-") as tmp:
        path = os.path.join(tmp, filename)
        with open(path, "wb") as f:
            f.write(content)
        yield path


def marked(upload, errors):
    """The uploaded file with `errors` (BadInput.errors) marked on its cells, as an
    upload dict ("<name>-标注.xlsx") to hand back to the clerk; made in a worker
    process with the parse limits."""
    from shared import parse_worker
    with received(upload) as path:
        name = os.path.basename(path)
        content = parse_worker.mark(path, name, errors)
    stem = os.path.splitext(name)[0] or "upload"
    return {"filename": f"{stem}-标注.xlsx", "content": base64.b64encode(content).decode()}


def parse(upload, kind, **params):
    """The rows of an uploaded file, read by `kind`'s reader in a worker process with
    limits (shared/parse_worker.py), so a hostile file cannot stall the service."""
    from shared import parse_worker
    with received(upload) as path:
        return parse_worker.parse(kind, path, os.path.basename(path), **params)
