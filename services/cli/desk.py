"""The demo's desk (services/demo.py, issue 14): the commands of several jurisdictions run at
once, as twelve bureaus would hand in their files, each one's output printed whole and
in the order they were given; a thread that captures what it prints (`captured`) takes
nothing from another thread's output. And the steps' progress lines, with the seconds
each took."""
import contextlib
import io
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

_steps = []  # (started, message) of each step, for the time each took


def step(message):
    _steps.append((time.monotonic(), message))
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def step_times(ended):
    """Each step's seconds, longest first: where the campaign's time went."""
    ends = [start for start, _ in _steps[1:]] + [ended]
    return sorted(((end - start, message) for (start, message), end in zip(_steps, ends)),
                  reverse=True)


class _Output(io.TextIOBase):
    """This process's stdout: a thread that captures (`captured`) writes to its own
    buffer, any other to the terminal; so commands run at once neither mix their lines
    nor lose their JSON to another thread's capture."""

    def __init__(self, terminal):
        self.terminal = terminal
        self.local = threading.local()

    def write(self, text):
        return (getattr(self.local, "buffer", None) or self.terminal).write(text)

    def flush(self):
        self.terminal.flush()


@contextlib.contextmanager
def captured():
    """What this thread prints inside, in a StringIO (only under main's _Output)."""
    output, buffer = sys.stdout, io.StringIO()
    if not isinstance(output, _Output):
        with contextlib.redirect_stdout(buffer):
            yield buffer
        return
    saved = getattr(output.local, "buffer", None)
    output.local.buffer = buffer
    try:
        yield buffer
    finally:
        output.local.buffer = saved


# How many files are handed in at once: the services' work on one file (the parse, the
# events) overlaps the next one's round trips; more than the machine's two cores only
# queue.
HAND_IN = 3


_threads = None  # the desk's threads, kept for the whole demo with their RPC clients


class Desk:
    """Commands run at once (`run`), each one's output printed whole, in the order they
    were given, as soon as it and those before it are done. A command that fails ends
    the demo (SystemExit from its thread, raised here)."""

    def __init__(self):
        global _threads
        if _threads is None:
            _threads = ThreadPoolExecutor(HAND_IN, thread_name_prefix="demo-desk")
        self.pool = _threads
        self.pending = []

    def run(self, job, *args, before="", after=None, **kwargs):
        """Run job(*args, **kwargs) on the desk's threads, once the job `after` (what an
        earlier `run` returned) is done; `before`: text printed ahead of its output."""
        def captured_job():
            if after is not None:
                after.result()
            with captured() as buffer:
                job(*args, **kwargs)
            return buffer.getvalue()
        future = self.pool.submit(captured_job)
        self.pending.append((before, future))
        self._print(wait=False)
        return future

    def _print(self, wait):
        while self.pending and (wait or self.pending[0][1].done()):
            before, future = self.pending.pop(0)
            text = future.result()
            sys.stdout.write(before + text)
            sys.stdout.flush()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self._print(wait=True)
        else:
            for _, future in self.pending:
                future.cancel()


@contextlib.contextmanager
def threads_output():
    """This process's stdout shared by the desk's threads (_Output); the desk's threads
    ended on the way out."""
    global _threads
    terminal = sys.stdout
    sys.stdout = _Output(terminal)
    try:
        yield
    finally:
        if _threads is not None:
            _threads.shutdown(wait=True, cancel_futures=True)
            _threads = None
        sys.stdout = terminal
