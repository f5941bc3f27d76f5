"""structlog, set up once: JSON off a terminal, readable on one; stdlib logs go through it."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from services.infra.masking import mask_exception_text, mask_personal_data

_configured = False


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> None:
    """Idempotent. ``fmt``: auto (console on a TTY, JSON otherwise), json or console."""
    global _configured
    out = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        # Last of the shared chain, so structlog events and foreign (stdlib) records both get it,
        # extras included, before anything is rendered.
        mask_personal_data,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # a disabled level costs one check, nothing more
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                mask_exception_text,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # FastStream logs one INFO line per message; our middleware logs what matters instead.
    # Its loggers also carry their own handlers: drop them so everything goes through ours.
    for name in ("faststream", "faststream.access", "nats", "nats.aio.client"):
        library_logger = logging.getLogger(name)
        library_logger.handlers[:] = []
        library_logger.propagate = True
        library_logger.setLevel(logging.WARNING)
    _configured = True


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
