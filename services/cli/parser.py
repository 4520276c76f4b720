"""The command line's grammar: global options accepted anywhere on the line (as git and
gh do), each command group registering its own commands, choices listed in --help.

Each command group is a module with `register(commands)`; `Commands` hides argparse's
sub-parser plumbing from them."""
import argparse
import os

from services.cli.messages import LANGUAGES

EXIT_CODES = ("exit codes: 0 success; 1 other failure (a verification that found problems, "
              "an unexpected error); 2 bad input or refused permission; 3 the broker, the "
              "database or a service could not be reached")


class UsageError(Exception):
    """The command line does not parse (exit 2)."""

    def __init__(self, message, prog):
        self.message, self.prog = message, prog
        super().__init__(message)


class Parser(argparse.ArgumentParser):
    """Raises UsageError instead of printing and exiting, so that main reports it like
    any other error (in the operator's language, as JSON under --json)."""

    def error(self, message):
        raise UsageError(message, self.prog)


def version():
    from importlib import metadata
    try:
        return metadata.version("pinggu")
    except metadata.PackageNotFoundError:  # run from a checkout without installing
        return "unknown"


def default_lang():
    lang = os.environ.get("PINGGU_LANG", "zh")
    return lang if lang in LANGUAGES else "zh"


def add_globals(parser, top=False):
    """The global options, on the top parser with their defaults and on every command
    with none (argparse.SUPPRESS), so that a value given after the command overrides
    the top's default and one given before it is kept."""
    def default(value):
        return value if top else argparse.SUPPRESS
    g = parser.add_argument_group("global options (accepted anywhere on the line)")
    g.add_argument("--operator", metavar="ID", default=default(
        os.environ.get("PINGGU_OPERATOR")), help="which of your credentials (in "
        "$PINGGU_CREDENTIALS) to act with (default: $PINGGU_OPERATOR)")
    g.add_argument("--json", action="store_true", default=default(False),
                   help="print data as JSON on stdout, errors as a JSON object on stderr")
    g.add_argument("--lang", choices=LANGUAGES, default=default(default_lang()),
                   help="language of messages about your input: zh (default, or "
                        "$PINGGU_LANG) or en")
    g.add_argument("--command-id", metavar="ID", default=default(None),
                   help="this command's idempotency key (default: a new one): the same "
                        "id again has no second effect")


class Commands:
    """The commands of one level of the line (`pinggu …` or `pinggu case …`)."""

    def __init__(self, subparsers, path=()):
        self.subparsers = subparsers
        self.path = path

    def command(self, name, func, help, needs_operator=True):
        p = self.subparsers.add_parser(name, help=help, description=help)
        add_globals(p)
        p.set_defaults(func=func, needs_operator=needs_operator)
        return p

    def group(self, name, help):
        p = self.subparsers.add_parser(name, help=help, description=help)
        add_globals(p)
        return Commands(p.add_subparsers(dest="sub", required=True, metavar="COMMAND"),
                        self.path + (name,))


def groups():
    """The command groups, in the order --help lists them."""
    from services.cli import (backup, campaign, case, clock, completion, forms, health,
                              operator, publish, roster, verify)
    return (roster, campaign, forms, publish, clock, case, verify, operator, health, backup,
            completion)


def build_parser():
    parser = Parser(prog="pinggu", epilog=EXIT_CODES, description="the operator's command "
                    "line of pinggu (晋人社办函〔2023〕223号), talking to the running services")
    parser.add_argument("--version", action="version", version=f"pinggu {version()}")
    add_globals(parser, top=True)
    commands = Commands(parser.add_subparsers(dest="command", required=True,
                                              metavar="COMMAND"))
    for group in groups():
        group.register(commands)
    return parser


def wants_json(argv):
    """Whether --json is on a line that did not parse (to report that error as JSON)."""
    return "--json" in _options(argv)


def lang_of(argv):
    """The --lang of a line that did not parse, if it is there and valid."""
    options = list(_options(argv))
    for n, word in enumerate(options):
        value = word.partition("=")[2] if word.startswith("--lang=") else (
            options[n + 1] if word == "--lang" and n + 1 < len(options) else None)
        if value in LANGUAGES:
            return value
    return default_lang()


def _options(argv):
    for word in argv:
        if word == "--":
            return
        yield word
