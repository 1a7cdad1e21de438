"""One logging setup, called first by every entry point: structlog, ISO UTC timestamps,
JSON for machines (APPROVAL_LOG_JSON; a traceback as a structured ``exception`` field) or the
console renderer for people. Every line carries the context variables bound where it is
written — the request id, the actor, the case, the workflow run, the department — and the
standard library's loggers (uvicorn's, the Temporal SDK's, its core's forwarded logs) go
through the same renderer."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(*, json: bool = False, level: int = logging.INFO) -> None:
    """Route structlog and the standard library's logging through one renderer on stderr."""
    rendering: list[structlog.typing.Processor] = (
        [
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ]
        if json
        else [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
            )
        ]
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in OWN_HANDLERS:
        logger = logging.getLogger(name)
        if logger.handlers:  # not one uvicorn was told to keep quiet (--no-access-log)
            logger.handlers.clear()
            logger.propagate = True


OWN_HANDLERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
"""Loggers that uvicorn gives handlers of their own: theirs go through the root's instead."""
