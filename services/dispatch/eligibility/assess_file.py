"""Assess a document of applications (domain.md §7) and render the results.

One bad application must not hide the others' results, so item problems become error entries
in place; only a document that is not a JSON list at all is refused as a whole.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from contracts.dispatch.application import Application
from contracts.money import money_text
from services.dispatch.eligibility.policy import DEFAULT_POLICY_BOOK, PolicyBook, PolicyError
from services.dispatch.eligibility.rules import Assessment, assess


class DocumentError(ValueError):
    """The document as a whole cannot be read (not JSON, or not a JSON list)."""


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a path: ("elders", 0, "birth_date") -> elders[0].birth_date."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "application"


# Plainer words for the commonest problems; other messages are pydantic's own.
_MESSAGES = {
    "extra_forbidden": "unknown field (not part of the application format)",
    "missing": "required field is missing",
    "bool_type": "must be a JSON boolean (true or false)",
}


def _error_entry(item: object, message: str) -> dict[str, Any]:
    household_id = item.get("household_id") if isinstance(item, dict) else None
    return {
        "household_id": household_id if isinstance(household_id, str) else None,
        "error": message,
    }


def result_entry(result: Assessment) -> dict[str, Any]:
    """The §7 assessment result, keys in the documented order."""
    return {
        "household_id": result.household_id,
        "category": result.category,
        "monthly_subsidy": money_text(result.monthly_subsidy),
        "round": result.round,
        "rules": list(result.rules),
    }


def assess_item(item: object, policy_book: PolicyBook) -> dict[str, Any]:
    if not isinstance(item, dict):
        return _error_entry(item, "application: must be a JSON object")
    try:
        app = Application.model_validate(item)
    except ValidationError as exc:
        problems = [
            f"{field_path(e['loc'])}: {_MESSAGES.get(e['type'], e['msg'])}" for e in exc.errors()
        ]
        return _error_entry(item, "; ".join(problems))
    try:
        return result_entry(assess(app, policy_book))
    except PolicyError as exc:
        return _error_entry(item, f"received_on: {exc}")


def assess_document(
    text: str, policy_book: PolicyBook = DEFAULT_POLICY_BOOK
) -> list[dict[str, Any]]:
    """One entry per application, in input order: a result or an error naming the field."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # also over-long numbers, absurd nesting
        raise DocumentError(f"not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise DocumentError(f"expected a JSON list of applications, got a JSON {_json_kind(data)}")
    return [assess_item(item, policy_book) for item in data]


def _json_kind(value: object) -> str:
    kinds = {dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def render(results: list[dict[str, Any]]) -> str:
    """The results as JSON list text (UTF-8 friendly, one field per line)."""
    return json.dumps(results, ensure_ascii=False, indent=2) + "\n"
