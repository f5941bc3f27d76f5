"""Billing scenario files (domain.md §7): read one, bill it with the engine, render the result.

Pure (text in, text out); ``homecare billing compute`` does the reading and printing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from contracts.billing.scenario_v1 import BillingScenario, ScenarioPolicy
from services.billing.engine import (
    DEFAULT_SCHEDULE,
    BillingResult,
    Policy,
    PolicySchedule,
    compute,
)
from services.billing.model import CategoryFrom


class ScenarioError(ValueError):
    """A scenario that cannot be billed; ``problems`` name the field and what is wrong."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


# Plainer words for the commonest problems; other messages are pydantic's own.
_MESSAGES = {
    "missing": "required field is missing",
    "literal_error": "must be one of the categories A, B, C, D",
    "string_pattern_mismatch": "must be an id of letters, digits, - and _",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long (an id has at most 40 characters)",
    "list_type": "must be a JSON list",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "string_type": "must be a JSON string",
}


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a path: ("households", 0, "categories", 1, "from") ->
    households[0].categories[1].from; a dict key error ends in "(key)"."""
    path = ""
    for part in loc:
        if part == "[key]":
            path += " (key)"
        elif isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "scenario"


def _message(error: ErrorDetails, file_format: str) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        return f"unknown field (not part of the {file_format} format)"
    if kind == "literal_error" and loc and loc[-1] == "category":
        return "must be one of the categories A, B, C, D, or null (not enrolled)"
    if kind == "value_error":  # our own validators: drop pydantic's "Value error, " prefix
        return error["msg"].removeprefix("Value error, ")
    return _MESSAGES.get(kind, error["msg"])


def problems_of(exc: ValidationError, file_format: str = "billing scenario") -> list[str]:
    """Every field problem of a file, with its path."""
    return [f"{field_path(e['loc'])}: {_message(e, file_format)}" for e in exc.errors()]


def read_scenario(text: str | bytes) -> BillingScenario:
    """A scenario from JSON text, or ScenarioError listing every problem with its path."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # also bad UTF-8, over-long numbers
        raise ScenarioError([f"not valid JSON: {exc}"]) from None
    if not isinstance(data, dict):
        kind = "list" if isinstance(data, list) else type(data).__name__
        raise ScenarioError([f"expected a JSON object (a billing scenario), got a JSON {kind}"])
    try:
        return BillingScenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_of(exc)) from None


def policy_of(policy: ScenarioPolicy) -> Policy:
    """The engine's policy from a file's (scenario or policy file)."""
    return Policy(
        monthly_fee=policy.monthly_fee,
        subsidy={str(c): amount for c, amount in policy.subsidy.items()},
    )


def scenario_schedule(scenario: BillingScenario) -> PolicySchedule:
    if scenario.policy is None:
        return DEFAULT_SCHEDULE
    return PolicySchedule.single(policy_of(scenario.policy))


def bill_scenario(scenario: BillingScenario) -> BillingResult:
    """Bill the scenario's month. A visit of a household not listed is billed as a visit of
    a household never enrolled: not billed, with a warning."""
    categories = [
        CategoryFrom(h.household_id, entry.from_, entry.category)
        for h in scenario.households
        for entry in h.categories
    ]
    visits = [(v.household_id, v.caregiver_id, v.date) for v in scenario.visits]
    return compute(scenario.month, categories, visits, scenario_schedule(scenario))


def render(result: BillingResult) -> str:
    """The result as the §7 JSON text (UTF-8 friendly, indent 2, final newline)."""
    return json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2) + "\n"
