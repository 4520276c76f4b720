"""The notice's PDF per 1,000 rows (issue 14, bench/README.md "Issue 14's figures").

    .venv/bin/python bench/pdf_rows.py --rows 2000,10000 [--tree DIR]

The province's notice of N institutions of `pinggu sample-province --institutions N`
(their names and USCCs), each decided by the draw of tests/unit/test_pdf.py, rendered the
way `pinggu publish notice` renders it: on the warm pool of services/notices/pdf.py
(its workers started and warmed first, as the CLI does while the service works). Prints
per size the wall time, the CPU time of each worker and of this process, per 1,000 rows,
the pages, and the workers' peak RSS. `--tree` renders with another checkout's templates
and pdf.py (e.g. `git archive main` unpacked), with the same rows, for paired runs: on a
shared machine the wall time follows the load, the CPU times much less.
"""
import argparse
import os
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def entries(n):
    from services.registry.sample import sample_province
    from shared.language.jurisdictions import PROVINCE
    from tests.unit.test_pdf import OUTCOMES
    rng = random.Random(n)
    out = []
    for r in sample_province(2023, n):
        cohort, klass, outcome, clauses = rng.choice(OUTCOMES)
        out.append({"uscc": r.uscc, "name": r.name, "category": r.category, "level": r.level,
                    "jurisdiction": r.city or PROVINCE, "cohort": cohort, "class": klass,
                    "outcome": outcome, "clauses": clauses,
                    "deadline": "2023-12-31" if klass == "rectify" else None,
                    "decided_on": "2023-10-31", "total": 70.5, "grade": "不达标"})
    return out


def _cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def measure(n):
    from services.notices import pdf, publications as pub
    html = pub.render_notice_html({"id": "n1", "number": "晋人社评估〔2023〕1号",
                                   "published_on": "2023-10-31", "entries": entries(n)})
    pdf.start()
    pdf.render_many([pdf.WARM_UP_HTML] * pdf.WORKERS)  # both workers up and warm
    workers = list(pdf._pool._processes)
    before = {pid: _cpu(pid) for pid in workers}
    mine, start = time.process_time(), time.perf_counter()
    body = pdf.render_many([html])[0]
    wall = time.perf_counter() - start
    mine = time.process_time() - mine
    used = [_cpu(pid) - before[pid] for pid in workers]
    info = subprocess.run(["pdfinfo", "-"], input=body, capture_output=True).stdout.decode()
    pages = next((line.split()[1] for line in info.splitlines()
                  if line.startswith("Pages:")), "?")
    per = 1000 / n
    print(f"N={n}: wall {wall:.1f} s ({wall * per:.2f} s per 1,000 rows, load "
          f"{os.getloadavg()[0]:.1f}); CPU workers {' + '.join(f'{u:.1f}' for u in used)} s, "
          f"this process {mine:.1f} s: {(sum(used) + mine) * per:.2f} s per 1,000 rows, "
          f"the longest worker + this process {(max(used) + mine) * per:.2f} s per 1,000 rows; "
          f"{pages} pages, {len(body) // 1024} KB; workers' peak RSS "
          f"{', '.join(str(_peak_rss_mb(pid)) for pid in workers)} MB", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="2000,10000",
                        help="institutions of the sample province, comma-separated")
    parser.add_argument("--tree", help="render with this checkout's code (default: this one)")
    args = parser.parse_args(argv)
    if args.tree and os.path.abspath(args.tree) != ROOT:
        env = dict(os.environ, PINGGU_BENCH_TREE=os.path.abspath(args.tree))
        return subprocess.run([sys.executable, os.path.abspath(__file__), "--rows", args.rows],
                              cwd=args.tree, env=env).returncode
    root = os.environ.get("PINGGU_BENCH_TREE") or ROOT
    sys.path.insert(0, root)
    print(f"{root}: the notice's PDF on the warm pool", flush=True)
    for n in (int(x) for x in args.rows.split(",")):
        measure(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
