"""structlog set-up: JSON when not on a terminal, with the context bound by the services."""
import logging
import sys

import structlog


def configure(json=None, level=logging.INFO):
    if json is None:
        json = not sys.stderr.isatty()
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if json \
        else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def get(name=None):
    return structlog.get_logger(name)
