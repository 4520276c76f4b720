"""The file commands alone (issue 14, bench/README.md): a roster import, its re-import, a
self-assessment and a score sheet of every in-scope institution as ONE file each, run in
this process on the services' own applications (a database of a fresh
tests.support.Cluster, no service started), so that what a file's rows cost the command
is measured without the CLI, RPC, the parse worker or the other services' load.

    .venv/bin/python bench/forms_commands.py [--institutions 2000] [--baseline-n 2000]
"""
import argparse
import datetime as dt
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import area_scores, baseline_inserts, progress  # noqa: E402

DAY = dt.date(2023, 8, 28)


def run(n):
    from shared import commands, config
    from shared.metadata import caused_by
    from shared.operators import Operator
    from services.evaluation import campaign
    from services.evaluation.application import CaseFiles, Evaluation
    from services.evaluation.domain import CaseFile
    from services.evaluation.forms import ScoreRow, SelfAssessmentRow
    from services.evaluation.rubric import DEFAULT_RUBRIC
    from services.registry.application import Filings, Registry
    from services.registry.sample import sample_province
    cfg = config.load()
    registry, evaluation = Registry(cfg), Evaluation(cfg)
    registry.attach_projections([Filings])
    evaluation.attach_projections([CaseFiles])
    timings = {}

    def timed(label, rows, command):
        with commands.bound(str(uuid.uuid4()), label, "bench"):
            start = time.perf_counter()
            command()
            timings[label] = (time.perf_counter() - start, rows)

    filings = [r.to_dict() for r in sample_province(institutions=n)]
    scope = [f for f in filings if f["cohort"] in campaign.DEFAULT_2023["cohorts"]]
    province = Operator("province", "province", "140000")  # acts for every jurisdiction
    with caused_by("province", "province", business_date=DAY):
        timed("roster import", n, lambda: registry.import_roster(filings))
        timed("roster re-import (unchanged)", n, lambda: registry.import_roster(filings))
        evaluation.open_campaign(campaign.validate(campaign.DEFAULT_2023))
        for i in range(0, len(scope), 1000):  # as the registry's filings would open them
            evaluation.save(*[CaseFile(uscc=f["uscc"], filing=f) for f in scope[i:i + 1000]])
        evaluation.require_campaign()  # the read table caught up, not timed
        sa = [SelfAssessmentRow(i + 2, f["uscc"], 12, 3, 5, 85, [
            {"year": year, "occupation": f["scope"][0]["occupation"],
             "level": f["scope"][0]["levels"][0], "assessed": 40, "passed": 36,
             "certified": 36, "row_number": 2 * i + year - 2019} for year in (2021, 2022)])
            for i, f in enumerate(scope)]
        areas = area_scores()
        score = DEFAULT_RUBRIC.score(areas).to_dict()
        sc = [ScoreRow(i + 2, f["uscc"], areas, score, "评估员甲", "2023-10-31")
              for i, f in enumerate(scope)]
        timed("self-assessment", len(sa),
              lambda: evaluation.submit_self_assessments(province, "sa.xlsx", sa, DAY))
        timed("score sheet", len(sc), lambda: evaluation.submit_scores(province, "sc.xlsx", sc))
    registry.close()
    evaluation.close()
    return timings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--institutions", type=int, default=2000)
    parser.add_argument("--baseline-n", type=int, default=2000)
    args = parser.parse_args(argv)
    from tests.support import Cluster
    rate, _ = baseline_inserts(args.baseline_n)
    progress(f"baseline: {rate:.0f} inserts/s")
    cluster = Cluster().create()
    os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("PINGGU_")})
    try:
        timings = run(args.institutions)
    finally:
        cluster.destroy()
    print(f"\nbaseline: {rate:.0f} single-row INSERT+COMMIT/s (same run)")
    print(f"  {'one file, one command':<32} {'rows':>6} {'s':>7} {'rows/s':>8} {'ratio':>7}")
    for label, (seconds, rows) in timings.items():
        print(f"  {label:<32} {rows:6d} {seconds:7.2f} {rows / seconds:8.0f} "
              f"{rows / seconds / rate:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
