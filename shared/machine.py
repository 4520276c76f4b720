"""What this machine's CPU has done, for the figures a long command prints beside its
seconds (issue 14: a campaign's time is bounded by the CPU its work costs; on a quiet
machine the whole machine's busy CPU is that cost, every process it woke included)."""
import os


def busy_cpu_seconds():
    """The whole machine's non-idle CPU seconds so far, all cores (/proc/stat); None where
    there is no /proc."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
