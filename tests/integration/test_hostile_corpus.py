"""The hostile corpus (tests/hostile_corpus.py) through the parse worker of the services,
with its production limits (issue 13): every file is accepted with the documented
normalisation or refused naming the cell (or, if it is no table at all, the file); no
parse reaches its CPU or memory limit; and the service's hub keeps answering while the
worst file is parsed."""
import os

import pytest

from shared import parse_worker
from shared.errors import BadInput
from tests.hostile_corpus import generate

LIMITS = parse_worker.LIMITS


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return generate(str(tmp_path_factory.mktemp("hostile")))


def _outcome(case):
    name = os.path.basename(case.path)
    return parse_worker.run_worker(
        parse_worker.request(case.kind, case.path, name, **case.params), LIMITS, name)


def _pick(row, path):
    value = row
    for key in path:
        value = value[key] if isinstance(key, int) or isinstance(value, dict) \
            else getattr(value, key)
    return value


def test_every_reader_meets_the_whole_corpus(corpus):
    kinds = {case.kind for case in corpus}
    assert kinds == set(parse_worker.READERS), "all seven readers are exercised"
    wrong = []
    for case in corpus:
        label = f"{case.kind}/{case.name}"
        try:
            answer = _outcome(case)
        except BadInput as exc:  # only the worker's limits raise here
            wrong.append(f"{label}: the worker hit its limits: {exc}")
            continue
        usage = answer["usage"]
        # The limits are the kernel's (RLIMIT_CPU, RLIMIT_AS); what the worker reports
        # using must stay below them, whatever the machine's load.
        if usage["cpu_seconds"] >= LIMITS.cpu_seconds or \
                usage["max_rss_bytes"] >= LIMITS.memory_bytes:
            wrong.append(f"{label}: used {usage}")
        refusal = answer.get("bad_input")
        if case.refused:
            if refusal is None:
                wrong.append(f"{label}: accepted, should be refused")
            elif refusal["file"] != os.path.basename(case.path):
                wrong.append(f"{label}: refusal names file {refusal['file']}")
            elif case.column and (refusal["column"], refusal["row"]) != (case.column,
                                                                         case.row):
                wrong.append(f"{label}: refused at row {refusal['row']} column "
                             f"{refusal['column']} ({refusal['message']}), not at row "
                             f"{case.row} column {case.column}")
            elif case.sheet and refusal["sheet"] != case.sheet:
                wrong.append(f"{label}: refusal names sheet {refusal['sheet']}")
            elif "Traceback" in refusal["message"] or "worker exit" in refusal["message"]:
                wrong.append(f"{label}: {refusal['message']}")
            continue
        if refusal is not None:
            wrong.append(f"{label}: refused: {refusal}")
            continue
        rows = parse_worker.parse(case.kind, case.path, os.path.basename(case.path),
                                  **case.params)
        for path, expected in case.check.items():
            got = _pick(rows, path)
            if got != expected:
                wrong.append(f"{label}: {path} is {got!r}, expected {expected!r}")
    assert not wrong, "\n".join(wrong)


def test_the_full_width_occupation_is_the_filed_one(corpus):
    """Issue 13: ６-１８-０２-０４ in 附件1 used to be kept as typed, never matched the
    filing scope, and terminated the institution under 四(一)3."""
    case = next(c for c in corpus if c.kind == "self-assessment"
                and c.name == "full-width-occupation")
    rows = parse_worker.parse(case.kind, case.path, "sa.xlsx")
    assert {a["occupation"] for a in rows[0].activity} == {"6-18-02-04"}


@pytest.fixture(scope="module")
def big_sheet(tmp_path_factory):
    """The largest legitimate form: a score sheet of 20,000 rows."""
    from tests import factories
    return factories.score_sheet(tmp_path_factory.mktemp("big") / "big.xlsx",
                                 {factories.make_uscc(n): 85 for n in range(1, 20001)})


@pytest.mark.parametrize("tight, limit", [
    (parse_worker.Limits(cpu_seconds=1), "CPU"),
    (parse_worker.Limits(memory_bytes=80 * 2**20), "MiB"),
])
def test_a_parse_beyond_its_limits_is_refused_as_a_whole(big_sheet, tight, limit):
    """The kernel enforces the worker's limits: the largest legitimate form needs
    seconds of CPU and more than 80 MiB, so under these limits the worker is stopped and
    the file refused as a whole (nothing half-read)."""
    from services.evaluation.rubric import DEFAULT_RUBRIC
    with pytest.raises(BadInput, match=limit) as refused:
        parse_worker.parse("score-sheet", big_sheet, "big.xlsx", limits=tight,
                           rubric=DEFAULT_RUBRIC)
    assert refused.value.file == "big.xlsx" and "parse limits" in refused.value.message


# Run as the services run: eventlet monkey-patched first (services/run.py), then a parse
# in one greenthread and a health check in another.
_HUB_PROBE = """
import eventlet
eventlet.monkey_patch()
import json, sys
from shared import parse_worker
from services.evaluation.rubric import DEFAULT_RUBRIC
parsing = eventlet.spawn(parse_worker.run_worker, parse_worker.request(
    "score-sheet", sys.argv[1], "worst.xlsx", rubric=DEFAULT_RUBRIC),
    parse_worker.LIMITS, "worst.xlsx")
answered = []
def health():
    eventlet.sleep(0.2)
    answered.append({"ok": True, "parse_finished": parsing.dead})
eventlet.spawn(health).wait()
usage = parsing.wait()["usage"]
print(json.dumps({"health": answered, "parse_usage": usage}))
"""


def test_the_hub_answers_while_the_worst_file_is_parsed(big_sheet):
    """The services run on eventlet: a parse in the service's own thread would stall
    every greenthread until it ends. Parsed by the worker, a health check is answered
    while the parse still runs (the parse takes seconds of CPU, the check 0.2 s)."""
    import json
    import subprocess
    import sys
    from tests.support import ROOT
    out = subprocess.run([sys.executable, "-c", _HUB_PROBE, big_sheet], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    result = json.loads(out)
    assert result["health"] == [{"ok": True, "parse_finished": False}], result
    assert result["parse_usage"]["cpu_seconds"] > 0.2  # a parse worth the check


# As the services run, with a greenthread that keeps the hub 50 ms at a time (projections
# catching up, the outbox): the worker's answer is read in an OS thread, not by the hub.
_BUSY_HUB_PROBE = """
import eventlet
eventlet.monkey_patch()
import json, sys, time
from shared import parse_worker
from services.evaluation.rubric import DEFAULT_RUBRIC

def busy():
    while True:
        until = time.perf_counter() + 0.05
        while time.perf_counter() < until:
            pass
        eventlet.sleep(0)
eventlet.spawn(busy)
rows = parse_worker.parse("score-sheet", sys.argv[1], "big.xlsx", rubric=DEFAULT_RUBRIC)
try:
    parse_worker.parse("score-sheet", sys.argv[1], "big.xlsx", rubric=DEFAULT_RUBRIC,
                       limits=parse_worker.Limits(wall_seconds=1))
    overran = None
except parse_worker.BadInput as exc:
    overran = exc.message
native = parse_worker._native() is not None
spare = parse_worker._spares[parse_worker.LIMITS][0]
print(json.dumps({"rows": len(rows), "overran": overran, "native": native,
                  "worker_class": type(spare).__module__}))
"""


def test_under_eventlet_the_answer_is_read_off_the_hub_and_the_wall_limit_holds(big_sheet):
    """A 20,000-row file's answer (~10 MB) through a 64 KB pipe: read by the hub, each
    fill waited for the busy greenthread (issue 14: 45-80 s instead of 9-14 s for a
    nation's roster file). Read in a thread of eventlet's pool by an unpatched subprocess,
    the rows are all there, and a worker past its wall-clock limit is still killed and the
    file refused (the unpatched module's TimeoutExpired is caught too)."""
    import json
    import subprocess
    import sys
    from tests.support import ROOT
    out = subprocess.run([sys.executable, "-c", _BUSY_HUB_PROBE, big_sheet], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=True).stdout
    result = json.loads(out)
    assert result["rows"] == 20000
    assert result["native"] is True and result["worker_class"] == "subprocess"
    assert result["overran"] and "longer than 1 s" in result["overran"]
