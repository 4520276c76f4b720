"""A file parsed as a service parses it (eventlet monkey-patched), with and without a
greenthread that keeps the hub busy SLICE seconds at a time, as projections catching up
and the outbox do (issue 14; shared/parse_worker.py). The quiet parse of the same run is
the baseline: the figure is busy wall / quiet wall, with the worker's CPU beside each.

    .venv/bin/python bench/parse_busy_hub.py FILE.xlsx [--kind roster] [--slice 0.1]

A roster of N rows: `pinggu sample-province --institutions N --out FILE.xlsx` (at most
19,999 rows a file).
"""
import argparse
import resource
import sys
import time
import warnings

warnings.simplefilter("ignore")  # eventlet's deprecation notice
import eventlet  # noqa: E402

eventlet.monkey_patch()
from shared import parse_worker  # noqa: E402


def parse(kind, path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    rows = parse_worker.parse(kind, path, "bench.xlsx")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return len(rows), time.perf_counter() - started, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("--kind", default="roster")
    p.add_argument("--slice", type=float, default=0.1,
                   help="seconds the busy greenthread keeps the hub at a time")
    args = p.parse_args()
    n, quiet, quiet_cpu = parse(args.kind, args.file)
    print(f"quiet: {n} rows in {quiet:.2f} s (worker CPU {quiet_cpu:.2f} s)", flush=True)

    def busy():
        while True:
            until = time.perf_counter() + args.slice
            while time.perf_counter() < until:
                pass
            eventlet.sleep(0)
    hog = eventlet.spawn(busy)
    n, loaded, loaded_cpu = parse(args.kind, args.file)
    hog.kill()
    print(f"busy hub ({args.slice * 1000:.0f} ms slices): {n} rows in {loaded:.2f} s "
          f"(worker CPU {loaded_cpu:.2f} s): x{loaded / quiet:.2f} of the quiet parse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
