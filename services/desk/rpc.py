"""The desk's calls to the services (docs/desk.md).

Each call carries a token the desk mints for the signed-in operator under the desk's own
issuer key (`iss` pinggu-desk, `sub` the operator's id): the services trust that key only
to say who signed in, and take the operator's role and jurisdiction from their own copy
of the directory (shared.directory), so a revoked operator is refused at once even with a
live desk session. Never a shared operator. The desk's own subject (`desk`) is used for
one call only: asking the registry to check a password.

The RPC proxies are pooled: a standalone nameko proxy serves one thread at a time, and
waitress answers from a fixed pool of threads.
"""
import queue
import uuid

from nameko.exceptions import RemoteError, RpcTimeout

from shared import tokens
from shared.errors import from_remote


class Services:
    def __init__(self, config, timeout=120):
        if config.desk_seed is None:
            raise RuntimeError("the desk needs its issuer key: set PINGGU_DESK_KEY_FILE")
        self.config = config
        self.timeout = timeout
        self.key = tokens.desk_private_key(config.desk_seed)
        self.kid = tokens.key_id(tokens.public_bytes(self.key))
        self._idle = queue.LifoQueue()

    def token(self, operator, service, method, args=(), kwargs=None, command_id=None):
        """`operator`: the session's {id, role, jurisdiction}, or None for the desk itself."""
        subject, role, jurisdiction = (operator["id"], operator["role"],
                                       operator["jurisdiction"]) if operator \
            else (tokens.DESK_SUBJECT, "system", None)
        return tokens.mint(self.key, kid=self.kid, subject=subject, role=role,
                           jurisdiction=jurisdiction, audience=service, method=method,
                           args_digest=tokens.digest(args, kwargs), issuer=tokens.DESK_ISSUER,
                           jti=command_id or str(uuid.uuid4()))

    def call(self, operator, service, method, *args, command_id=None, **kwargs):
        """The result, or the BadInput/Refused the service raised; other errors as they are.

        A pooled connection the broker has since closed fails at once: the call is made
        again, once, on a new one, with the same token. That is safe for a command too: the
        same token is the same command id, which the service's journal runs once."""
        token = self.token(operator, service, method, args, kwargs, command_id)
        for attempt in (1, 2):
            proxy = self._take()
            try:
                result = getattr(getattr(proxy[1], service), method)(token, *args, **kwargs)
            except RemoteError as exc:
                self._idle.put(proxy)
                raise from_remote(exc) or exc
            except RpcTimeout:
                _discard(proxy)
                raise
            except Exception:
                _discard(proxy)  # a broken connection is not handed to the next request
                if attempt == 2:
                    raise
                continue
            self._idle.put(proxy)
            return result

    def _take(self):
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            from nameko.standalone.rpc import ClusterRpcProxy
            standalone = ClusterRpcProxy(self.config.nameko, timeout=self.timeout)
            return standalone, standalone.start()

    def close(self):
        while True:
            try:
                _discard(self._idle.get_nowait())
            except queue.Empty:
                return


def _discard(proxy):
    try:
        proxy[0].stop()
    except Exception:  # already broken: there is nothing left to close cleanly
        pass
