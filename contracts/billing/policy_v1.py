"""The billing policy file, version 1: monthly fee and subsidy table by effective date.

A deployment names it with ``HOMECARE_BILLING_POLICY_FILE`` (YAML or JSON; docs/billing.md).
Each entry is in force from its ``from`` date until the next entry's; before the first entry
the first one applies. Strict like the scenario format: amounts are quoted decimal strings,
every category is given, dates strictly increase, unknown keys are refused.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from contracts.billing.scenario_v1 import ScenarioPolicy, StrictFormat, check_from_order
from contracts.money import IsoDate


class PolicyEntry(ScenarioPolicy):
    """One policy and the first day it is in force."""

    from_: IsoDate = Field(alias="from", description="First day in force (YYYY-MM-DD).")


class BillingPolicyFile(StrictFormat):
    policies: list[PolicyEntry] = Field(
        min_length=1, description="In strictly increasing `from` order."
    )

    @field_validator("policies")
    @classmethod
    def _in_date_order(cls, value: list[PolicyEntry]) -> list[PolicyEntry]:
        check_from_order([entry.from_ for entry in value])
        return value
