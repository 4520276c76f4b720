"""replay and audit verify ask the four services at once and take each reply as it
arrives (issue 14): a service whose step is done gets its next one without waiting for a
slower service ahead of it in the list."""
import itertools
import types

from services.cli import verify


class _Consumer:
    """nameko's standalone reply consumer, as `_first_answered` sees it: the replies read
    so far by correlation id, and a connection whose each read brings the next arrival."""

    def __init__(self, arrivals):
        self.replies, self.timeout, self.arrivals = {}, 5, arrivals
        self.reads = 0
        self.consumer = types.SimpleNamespace(
            connection=types.SimpleNamespace(drain_events=self._read))

    def _read(self, timeout):
        assert timeout == self.timeout
        self.reads += 1
        self.replies.update([self.arrivals.pop(0)])


class _Reply:
    def __init__(self, consumer, correlation_id, body):
        self.reply_event = types.SimpleNamespace(queue_consumer=consumer, exception=None,
                                                 correlation_id=correlation_id)
        self.body = body

    def result(self):
        # The real one would block until it arrives: here it must have.
        assert self.reply_event.correlation_id in self.reply_event.queue_consumer.replies
        return self.reply_event.queue_consumer.replies.pop(self.reply_event.correlation_id)


class _Cluster:
    def __init__(self, consumer):
        self.consumer, self.sent, self.ids = consumer, [], itertools.count()
        self.rpc = self

    def __getattr__(self, service):
        cluster = self

        class Method:
            def __init__(self, name):
                self.name = name

            def call_async(self, token, *args):
                correlation_id = f"{service}-{next(cluster.ids)}"
                cluster.sent.append((service, self.name, args))
                return _Reply(cluster.consumer, correlation_id, None)
        return types.SimpleNamespace(**{m: Method(m) for m in ("step",)})

    def token(self, service, method, args):
        return "token"


def _loop(steps, seen, name):
    for n in range(steps):
        reply = yield ("step", n)
        seen.append((name, n, reply))


def test_each_reply_is_taken_as_it_arrives_not_in_the_loops_order():
    consumer = _Consumer([])
    cluster = _Cluster(consumer)
    seen = []
    # "slow"'s first reply comes last: "fast" is sent its two further steps before.
    consumer.arrivals += [("fast-1", "f0"), ("fast-2", "f1"), ("fast-3", "f2"),
                          ("slow-0", "s0")]
    verify.together(cluster, {"slow": ("slow", _loop(1, seen, "slow")),
                              "fast": ("fast", _loop(3, seen, "fast"))})
    assert seen == [("fast", 0, "f0"), ("fast", 1, "f1"), ("fast", 2, "f2"),
                    ("slow", 0, "s0")]
    assert cluster.sent == [("slow", "step", (0,)), ("fast", "step", (0,)),
                            ("fast", "step", (1,)), ("fast", "step", (2,))]
    assert consumer.reads == 4 and not consumer.arrivals


def test_a_reply_already_read_is_taken_without_reading_again():
    consumer = _Consumer([])
    cluster = _Cluster(consumer)
    seen = []
    consumer.replies.update({"b-1": "b0"})  # read while waiting for another
    consumer.arrivals += [("a-0", "a0")]
    verify.together(cluster, {"a": ("a", _loop(1, seen, "a")),
                              "b": ("b", _loop(1, seen, "b"))})
    assert seen == [("b", 0, "b0"), ("a", 0, "a0")] and consumer.reads == 1


def test_a_failed_read_leaves_the_wait_to_the_first_reply_in_order():
    def broken(timeout):
        raise OSError("connection lost")
    consumer = _Consumer([])
    consumer.consumer.connection.drain_events = broken
    replies = {"x": _Reply(consumer, "x-0", None), "y": _Reply(consumer, "y-1", None)}
    assert verify._first_answered(replies) == "x"
