"""Running one command: parse, act against the cluster, and turn what went wrong into one
clear message and an exit code (render.EXIT_*), never a traceback unless PINGGU_DEBUG."""
import os
import sys
import uuid

from shared import config as config_module
from shared.errors import BadInput, Refused, from_remote
from services.cli import render
from services.cli.client import Cluster, NoAnswer, Unavailable, rpc_timeout
from services.cli.messages import say
from services.cli.parser import UsageError, build_parser, lang_of, wants_json

# Exceptions a service raises when its own database is down.
DATABASE_DOWN = ("OperationalError", "InterfaceError")


def main(argv=None, session=None):
    """Run one command line; its exit code. `session` (client.Session) keeps the RPC
    clients for the next command of the same process (the demo) instead of connecting
    anew for each."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser().parse_args(argv)
    except UsageError as exc:
        return render.error(_Flags(wants_json(argv)), "usage", render.EXIT_INPUT,
                            [say("usage", lang_of(argv), message=exc.message,
                                 prog=exc.prog)])
    if args.needs_operator and not args.operator:
        return render.error(args, "no_operator", render.EXIT_INPUT,
                            [say("no_operator", args.lang)])
    operator = args.operator or "auditor"
    config = None
    command_id = args.command_id or str(uuid.uuid4())
    try:
        config = config_module.load()
        timeout = rpc_timeout(file_command=getattr(args, "file_command", False))
        if session is not None:
            code = args.func(args, session.cluster(config, operator, command_id, timeout))
        else:
            with Cluster(config, operator, timeout, command_id=command_id) as cluster:
                code = args.func(args, cluster)
        return render.EXIT_OK if code is None else code
    except Exception as exc:  # the operator gets a message; the trace is for developers
        if session is not None:
            session.discard(operator)  # a client an error interrupted is not reused
        if os.environ.get("PINGGU_DEBUG"):
            raise
        return report(args, config, exc)


_parsers = {}


def parser():
    """The grammar, built once per process (~25 ms, paid by each of the demo's 140
    commands otherwise). Its defaults come from the environment, so one per value of it."""
    key = (os.environ.get("PINGGU_OPERATOR"), os.environ.get("PINGGU_LANG"))
    if key not in _parsers:
        _parsers[key] = build_parser()
    return _parsers[key]


class _Flags:
    """What rendering an error needs when the command line itself could not be parsed."""

    def __init__(self, as_json):
        self.json = as_json


def report(args, config, exc):
    """Print `exc` for the operator (or as JSON) and return its exit code."""
    from nameko.exceptions import RemoteError, UnknownService
    lang = args.lang
    if isinstance(exc, RemoteError):
        recovered = from_remote(exc)
        if recovered is not None:
            exc = recovered
        elif exc.exc_type in DATABASE_DOWN:
            exc = Unavailable("database", "(the service's)", exc.value)
    if isinstance(exc, BadInput):
        return render.error(args, "bad_input", render.EXIT_INPUT,
                            render.bad_input_lines(exc, lang), _bad_input_data(exc))
    if isinstance(exc, Refused):
        return render.error(args, "refused", render.EXIT_INPUT,
                            [say("refused", lang, rule=exc.rule, message=exc.message)],
                            exc.to_dict())
    if isinstance(exc, UnknownService):
        exc = Unavailable("service", exc.args[0] if exc.args else "?", "not running")
    if _database_down(exc):
        exc = Unavailable("database", f"{config.pg_host}:{config.pg_port}" if config else "?",
                          str(exc).strip().splitlines()[0] if str(exc).strip() else
                          type(exc).__name__)
    if isinstance(exc, Unavailable):
        line = say("service_down", lang, service=exc.where) if exc.what == "service" else \
            say("unavailable", lang, what=say(exc.what, lang), where=exc.where,
                reason=exc.reason)
        return render.error(args, "unavailable", render.EXIT_UNAVAILABLE, [line],
                            exc.to_dict())
    if isinstance(exc, NoAnswer):
        return render.error(args, "no_answer", render.EXIT_UNAVAILABLE,
                            [say("no_answer", lang, service=exc.service,
                                 seconds=f"{exc.seconds:g}", command_id=exc.command_id)],
                            exc.to_dict())
    if isinstance(exc, config_module.ConfigError):
        return render.error(args, "configuration", render.EXIT_INPUT, [str(exc)])
    if isinstance(exc, FileNotFoundError):
        return render.error(args, "bad_input", render.EXIT_INPUT,
                            [say("no_such_file", lang, file=exc.filename)],
                            {"file": exc.filename})
    if isinstance(exc, RemoteError):
        return render.error(args, "remote", render.EXIT_ERROR, [str(exc.value)],
                            {"type": exc.exc_type})
    return render.error(args, "internal", render.EXIT_ERROR,
                        [f"{type(exc).__name__}: {exc}"], {"type": type(exc).__name__})


def _bad_input_data(exc):
    data = exc.to_dict()
    data.pop("error", None)
    return data


def _database_down(exc):
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - a dependency of the project
        return False
    return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))
