"""Issue 14: read tables applied a batch at a time. Each event's change to its row, as the
per-row SQL did it (an UPDATE finding no row changes nothing; LEAST and OR keep the first
or on-time fact), and the CLI's verifications asking the services at once."""
import datetime
from types import SimpleNamespace

from shared.projection import earliest
from services.decisions import projections as decisions
from services.evaluation.projections import CaseFiles

CASE = "5e3c0d7a-0000-4000-8000-000000000001"


def event(name, **fields):
    cls = type(name.split(".")[1], (), {"__qualname__": name})
    e = cls()
    e.__dict__.update(fields, originator_id=CASE)
    return e


def test_earliest_is_sqls_least_over_text_and_dates():
    assert earliest(None, "2023-11-08") == datetime.date(2023, 11, 8)
    assert earliest(datetime.date(2023, 11, 1), "2023-11-08") == datetime.date(2023, 11, 1)
    assert earliest(None, None) is None


def test_a_case_row_opens_once_and_keeps_its_first_and_on_time_facts():
    row = decisions._opened(None, event("Case.Opened", uscc="X"))
    assert (row["phase"], row["self_assessed"], row["deadline"]) == ("undecided", False, None)
    assert decisions._opened(row, event("Case.Opened", uscc="X")) is None
    on_time = decisions.CHANGES["Case.SelfAssessmentNoted"](
        row, event("Case.SelfAssessmentNoted", on_time=True, submitted_on="2023-09-01"))
    late = decisions.CHANGES["Case.SelfAssessmentNoted"](
        on_time, event("Case.SelfAssessmentNoted", on_time=False, submitted_on="2023-08-30"))
    assert late["self_assessed"] is True
    assert late["self_assessed_on"] == datetime.date(2023, 8, 30)
    first = decisions.CHANGES["Case.RectificationNoted"](
        row, event("Case.RectificationNoted", submitted_on="2023-11-08"))
    again = decisions.CHANGES["Case.RectificationNoted"](
        first, event("Case.RectificationNoted", submitted_on="2023-11-20"))
    assert again["rectified_on"] == datetime.date(2023, 11, 8)
    decided = decisions.CHANGES["Case.Decided"](row, event(
        "Case.Decided", phase="rectifying", deadline="2024-01-31",
        verdict={"klass": "暂停评价活动", "outcome": "暂停", "clauses": ["四(二)1"]},
        periods={"四(二)1": {"opened_on": "2023-10-31"}}))
    assert (decided["class"], decided["window_opened"]) == ("暂停评价活动", "2023-10-31")
    assert decisions.CHANGES["Case.DeadlinePassed"](
        row, event("Case.DeadlinePassed", kind="other", due=None)) is None


class FakeRows:
    def __init__(self, rows):
        self.rows, self.put_rows = dict(rows), {}

    def get(self, key):
        return self.rows.get(key)

    def put(self, key, row):
        self.rows[key] = self.put_rows[key] = row


def test_a_case_file_row_changes_only_where_there_is_one():
    status = FakeRows({})
    CaseFiles.change(status, "CaseFile.Scored", CASE, event("CaseFile.Scored"))
    assert status.put_rows == {}
    filing = {"uscc": "X", "jurisdiction": "140100", "cohort": 2021}
    CaseFiles.change(status, "CaseFile.Opened", CASE, event("CaseFile.Opened", filing=filing))
    for name in ("CaseFile.FindingRecorded", "CaseFile.FindingRecorded",
                 "CaseFile.FindingWithdrawn", "CaseFile.Scored"):
        CaseFiles.change(status, name, CASE, event(name))
    CaseFiles.change(status, "CaseFile.FilingUpdated", CASE, event(
        "CaseFile.FilingUpdated", filing=dict(filing, uscc="Y", jurisdiction="140200")))
    row = status.put_rows[CASE]
    assert (row["uscc"], row["jurisdiction"], row["findings"], row["scored"]) == (
        "X", "140200", 1, True)


class FakeReply:
    def __init__(self, log, result):
        self.log, self.value = log, result

    def result(self):
        self.log.append(("result", self.value))
        return self.value


class FakeCluster:
    """Records each request sent and each result taken, in order."""

    def __init__(self):
        self.log = []
        cluster = self

        class Method:
            def __init__(self, service, method):
                self.service, self.method = service, method

            def call_async(self, token, *args):
                cluster.log.append(("send", self.service, self.method, args))
                return FakeReply(cluster.log, {"service": self.service, "args": args})

        self.rpc = SimpleNamespace(**{s: SimpleNamespace(step=Method(s, "step"))
                                      for s in ("a", "b")})

    def token(self, service, method, args):
        return "token"


def test_the_verifications_keep_one_request_out_per_service_at_once():
    from services.cli.verify import together
    cluster, seen = FakeCluster(), {"a": [], "b": []}

    def loop(service, steps):
        for n in range(steps):
            result = yield ("step", n)
            seen[service].append(result)

    together(cluster, {"a": ("a", loop("a", 2)), "b": ("b", loop("b", 1))})
    sends = [entry for entry in cluster.log if entry[0] == "send"]
    assert sends == [("send", "a", "step", (0,)), ("send", "b", "step", (0,)),
                     ("send", "a", "step", (1,))]
    # Both first requests are out before either result is taken: the services work at once.
    assert cluster.log.index(("send", "b", "step", (0,))) < next(
        i for i, entry in enumerate(cluster.log) if entry[0] == "result")
    assert seen == {"a": [{"service": "a", "args": (0,)}, {"service": "a", "args": (1,)}],
                    "b": [{"service": "b", "args": (0,)}]}
