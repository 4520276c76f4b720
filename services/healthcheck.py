"""Exit 0 when the named service answers its health RPC (container health checks)."""
import sys

import shared  # noqa: F401 - quiets eventlet's notice
from nameko.standalone.rpc import ClusterRpcProxy

from shared import config as config_module


def main(name):
    try:
        with ClusterRpcProxy(config_module.load().nameko, timeout=5) as rpc:
            return 0 if getattr(rpc, name).health()["ok"] else 1
    except Exception as exc:
        print(f"{name}: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
