"""The public portal as a process of its own: `python -m services.portal_server`.

The portal is the one part of pinggu that anonymous clients reach. It used to be served
by nameko's web server inside the notices service, which starts a greenthread per
connection with no limit or timeout: a few hundred half-open requests held it, and at the
file limit `accept()` failed and took the notices service's RPC, inbox and outbox down
with it. Here it runs apart from all of that, behind waitress (a production WSGI
server): a cap on connections, idle-connection and request-size limits, a fixed pool of
worker threads, and a bind address of our choosing (127.0.0.1 unless
PINGGU_PORTAL_BIND says otherwise; a reverse proxy or the province's gateway publishes
it).

Its data: the notices service's read tables and events, read through the notices
application with every PostgreSQL transaction read-only (PGOPTIONS), and no tables
created. It writes nothing, consumes nothing and publishes nothing (docs/operations.md
says why this, and not a static export). The routes are services/notices/portal.py's.

Every answer carries the security headers as HTTP headers; a 5xx has a generic body
(the exception is in the portal's log, never in the response).
"""
import os
import resource
import sys

from shared import config as config_module, log
from services.notices import portal, publications

SECURITY_HEADERS = {
    # The pages are static documents: no script, no frames, styles inline only; the one
    # form (the search) goes to the portal itself.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src 'self'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
STATUS = {200: "200 OK", 302: "302 Found", 304: "304 Not Modified", 404: "404 Not Found",
          405: "405 Method Not Allowed", 500: "500 Internal Server Error"}


def settings(env=os.environ):
    """The server's limits, each overridable from the environment (docs/operations.md)."""
    return {
        "host": env.get("PINGGU_PORTAL_BIND", "127.0.0.1"),
        "port": int(env.get("PINGGU_HTTP_PORT", "8023")),
        "connection_limit": int(env.get("PINGGU_PORTAL_CONNECTIONS", "1000")),
        "threads": int(env.get("PINGGU_PORTAL_THREADS", "8")),
        # An idle connection is closed after this many seconds.
        "channel_timeout": int(env.get("PINGGU_PORTAL_IDLE_TIMEOUT", "20")),
        "max_request_header_size": 16 * 1024,
        "max_request_body_size": 64 * 1024,
    }


class Portal:
    """The WSGI application: GET (and HEAD) of portal.route, with ETags."""

    def __init__(self, app, base_url):
        self.app = app
        self.base_url = base_url
        self.log = log.get("portal")

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if method not in ("GET", "HEAD"):
                status, ctype, body, extra = 405, portal.TYPES["text"], \
                    b"method not allowed", {"Allow": "GET, HEAD"}
            else:
                status, ctype, body, extra = portal.route(
                    self.app, environ.get("PATH_INFO", "/"), _args(environ), self.base_url)
        except Exception:  # the client gets a generic answer; the log keeps the cause
            self.log.exception("portal.error", path=environ.get("PATH_INFO"))
            status, ctype, body, extra = 500, portal.TYPES["text"], \
                b"internal error", {}
        headers = dict(SECURITY_HEADERS, **extra)
        if ctype:
            headers["Content-Type"] = ctype
        if status == 200:
            # A poll whose If-None-Match matches costs a 304 and no body.
            tag = publications.etag(body)
            headers.update({"ETag": tag, "Cache-Control": "no-cache"})
            if tag in environ.get("HTTP_IF_NONE_MATCH", ""):
                status, body = 304, b""
        body = body or b""
        headers["Content-Length"] = str(len(body))
        start_response(STATUS.get(status, f"{status} Error"), list(headers.items()))
        return [b"" if method == "HEAD" else body]


def _args(environ):
    from urllib.parse import parse_qs
    try:
        query = parse_qs(environ.get("QUERY_STRING", "")[:2048], max_num_fields=20)
    except ValueError:  # more fields than any route reads: ignore them all
        return {}
    return {k: v[0] for k, v in query.items()}


def read_only_notices(config):
    """The notices application on read-only PostgreSQL sessions, creating nothing."""
    # libpq passes these options to every session the process opens: a write fails
    # in PostgreSQL itself, whatever the code asks for.
    os.environ["PGOPTIONS"] = (os.environ.get("PGOPTIONS", "") +
                               " -c default_transaction_read_only=on").strip()
    from services.notices.application import Notices
    env = dict(config.pg_env("notices"), CREATE_TABLE="false")
    return Notices(config, env=env)


def _raise_file_limit(wanted):
    """Room for every connection the cap allows, plus the process's own files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted + 128))
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def wait(seconds):
    """`--wait SECONDS`: exit 0 once the portal answers /health, 1 if it does not."""
    from shared.http import wait_until_up
    options = settings()
    host = "127.0.0.1" if options["host"] in ("0.0.0.0", "::") else options["host"]
    return wait_until_up("portal", f"http://{host}:{options['port']}/health", seconds)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--wait"]:
        return wait(float(argv[1]) if len(argv) > 1 else 60)
    import waitress
    config = config_module.load()
    log.configure(json=config.log_json)
    options = settings()
    files = _raise_file_limit(options["connection_limit"])
    # Never more connections than files: accept() must not fail with EMFILE.
    options["connection_limit"] = min(options["connection_limit"], files - 128)
    base_url = os.environ.get("PINGGU_PORTAL_URL", f"http://127.0.0.1:{options['port']}/")
    application = Portal(read_only_notices(config), base_url)
    log.get("portal").info("portal.started", **{k: options[k] for k in (
        "host", "port", "connection_limit", "threads", "channel_timeout")})
    waitress.serve(application, ident="pinggu", expose_tracebacks=False,
                   asyncore_use_poll=True,  # select() cannot watch more than 1024 sockets
                   **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
