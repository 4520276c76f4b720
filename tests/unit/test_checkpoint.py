"""Signed checkpoints (issue 10, item 4): the Merkle root over every stream's head, signed
with the notary's Ed25519 key, verified with the public key only."""
import copy

import pytest
from hypothesis import given, strategies as st

from shared import checkpoint, config

SEED = bytes(range(32))
PUBLIC = checkpoint.public_key_of(SEED)

heads_strategy = st.lists(st.tuples(st.sampled_from(checkpoint.SERVICES), st.uuids().map(str),
                                    st.integers(1, 50), st.text("0123456789abcdef", min_size=8,
                                                                max_size=8)),
                          min_size=1, max_size=30, unique_by=lambda h: (h[0], h[1]))


def document(heads):
    body = {"format": checkpoint.FORMAT, "notice": {"id": "n1", "number": "晋人社〔2023〕1号",
                                                    "published_on": "2023-10-31"},
            "issued_at": "2023-10-31T00:00:00+00:00", "streams": len(heads),
            "events": sum(h[2] for h in heads), "merkle_root": checkpoint.merkle_root(heads),
            "key_id": checkpoint.key_id(PUBLIC)}
    return {**checkpoint.published(body, checkpoint.sign(SEED, body), PUBLIC),
            "heads": [list(h) for h in heads]}


@given(heads_strategy)
def test_a_checkpoint_verifies_with_the_public_key_and_its_heads(heads):
    doc = document(heads)
    assert checkpoint.verify_published(doc, [PUBLIC], doc["heads"])["streams"] == len(heads)


@given(heads_strategy, st.data())
def test_any_changed_removed_or_added_head_changes_the_root(heads, data):
    root = checkpoint.merkle_root(heads)
    i = data.draw(st.integers(0, len(heads) - 1))
    service, stream, version, digest = heads[i]
    for changed in ([*heads[:i], (service, stream, version + 1, digest), *heads[i + 1:]],
                    [*heads[:i], (service, stream, version, digest[::-1] + "x"),
                     *heads[i + 1:]],
                    heads[:i] + heads[i + 1:],
                    [*heads, ("registry", "new-stream", 1, "00")]):
        assert checkpoint.merkle_root(changed) != root


def test_the_root_does_not_depend_on_the_order_heads_are_read_in():
    heads = [("registry", "b", 1, "aa"), ("evaluation", "a", 2, "bb"), ("registry", "a", 3, "cc")]
    assert checkpoint.merkle_root(heads) == checkpoint.merkle_root(list(reversed(heads)))


def test_an_edited_checkpoint_or_another_key_is_refused():
    doc = document([("registry", "a", 1, "aa")])
    edited = copy.deepcopy(doc)
    edited["checkpoint"]["merkle_root"] = "0" * 64
    with pytest.raises(checkpoint.CheckpointError, match="signature"):
        checkpoint.verify_published(edited, [PUBLIC])
    other = checkpoint.public_key_of(bytes(32))
    with pytest.raises(checkpoint.CheckpointError, match="signature"):
        checkpoint.verify_published(doc, [other])
    with pytest.raises(checkpoint.CheckpointError, match="heads"):
        checkpoint.verify_published(doc, [PUBLIC], [["registry", "a", 2, "aa"]])


def test_a_stored_checkpoint_names_the_stream_whose_last_event_went_missing_or_changed():
    heads = [["registry", "s1", 3, "aa"], ["decisions", "s2", 5, "bb"]]
    entry = document(heads)
    found = {("registry", "s1", 3): "aa", ("decisions", "s2", 5): "bb"}
    assert checkpoint.check_against_store(entry, found, [PUBLIC]) == []
    del found[("decisions", "s2", 5)]
    found[("registry", "s1", 3)] = "zz"
    problems = checkpoint.check_against_store(entry, found, [PUBLIC])
    assert [(p["service"], p["case"], p["position"]) for p in problems] == [
        ("registry", "s1", 3), ("decisions", "s2", 5)]
    assert "altered" in problems[0]["problem"] and "missing" in problems[1]["problem"]


def test_the_verifier_reads_a_portal_directory(tmp_path):
    import json
    doc = document([("registry", "a", 1, "aa")])
    (tmp_path / "notices").mkdir()
    (tmp_path / "notices" / "n1.checkpoint.json").write_text(json.dumps(doc))
    (tmp_path / "notices" / "n2.checkpoint.json").write_text(json.dumps(
        {**doc, "signature": document([("registry", "b", 1, "aa")])["signature"]}))
    results = checkpoint.verify_path(str(tmp_path), [PUBLIC])
    assert [(r["file"].rsplit("/", 1)[1], r["ok"]) for r in results] == [
        ("n1.checkpoint.json", True), ("n2.checkpoint.json", False)]


def test_the_development_notary_key_is_the_default_only_outside_production():
    assert config.load({}).notary_seed == config.DEV_NOTARY_SEED
    assert config.load({"PINGGU_MODE": "production"}).notary_seed is None
