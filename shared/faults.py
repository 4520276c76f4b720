"""A test-only fault hook: the process kills itself at a named point, once.

The fault-injection suite (tests/chaos) sets PINGGU_FAULT_KILL_AT to a point's name and
PINGGU_FAULT_MARK to a file; the first process of the cluster to reach that point creates
the file and dies by SIGKILL, so the kill lands deterministically between a command's
commit and the acknowledgement of its request. Unset (production), a point costs one
dictionary look-up.
"""
import os
import signal


def point(name):
    if os.environ.get("PINGGU_FAULT_KILL_AT") != name:
        return
    mark = os.environ.get("PINGGU_FAULT_MARK")
    if not mark:
        return
    try:
        os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return  # fired already: the restarted process goes on
    from shared import log
    log.get("faults").warning("fault.kill", point=name, pid=os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)
