"""`pinggu`: the operator's command line, talking to the running services over RabbitMQ.

The package: `parser` (the grammar, global options anywhere), `client` (the cluster:
signed RPC calls, settle), `render` (text or --json, errors, exit codes), `messages`
(the operator's messages in Chinese and English), `files` (writing output safely),
`main` (one command, its errors), `desk` (commands run at once in one process, for
the demo), and one module per command group: `roster`, `forms`,
`campaign`, `publish`, `clock`, `case` (+ `explain`), `verify`, `operator`, `health`,
`backup`, `completion`.

Exit codes (DESIGN.md §3): 0 success; 1 anything else; 2 bad input or refused
permission; 3 the broker, the database or a service could not be reached.
"""
from services.cli.client import Cluster, Session, settle, wait_directory
from services.cli.files import write as _write
from services.cli.main import main
from services.cli.parser import build_parser

__all__ = ["Cluster", "Session", "build_parser", "main", "settle", "wait_directory", "_write"]
