"""The demo runs the jurisdictions' commands at once (services/cli/desk.py, issue 14): each
command's output is printed whole and in the order the commands were given, whatever
order they finish in; a job waits for the one it comes after; a failure ends the demo."""
import sys
import threading
import time

import pytest

from services.cli import desk as demo


@pytest.fixture
def terminal(capsys):
    """What reached the terminal, by `text()`, the demo's stdout set up as main does
    (inside the test: pytest sets sys.stdout anew when a test starts)."""
    return lambda: capsys.readouterr().out


def job(name, delay, lines=2):
    time.sleep(delay)
    for n in range(lines):
        print(f"{name} line {n}")


def test_outputs_are_whole_and_in_the_order_given(terminal):
    with demo.threads_output(), demo.Desk() as desk:
        desk.run(job, "slow", 0.3, before="slow template\n")
        desk.run(job, "quick", 0.0, before="quick template\n")
        desk.run(job, "middle", 0.1)
    assert terminal() == ("slow template\nslow line 0\nslow line 1\n"
                          "quick template\nquick line 0\nquick line 1\n"
                          "middle line 0\nmiddle line 1\n")


def test_a_job_waits_for_the_one_it_comes_after(terminal):
    done = []
    with demo.threads_output(), demo.Desk() as desk:
        first = desk.run(lambda: (time.sleep(0.2), done.append("first")))
        desk.run(lambda: done.append("second" if done == ["first"] else "too early"),
                 after=first)
    assert done == ["first", "second"]


def test_a_capture_in_one_thread_takes_nothing_from_another(terminal):
    started = threading.Event()

    def other():
        started.wait()
        print("other thread")
    with demo.threads_output():
        thread = threading.Thread(target=other)
        thread.start()
        with demo.captured() as buffer:
            started.set()
            thread.join()
            print("mine")
    assert buffer.getvalue() == "mine\n"
    assert terminal() == "other thread\n"


def test_a_failing_command_ends_the_demo(terminal):
    def fails():
        sys.exit("demo: pinggu submit failed with exit 2")
    with pytest.raises(SystemExit, match="failed"):
        with demo.threads_output(), demo.Desk() as desk:
            desk.run(fails)
            time.sleep(0.2)
            desk.run(job, "never printed", 0.0)
    assert "never printed" not in terminal()


def test_the_seconds_of_each_step_longest_first(monkeypatch):
    monkeypatch.setattr(demo, "_steps", [(10.0, "a"), (12.5, "b"), (13.0, "c")])
    assert demo.step_times(20.0) == [(7.0, "c"), (2.5, "a"), (0.5, "b")]


def test_after_a_clock_move_the_demo_waits_until_every_service_sees_the_date(monkeypatch):
    """The services cache the business date (shared/clock.py): a form handed in at once
    after `clock set` was recorded on the day before the move."""
    from services import demo as campaign
    from shared import clock
    done = []
    monkeypatch.setattr(campaign, "pinggu", lambda *args, **kw: done.append(args))
    monkeypatch.setattr(campaign.time, "sleep", lambda seconds: done.append(seconds))
    campaign.move_clock("2023-09-20")
    assert done == [("clock", "set", "2023-09-20"), clock.CACHE_SECONDS]
