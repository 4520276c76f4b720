"""The CLI writes only plain relative names inside --out, and replay verification names
its scratch schema itself (issue 13)."""
import os

import pytest

from services import cli
from shared import replay
from shared.errors import BadInput


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../b", "notices/../../x",
                                  ".hidden", "", "a\\b", "a//b", "x\0y", "../" * 5 + "x"])
def test_a_name_from_the_server_that_leaves_out_is_refused(tmp_path, name):
    out = tmp_path / "out"
    with pytest.raises(BadInput, match="nothing was written"):
        cli._write(str(out), name, b"x")
    assert not any(p for p in tmp_path.rglob("*") if p.is_file())


def test_plain_names_are_written_inside_out(tmp_path):
    path = cli._write(str(tmp_path), "notices/abc-1.html", b"<p>")
    assert path == os.path.join(os.path.realpath(tmp_path), "notices", "abc-1.html")
    assert open(path, "rb").read() == b"<p>"


def test_a_symbolic_link_inside_out_does_not_lead_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "notices")
    with pytest.raises(BadInput, match="outside"):
        cli._write(str(out), "notices/x.html", b"x")
    assert not list(outside.iterdir())


class _App:
    schema = "notices"


@pytest.mark.parametrize("run", ["", "x; DROP SCHEMA notices CASCADE", "../notices", None,
                                 "0123456789abcdeF", "0123456789abcde"])
def test_a_replay_run_id_names_nothing_but_its_own_scratch_schema(run):
    with pytest.raises(BadInput, match="not a replay run id"):
        replay.scratch(_App(), run)


def test_each_replay_run_has_its_own_scratch_schema():
    assert replay._schema(_App(), "0123456789abcdef") == "notices_replay_0123456789abcdef"
