"""The next file's parse worker is started ahead (issue 14, shared/parse_worker.py): the
interpreter and the readers are loaded before the file comes, and still each file has a
process of its own, used once, with its limits set after its request arrives."""
import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared import parse_worker
from tests import factories


@pytest.fixture
def started(monkeypatch):
    """Every worker process started, in order; no spare left from another test."""
    procs = []
    real = parse_worker._start

    def start(limits):
        procs.append(real(limits))
        return procs[-1]
    monkeypatch.setattr(parse_worker, "_start", start)
    monkeypatch.setattr(parse_worker, "_spares", {})
    yield procs
    parse_worker._dismiss_spares()


@pytest.fixture
def sheet(tmp_path):
    return str(factories.score_sheet(tmp_path / "s.xlsx", {factories.make_uscc(n): 85
                                                           for n in range(1, 4)},
                                     on=datetime.date(2023, 9, 15)))


def parse(path, limits=parse_worker.LIMITS):
    from services.evaluation.rubric import DEFAULT_RUBRIC
    return parse_worker.parse("score-sheet", path, "s.xlsx", limits=limits,
                              rubric=DEFAULT_RUBRIC)


def test_each_file_has_its_own_worker_and_the_next_one_is_started_ahead(started, sheet):
    assert len(parse(sheet)) == 3
    first, spare = started
    assert first.returncode == 0 and spare.poll() is None  # waiting for the next file
    assert parse_worker._spares == {parse_worker.LIMITS: [spare]}

    assert len(parse(sheet)) == 3
    assert len(started) == 3
    assert spare.returncode == 0  # it read the second file, and ended: never reused
    assert parse_worker._spares == {parse_worker.LIMITS: [started[2]]}


def test_a_spare_has_the_limits_of_its_own_files(started, sheet):
    parse(sheet)
    tight = parse_worker.Limits(wall_seconds=60)
    parse(sheet, limits=tight)
    assert len(started) == 4  # not the default limits' spare: one of its own
    assert {k: len(v) for k, v in parse_worker._spares.items()} == {
        parse_worker.LIMITS: 1, tight: 1}
    assert started[1].poll() is None


def test_a_dead_spare_is_not_used(started, sheet):
    parse(sheet)
    started[1].kill()
    started[1].wait()
    assert len(parse(sheet)) == 3
    assert len(started) == 4  # the file's own worker, started then, and the next spare


def test_an_unused_spare_ends_quietly_on_its_closed_input(started, sheet):
    parse(sheet)
    spare = started[1]
    parse_worker._dismiss_spares()
    assert spare.returncode == 0 and spare.stdout.read() == b""
    assert parse_worker._spares == {}


def test_files_read_at_once_leave_as_many_workers_started_ahead(started, sheet):
    """Three files at once (three clerks): the next three find their workers started."""
    with ThreadPoolExecutor(3) as pool:
        barrier = threading.Barrier(3)

        def read(_):
            barrier.wait()
            return len(parse(sheet))
        assert list(pool.map(read, range(3))) == [3, 3, 3]
    spares = parse_worker._spares[parse_worker.LIMITS]
    assert 1 < len(spares) <= parse_worker.MAX_SPARES
    assert all(p.poll() is None and p.started_ahead for p in spares)


def test_a_tool_that_parses_keeps_its_stdout(started, sheet, capsys):
    """The cost of each file goes to a service's log; a tool or test that parses without
    one set up (shared/log.py) gets nothing on its stdout, which is its output."""
    import structlog
    assert not structlog.is_configured()
    parse(sheet)
    assert capsys.readouterr().out == ""
