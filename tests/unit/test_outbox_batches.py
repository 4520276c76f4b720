"""How the outbox groups a round of events into messages (issue 14): batches of one type,
each case's events in their order, the other aggregates' events (a campaign, an operator)
never overtaken nor overtaking."""
from hypothesis import given, settings, strategies as st

from shared import integration
from shared.outbox import batches

# (type, case, case-ordered): case types A and B, a barrier type C on aggregates of its own.
EVENT = st.one_of(st.tuples(st.sampled_from("AB"), st.integers(0, 4), st.just(True)),
                  st.tuples(st.just("C"), st.integers(100, 101), st.just(False)))


def grouped(log):
    items = [(kind, case, ordered, k) for k, (kind, case, ordered) in enumerate(log)]
    out = batches(items)
    where = {k: (b, i) for b, batch in enumerate(out) for i, k in enumerate(batch)}
    return out, where


@settings(max_examples=300, deadline=None)
@given(st.lists(EVENT, max_size=60))
def test_batches_keep_each_case_in_order_and_the_other_events_in_place(log):
    out, where = grouped(log)
    assert sorted(where) == list(range(len(log)))  # each event once
    for batch in out:
        assert len({log[k][0] for k in batch}) == 1  # one type a message
        assert batch == sorted(batch)  # in the log's order within a message
    for a in range(len(log)):
        for b in range(a + 1, len(log)):
            if log[a][1] == log[b][1] or not log[a][2] or not log[b][2]:
                # Same case, or either is not a case's: `a` goes out first.
                assert where[a] < where[b], (log, out, a, b)


def test_a_file_of_two_interleaved_kinds_goes_as_two_messages():
    log = [e for case in range(3) for e in (("Opened", case, True, (case, 1)),
                                            ("Noted", case, True, (case, 2)))]
    assert batches(log) == [[(0, 1), (1, 1), (2, 1)], [(0, 2), (1, 2), (2, 2)]]


def test_a_campaign_event_is_a_barrier_and_a_batch_has_a_limit():
    log = [("A", 1, True, "a1"), ("C", 9, False, "c"), ("A", 2, True, "a2"),
           ("C", 9, False, "c2")]
    assert batches(log) == [["a1"], ["c"], ["a2"], ["c2"]]
    many = [("A", n, True, n) for n in range(integration.BATCH_EVENTS + 1)]
    assert [len(b) for b in batches(many)] == [integration.BATCH_EVENTS, 1]
    # Consecutive events of another aggregate, of one type, still go together.
    assert batches([("C", 1, False, 1), ("C", 2, False, 2)]) == [[1, 2]]
