"""Writing the files a command produces: atomically, and only inside the directory the
operator chose, whatever names the server sends."""
import base64
import os
import re
import tempfile

from services.cli.messages import bad_input

# A name the server may ask us to write under --out: plain relative segments, no dot
# segments, no absolute paths, no separators other than "/".
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def parent_of(path):
    """Create the directory an output file goes in, as an operator would expect."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return path


def safe_relative(directory, relative):
    """The segments of a name the server sent, or BadInput if it is not a plain
    relative name (checked for every file before any is written)."""
    parts = relative.split("/") if isinstance(relative, str) else []
    if not parts or len(parts) > 4 or not all(_SAFE_SEGMENT.fullmatch(p) and ".." not in p
                                             for p in parts):
        raise bad_input("unsafe_name", file=directory, name=repr(str(relative)[:80]))
    return parts


def write(directory, relative, content):
    """Write one file of a publication, atomically: a reader never sees half a file.
    Only inside `directory`: the names come from the server, which is not trusted to
    choose where the operator's files go."""
    root = os.path.realpath(directory)
    path = os.path.join(root, *safe_relative(directory, relative))
    if os.path.commonpath([root, os.path.realpath(path)]) != root:  # a symlink inside
        raise bad_input("outside", file=directory, name=relative, directory=directory)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64decode(content) if isinstance(content, str) else content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path
