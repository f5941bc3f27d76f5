"""Which failures are the message's fault (dead-letter at once) and how to say why."""

from __future__ import annotations

import json

import pydantic
from fast_depends.exceptions import ValidationError as DependsValidationError


class PoisonMessage(Exception):
    """Raised by a handler for input that can never succeed, however often it is retried."""


class HandlerBug(RuntimeError):
    """A validation error raised by our own code while handling a valid message: retried
    like any failure (a fix and a replay may follow), never blamed on the message."""


def _pydantic_reason(err: pydantic.ValidationError) -> str:
    parts = []
    for e in err.errors()[:10]:
        loc = ".".join(str(p) for p in e.get("loc", ())) or "(message)"
        parts.append(f"{loc}: {e.get('msg')}")
    more = len(err.errors()) - 10
    return "invalid message: " + "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def body_problem(data: bytes) -> str | None:
    """Why the raw body is not a JSON document at all, or None when it is one."""
    try:
        json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        return f"body is not valid JSON ({exc.msg} at position {exc.pos})"
    return None


def poison_reason(exc: BaseException, data: bytes | None = None) -> str | None:
    """A human-readable reason when ``exc`` means the message itself is bad; else None.

    FastStream hands undecodable bodies to validation as raw bytes, so a validation failure
    is first explained by the body itself when ``data`` shows it is not JSON."""
    # Validation of the incoming message happens before any handler runs; a pydantic error
    # raised inside a handler (building an outgoing event) reaches here as HandlerBug instead.
    is_validation = isinstance(exc, DependsValidationError | pydantic.ValidationError)
    if is_validation and data is not None and (problem := body_problem(data)):
        return problem
    if isinstance(exc, DependsValidationError):
        original = exc.original_error
        if isinstance(original, pydantic.ValidationError):
            return _pydantic_reason(original)
        return f"invalid message: {original!r}"
    if isinstance(exc, UnicodeDecodeError):
        return f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})"
    if isinstance(exc, json.JSONDecodeError):
        return f"body is not valid JSON ({exc.msg} at position {exc.pos})"
    if isinstance(exc, pydantic.ValidationError):
        return _pydantic_reason(exc)
    if isinstance(exc, PoisonMessage):
        return str(exc)
    return None
