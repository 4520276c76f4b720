"""For the processes that serve HTTP (the portal, the desk): `--wait` as `make up` uses it."""
import sys
import time
import urllib.request


def wait_until_up(name, url, seconds):
    """Exit status 0 once `url` (a /health page) answers 200, 1 if not within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    print(f"{name}: ok ({url})")
                    return 0
        except OSError:
            pass
        if time.monotonic() > deadline:
            print(f"{name}: no answer from {url}", file=sys.stderr)
            return 1
        time.sleep(0.5)
