"""The desk's sessions and CSRF tokens (docs/desk.md).

Sessions live in the desk's memory only: the cookie holds a random id (256 bits), never
who the operator is, so signing out ends the session for good and a restarted desk asks
everyone to sign in again. A session expires after IDLE seconds unused and ABSOLUTE
seconds in all. Every session, a signed-out one too, has its CSRF token, which each form
carries and every POST must return; signing in starts a new session (no fixation).
"""
import hmac
import secrets
import threading
import time

IDLE = 30 * 60
ABSOLUTE = 10 * 3600
MAX_SESSIONS = 10000  # the oldest go first: a flood of anonymous visits cannot fill memory


class Sessions:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._sessions = {}
        self._lock = threading.Lock()

    def new(self, operator=None):
        sid = secrets.token_urlsafe(32)
        now = self._clock()
        session = {"operator": operator, "csrf": secrets.token_urlsafe(32), "created": now,
                   "seen": now, "files": {}}
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions, key=lambda k: self._sessions[k]["seen"])
                del self._sessions[oldest]
            self._sessions[sid] = session
        return sid, session

    def get(self, sid):
        if not sid:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if now - session["seen"] > IDLE or now - session["created"] > ABSOLUTE:
                del self._sessions[sid]
                return None
            session["seen"] = now
            return session

    def drop(self, sid):
        with self._lock:
            self._sessions.pop(sid, None)


def csrf_ok(session, sent):
    return bool(session and sent) and hmac.compare_digest(session["csrf"], str(sent))
