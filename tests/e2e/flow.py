"""Steps of a campaign through the CLI, shared by the end-to-end tests."""
from tests import factories
from tests.support import wait_for


def file(cluster, tmp_path, rows, name="roster.xlsx"):
    cluster.cli("roster", "import", factories.roster(tmp_path / name, rows),
                operator="province", check=True)
    # Evaluation learns of filings from the registry's events: wait until it has.
    wait_for(lambda: all(cluster.cli("template", "score-sheet", "--jurisdiction",
                                     row.jurisdiction, "--out", str(tmp_path / "probe.xlsx"),
                                     operator="province")[0] == 0 for row in rows),
             what="evaluation to know the filings")


def submit(cluster, kind, path, operator, expect=0):
    """Submit a form; forms about cases evaluation has only just opened may need a retry."""
    result = wait_for(lambda: (r := cluster.cli("submit", kind, str(path), operator=operator))[0]
                      == expect and r, what=f"{kind} to give exit {expect}")
    return result


def self_assess(cluster, tmp_path, rows, operator, **kwargs):
    path = factories.self_assessment(tmp_path / "sa.xlsx", rows, **kwargs)
    return submit(cluster, "self-assessment", path, operator)


def score(cluster, tmp_path, scores, operator, name="scores.xlsx"):
    return submit(cluster, "score-sheet", factories.score_sheet(tmp_path / name, scores),
                  operator)


def clock(cluster, date):
    cluster.set_clock(date)


def verdict(cluster, uscc, outcome=None, timeout=30):
    """The case once it has a verdict (or the given outcome)."""
    def decided():
        case = cluster.cli_json("case", "show", uscc)
        return case if case["outcome"] and (outcome is None or case["outcome"] == outcome) \
            else None
    return wait_for(decided, timeout=timeout, what=f"{uscc} to be decided {outcome or ''}")
