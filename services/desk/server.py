"""The desk as a process of its own: `python -m services.desk.server [--wait SECONDS]`.

Served by waitress, as the public portal is (services/portal_server.py): a fixed pool of
threads, limits on connections and request sizes, and a bind address of our choosing —
127.0.0.1 unless PINGGU_DESK_BIND says otherwise; in production a reverse proxy in front
terminates TLS and sets X-Forwarded-Proto, so cookies are sent Secure (docs/desk.md).
`--wait` only waits until a running desk answers (as `make up` does).
"""
import argparse
import os
import sys

from shared import config as config_module, log


def settings(env=os.environ):
    return {
        "host": env.get("PINGGU_DESK_BIND", "127.0.0.1"),
        "port": int(env.get("PINGGU_DESK_PORT", "8024")),
        "threads": int(env.get("PINGGU_DESK_THREADS", "4")),
        "connection_limit": int(env.get("PINGGU_DESK_CONNECTIONS", "200")),
        "channel_timeout": 60,
        "max_request_header_size": 16 * 1024,
    }


def wait(seconds):
    from shared.http import wait_until_up
    options = settings()
    host = "127.0.0.1" if options["host"] in ("0.0.0.0", "::") else options["host"]
    return wait_until_up("desk", f"http://{host}:{options['port']}/health", seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description="the operators' desk (web application)")
    parser.add_argument("--wait", type=float, help="wait until a running desk answers")
    args = parser.parse_args(argv)
    if args.wait is not None:
        return wait(args.wait)
    import waitress
    from services.desk.app import create_app
    from services.desk.rpc import Services
    config = config_module.load(dict(os.environ, PINGGU_ROLE=os.environ.get("PINGGU_ROLE")
                                     or "desk"))
    config.check_production()
    log.configure(json=config.log_json)
    services = Services(config)
    behind_proxy = os.environ.get("PINGGU_DESK_BEHIND_PROXY") == "1"
    app = create_app(services, secure_cookies=config.production or behind_proxy)
    if behind_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)
    s = settings()
    log.get("desk").info("desk.started", host=s["host"], port=s["port"], threads=s["threads"])
    try:
        waitress.serve(app, host=s["host"], port=s["port"], threads=s["threads"],
                       connection_limit=s["connection_limit"],
                       channel_timeout=s["channel_timeout"],
                       max_request_header_size=s["max_request_header_size"],
                       max_request_body_size=app.config["MAX_CONTENT_LENGTH"], ident="pinggu-desk")
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
