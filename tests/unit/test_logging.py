"""configure_logging: JSON lines off a terminal, carrying the bound context."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from services.infra.logging import configure_logging, get_logger


@contextmanager
def restored_logging() -> Iterator[None]:
    """Put back root handlers, levels and structlog's config (inside the test's call phase)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {n: logging.getLogger(n).level for n in ("faststream", "nats")}
    config = structlog.get_config()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, lvl in quiet.items():
            logging.getLogger(name).setLevel(lvl)
        structlog.configure(**config)


def test_json_lines_carry_event_level_and_context() -> None:
    out = io.StringIO()
    with restored_logging():
        configure_logging(fmt="json", stream=out)
        with structlog.contextvars.bound_contextvars(correlation_id="flow42"):
            get_logger("homecare.test.json").info("visit counted", household_id="H1")
    line = json.loads(out.getvalue().strip())
    assert line["event"] == "visit counted"
    assert line["level"] == "info"
    assert line["correlation_id"] == "flow42"
    assert line["household_id"] == "H1"
    assert line["logger"] == "homecare.test.json"
    assert "timestamp" in line


def test_stdlib_records_and_level_filter() -> None:
    out = io.StringIO()
    with restored_logging():
        configure_logging(level="warning", fmt="json", stream=out)
        logging.getLogger("homecare.test.std").info("dropped")
        logging.getLogger("homecare.test.std").warning("kept %s", "this")
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [(x["event"], x["level"]) for x in lines] == [("kept this", "warning")]


def test_context_does_not_leak_after_unbinding() -> None:
    out = io.StringIO()
    with restored_logging():
        configure_logging(fmt="json", stream=out)
        with structlog.contextvars.bound_contextvars(correlation_id="flow1"):
            pass
        get_logger("homecare.test.leak").info("after")
    assert "correlation_id" not in json.loads(out.getvalue())


def test_console_format_is_not_json() -> None:
    out = io.StringIO()
    with restored_logging():
        configure_logging(fmt="console", stream=out)
        get_logger("homecare.test.console").info("readable", household_id="H1")
    text = out.getvalue()
    assert "readable" in text and "household_id" in text
    try:
        json.loads(text)
    except json.JSONDecodeError:
        pass
    else:
        raise AssertionError(f"console output parsed as JSON: {text!r}")


def test_auto_on_a_non_terminal_is_json() -> None:
    out = io.StringIO()  # isatty() is False
    with restored_logging():
        configure_logging(stream=out)
        get_logger("homecare.test.auto").info("auto")
    assert json.loads(out.getvalue())["event"] == "auto"


def test_restored_afterwards() -> None:
    before = logging.getLogger().handlers[:]
    with restored_logging():
        configure_logging(fmt="json", stream=io.StringIO())
        assert logging.getLogger().handlers != before
    assert logging.getLogger().handlers == before
