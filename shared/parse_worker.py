"""Parsing an uploaded file in a worker process of its own, with CPU, memory and time
limits, so that a hostile file cannot stall the service that received it.

A service's greenthreads share one OS thread: a parse that runs 15 s of pure Python
(openpyxl, XML) stalls every other RPC, the inbox and the outbox of that service for 15 s.
So each upload is parsed by `python -m shared.parse_worker`, one process per file, which
first limits itself (RLIMIT_CPU, RLIMIT_AS, no file writes) and then runs the one reader
named by the request (or marks the file's problems on it, shared/marks.py). The
service waits for it in an OS thread of eventlet's pool (`_exchange`), so its hub keeps
serving while the worker parses. The worker answers with data (the rows
as dicts, or the BadInput with every bad cell); a worker the kernel stops (CPU, memory) or
that overruns the wall-clock limit is killed, and the file is refused as a whole.

Issue 14 ("Scale"): starting a worker (the interpreter, openpyxl and the readers) took
~0.4 s, more than parsing a jurisdiction's form, and a campaign sends dozens of forms. So
the next files' workers are started ahead (`_spares`, as many as files came at once):
each imports the readers and waits for its request while the service does something
else. It is still one process per file, used once, with the limits set after the
request arrives, as before.

Issue 14 again: a roster file of 20,000 rows (a nation's) parsed in 3.3-4.6 s of the
worker's CPU took 17-49 s in the service. Its answer (~10 MB of rows) comes through a
pipe of 64 KB, which eventlet's green pipe empties only when the hub comes round to it,
and a busy service (projections catching up, the outbox) comes round late: with a
greenthread that keeps the hub 50 ms at a time, the same file took 45 s instead of 9 s.
So the worker is a plain (unpatched) subprocess, and its pipes are read in a thread of
eventlet's pool: emptied as fast as the worker writes, whatever the greenthreads do.

The seven readers (docs/forms.md): roster, legal-status, activity, self-assessment,
score-sheet, findings, rectification.
"""
import atexit
import base64
import collections
import contextlib
import datetime as dt
import importlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from shared import xlsx
from shared.errors import BadInput

# kind -> (module, reader, row class): the row class's from_dict rebuilds what the
# worker sent as JSON. Readers are named, not imported: shared imports no service
# (tests/unit/test_import_boundaries.py); the worker process imports the one it runs.
READERS = {
    "roster": ("services.registry.roster", "read_roster", "RosterRow"),
    "legal-status": ("services.registry.facts", "read_legal_status", "LegalStatus"),
    "activity": ("services.registry.facts", "read_activity", "Activity"),
    "self-assessment": ("services.evaluation.forms", "read_self_assessment",
                        "SelfAssessmentRow"),
    "score-sheet": ("services.evaluation.forms", "read_score_sheet", "ScoreRow"),
    "findings": ("services.evaluation.forms", "read_findings", "FindingRow"),
    "rectification": ("services.evaluation.forms", "read_rectification",
                      "RectificationRow"),
}


@dataclass(frozen=True)
class Limits:
    """What one parse may use. The largest legitimate form (20,000 rows) parses in a
    few seconds and well under 300 MB; these leave room for a loaded machine."""
    cpu_seconds: int = 30
    memory_bytes: int = 1024 * 1024 * 1024
    wall_seconds: int = 120


LIMITS = Limits()
# The largest file a worker marks (the upload limit; the file's checks refuse beyond).
MAX_MARK_BYTES = 20 * 1024 * 1024


def parse(kind, path, name, *, limits=LIMITS, **params):
    """The rows `kind`'s reader finds in the file at `path` (reported as `name`), read in
    a worker process within `limits`; raises BadInput as the reader would, or when the
    worker exceeds its limits. `params` are the reader's keyword arguments: dates,
    pairs of dates, and objects with `to_dict`/`from_dict` (a rubric)."""
    module, _, row_class = READERS[kind]
    result = run_worker(request(kind, path, name, **params), limits, name)
    if "bad_input" in result:
        raise BadInput.from_dict(result["bad_input"])
    cls = getattr(importlib.import_module(module), row_class)
    return [cls.from_dict(row) for row in result["rows"]]


def mark(path, name, errors, *, limits=LIMITS):
    """The file at `path` with `errors` (BadInput.errors) marked on its cells
    (shared/marks.py), made in a worker within `limits` like a parse: bytes."""
    result = run_worker(json.dumps({"mark": errors, "path": os.fspath(path),
                                    "name": name}).encode(), limits, name)
    if "bad_input" in result:
        raise BadInput.from_dict(result["bad_input"])
    return base64.b64decode(result["marked"])


def request(kind, path, name, **params):
    """What a worker is asked: JSON bytes."""
    return json.dumps({"kind": kind, "path": os.fspath(path), "name": name,
                       "params": _encode(params)}).encode()


def _native():
    """eventlet's thread pool and the unpatched subprocess module, in a service that
    eventlet has monkey-patched; else None (a CLI, a test, the demo: waiting blocks)."""
    try:
        from eventlet import patcher, tpool
    except ImportError:  # pragma: no cover - the services always have eventlet
        return None
    if not patcher.is_monkey_patched("subprocess"):
        return None
    return tpool, patcher.original("subprocess")


def _subprocess():
    native = _native()
    return subprocess if native is None else native[1]


def _exchange(proc, request, timeout):
    """Send the request and read the whole answer (stdout, stderr); in a thread of
    eventlet's pool under eventlet (see the module's docstring), else here."""
    native = _native()
    if native is None:
        return proc.communicate(request, timeout=timeout)
    return native[0].execute(proc.communicate, request, timeout=timeout)


def _start(limits):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return _subprocess().Popen(
        [sys.executable, "-m", "shared.parse_worker", str(limits.cpu_seconds),
         str(limits.memory_bytes)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# limits -> the workers started ahead for the next files with these limits: as many as
# files were read at once lately, at most MAX_SPARES (an idle worker holds ~35 MB).
_spares = {}
_reading = collections.Counter()  # limits -> files being read now
MAX_SPARES = 3


# Starting a process can yield to another thread (a green one under eventlet): the
# counts and the spares change under this lock, so no two add the same spare.
_lock = threading.Lock()


def _take(limits):
    with _lock:
        _reading[limits] += 1
        spares = _spares.get(limits, [])
        while spares:
            proc = spares.pop()
            if proc.poll() is None:
                return proc
    return _start(limits)


def _replenish(limits):
    with _lock:
        spares = _spares.setdefault(limits, [])
        while len(spares) < min(_reading[limits], MAX_SPARES):
            proc = _start(limits)
            proc.started_ahead = True  # told apart in the log
            spares.append(proc)
        _reading[limits] -= 1


@atexit.register
def _dismiss_spares():
    """A spare that was never used ends on its closed stdin; waited for, so none outlives
    its service (or test run) as an orphan."""
    while _spares:
        _, procs = _spares.popitem()
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.stdin.close()
                proc.wait(timeout=5)


def run_worker(request, limits, name):
    """Run one worker on `request` (JSON bytes); its answer as a dict: `rows` or
    `bad_input`, and `usage` (the CPU seconds and peak memory it used)."""
    started = time.monotonic()
    proc = _take(limits)
    try:
        out, err = _exchange(proc, request, limits.wall_seconds)
    except (subprocess.TimeoutExpired, _subprocess().TimeoutExpired):
        proc.kill()
        _exchange(proc, None, None)
        raise BadInput(f"reading the file took longer than {limits.wall_seconds} s; "
                       "refused (rule: parse limits)", file=name, rule="parse limits",
                       message_zh=f"读取文件超过 {limits.wall_seconds} 秒,拒收(解析限制)"
                       ) from None
    finally:
        # Started after this file, not beside it: the two would share the machine's cores.
        _replenish(limits)
    if proc.returncode == 0:
        try:
            answer = json.loads(out)
        except ValueError:
            pass
        else:
            _log_done(proc, name, time.monotonic() - started, answer)
            return answer
    message, message_zh = _why(proc.returncode, err, limits)
    raise BadInput(message, message_zh=message_zh, file=name, rule="parse limits")


def _log_done(proc, name, seconds, answer):
    """What a file cost, in the service's log, for the operator and the benchmarks (issue
    14). Only where logging is set up (services/run.py): a tool's stdout is its output."""
    import structlog  # the service's side only: the worker logs nothing
    if structlog.is_configured():
        structlog.get_logger("parse").info(
            "parse.done", file=name, started_ahead=getattr(proc, "started_ahead", False),
            seconds=round(seconds, 3), **answer.get("usage", {}))


def _why(returncode, err, limits):
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return (f"reading the file needed more than {limits.cpu_seconds} s of CPU; "
                "refused (rule: parse limits)",
                f"读取文件所需 CPU 时间超过 {limits.cpu_seconds} 秒,拒收(解析限制)")
    if returncode == _MEMORY_EXIT or b"MemoryError" in err[-2000:]:
        return (f"reading the file needed more than {limits.memory_bytes // 2**20} MiB; "
                "refused (rule: parse limits)",
                f"读取文件所需内存超过 {limits.memory_bytes // 2**20} MiB,拒收(解析限制)")
    # Anything else is a bug of ours, not the operator's: say so without the traceback,
    # which the service's log keeps.
    sys.stderr.write(err[-4000:].decode(errors="replace"))
    return (f"the file could not be read (worker exit {returncode}); refused",
            f"文件无法读取(解析进程退出码 {returncode}),拒收")


_MEMORY_EXIT = 3


def _encode(params):
    out = {}
    for key, value in params.items():
        if isinstance(value, dt.date):
            value = {"date": value.isoformat()}
        elif isinstance(value, tuple) and all(isinstance(v, dt.date) for v in value):
            value = {"dates": [v.isoformat() for v in value]}
        elif hasattr(value, "to_dict"):
            # Named by its class, not imported here: shared knows no service's types.
            value = {"object": f"{type(value).__module__}:{type(value).__qualname__}",
                     "data": value.to_dict()}
        out[key] = value
    return out


def _decode(params):
    out = {}
    for key, value in params.items():
        if isinstance(value, dict) and "date" in value:
            value = dt.date.fromisoformat(value["date"])
        elif isinstance(value, dict) and "dates" in value:
            value = tuple(dt.date.fromisoformat(v) for v in value["dates"])
        elif isinstance(value, dict) and "object" in value:
            module, name = value["object"].split(":")
            value = getattr(importlib.import_module(module), name).from_dict(value["data"])
        out[key] = value
    return out


# ------------------------------------------------------------------- the worker side

def _limit_self(cpu_seconds, memory_bytes, file_bytes=0):
    # The soft CPU limit sends SIGXCPU (which ends the process); the hard one, a second
    # later, SIGKILL in case SIGXCPU is caught.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # A parse only reads: no file written. Marking saves through openpyxl, which writes
    # each sheet to a temporary file first: bounded by what a workbook may inflate to.
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _rows(request):
    module, reader, _ = READERS[request["kind"]]
    read = getattr(importlib.import_module(module), reader)
    rows = read(request["path"], name=request["name"], **_decode(request["params"]))
    return [row.to_dict() for row in rows]


def _marked(request):
    from shared.marks import mark_workbook
    with open(request["path"], "rb") as f:
        content = f.read(MAX_MARK_BYTES + 1)
    return base64.b64encode(mark_workbook(content, request["mark"],
                                          name=request["name"])).decode()


def main(argv):
    cpu_seconds, memory_bytes = int(argv[0]), int(argv[1])
    # Our own code, imported before any request: a spare is ready when its file comes.
    for module, _, _ in READERS.values():
        importlib.import_module(module)
    raw = sys.stdin.buffer.read()
    if not raw:  # a spare dismissed unused
        return 0
    # The request is ours (JSON naming the file); the file is what is untrusted.
    request = json.loads(raw)
    _limit_self(cpu_seconds, memory_bytes,
                file_bytes=xlsx.MAX_INFLATED if "mark" in request else 0)
    try:
        try:
            if "mark" in request:
                answer = {"marked": _marked(request)}
            else:
                answer = {"rows": _rows(request)}
        except BadInput as exc:
            answer = {"bad_input": exc.to_dict()}  # every problem, not the first
        usage = resource.getrusage(resource.RUSAGE_SELF)
        answer["usage"] = {"cpu_seconds": usage.ru_utime + usage.ru_stime,
                           "max_rss_bytes": usage.ru_maxrss * 1024}
        sys.stdout.write(json.dumps(answer, ensure_ascii=False))
        sys.stdout.flush()
    except MemoryError:
        os._exit(_MEMORY_EXIT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
