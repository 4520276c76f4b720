"""The public portal as a process of its own (issue 13): it cannot be held down by slow
clients, it leaves the notices service's RPC alone, and it answers with security headers
and without exception texts."""
import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from services import portal_server

pytestmark = pytest.mark.e2e

SLOW_CLIENTS = 300
PROBE_SECONDS = 30


def _get(cluster, path, timeout=10):
    url = f"http://127.0.0.1:{cluster.http_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_slow_clients_hold_neither_the_portal_nor_the_notices_service(cluster):
    """A bounded slowloris probe: a few hundred connections, each sending a header line
    every few seconds and never finishing its request, for half a minute; meanwhile
    other clients read the portal and operators call the notices service."""
    slow = []
    try:
        for n in range(SLOW_CLIENTS):
            s = socket.create_connection(("127.0.0.1", cluster.http_port), timeout=5)
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(s)
        answered, deadline = [], time.monotonic() + PROBE_SECONDS
        while time.monotonic() < deadline:
            for s in slow:
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass  # the server may close a slow client: that is its right
            status, _, _ = _get(cluster, "/index.html")
            rc, out, err = cluster.cli("health", "--json")
            answered.append((status, rc == 0 and json.loads(out)["notices"]["ok"]))
            time.sleep(3)
        assert answered and all(a == (200, True) for a in answered), answered
    finally:
        for s in slow:
            s.close()
    assert cluster.processes["portal"].poll() is None, "the portal process died"
    assert cluster.processes["notices"].poll() is None, "the notices service died"


def test_security_headers_are_http_headers(cluster):
    status, headers, _ = _get(cluster, "/index.html")
    assert status == 200
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    status, headers, body = _get(cluster, "/no/such/page")
    assert status == 404 and headers["X-Content-Type-Options"] == "nosniff"


def test_the_notices_service_serves_no_http(cluster):
    """Only the portal process listens on the portal's port; nameko's web server, which
    had no connection limit, is not started by the notices service any more."""
    from services.notices.service import NoticesService
    assert not [name for name in dir(NoticesService) if name.startswith("http_")]


def test_an_internal_error_has_a_generic_body():
    class Broken:
        def published_notices(self, fresh=True):
            raise RuntimeError("secret detail: password=hunter2")
    app = portal_server.Portal(Broken(), "http://127.0.0.1/")
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)
    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/index.html"},
                        start_response))
    assert seen["status"].startswith("500")
    assert body == b"internal error" and b"secret" not in body
    assert seen["headers"]["X-Content-Type-Options"] == "nosniff"


def test_the_portal_binds_to_loopback_unless_told_otherwise():
    assert portal_server.settings({})["host"] == "127.0.0.1"
    assert portal_server.settings({"PINGGU_PORTAL_BIND": "0.0.0.0"})["host"] == "0.0.0.0"
    limits = portal_server.settings({})
    assert limits["connection_limit"] > SLOW_CLIENTS and limits["channel_timeout"] > 0


def test_the_portal_cannot_write(cluster, monkeypatch):
    """Its PostgreSQL sessions are read-only: whatever its code asked, PostgreSQL says no."""
    from eventsourcing.persistence import InternalError
    from shared import config as config_module
    for key, value in cluster.env.items():
        if key.startswith("PINGGU_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("PGOPTIONS", "")  # restored after the test: libpq reads it
    app = portal_server.read_only_notices(config_module.load())
    assert app.published_notices(fresh=False) is not None  # it reads
    with pytest.raises(InternalError, match="read-only transaction"):
        with app.recorder.datastore.transaction(commit=True) as cur:
            cur.execute("CREATE TABLE notices.portal_was_here (x int)")
