"""The deployment's billing policy file (HOMECARE_BILLING_POLICY_FILE): the monthly fee and
subsidy table with effective dates, read into the engine's PolicySchedule.

YAML (so JSON too). A file that cannot be used stops whoever reads it with every problem and
its path: billing with a guessed policy would be worse than billing not starting.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from contracts.billing.policy_v1 import BillingPolicyFile
from services.billing.engine import DEFAULT_SCHEDULE, PolicySchedule
from services.billing.scenario import ScenarioError, policy_of, problems_of


class _DatesAsText(yaml.SafeLoader):
    """YAML without its own date reading (it raises a bare ValueError on 2026-02-30): dates
    stay text and the format checks them, with the field's path."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class PolicyFileError(ScenarioError):
    """A policy file that cannot be used; ``problems`` name the field and what is wrong."""


def read_policy_file(text: str | bytes) -> PolicySchedule:
    """The schedule in a policy file's text, or PolicyFileError listing every problem."""
    try:
        data = yaml.load(text, Loader=_DatesAsText)  # a SafeLoader: no objects built
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise PolicyFileError([f"not valid YAML or JSON: {exc}"]) from None
    if not isinstance(data, dict):
        raise PolicyFileError(
            [
                "expected a mapping with a `policies` list (see docs/billing.md), got "
                f"{type(data).__name__}"
            ]
        )
    try:
        parsed = BillingPolicyFile.model_validate(data)
    except ValidationError as exc:
        raise PolicyFileError(problems_of(exc, "billing policy")) from None
    return PolicySchedule(tuple((entry.from_, policy_of(entry)) for entry in parsed.policies))


def load_policy_schedule(path: Path | None) -> PolicySchedule:
    """The schedule in the file at ``path``; the default policy (domain.md §6) when None."""
    if path is None:
        return DEFAULT_SCHEDULE
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise PolicyFileError([f"cannot read it: {exc.strerror or exc}"]) from None
    return read_policy_file(text)
