"""The billing scenario and billing result files (domain.md §7), version 1.

A scenario is everything one month's billing needs: the month, the policy (optional: the
default fee and subsidy table apply), each household's category periods and the completed
visits. ``homecare billing compute FILE`` reads one and prints a ``BillingResultV1``.

Strict on purpose, like the application format: this comes from other tools and offline
files, so an unknown key, money written as a JSON number or with 3 decimals, a negative amount,
an unknown category, a bad date or category entries out of date order are refused with the
field's path rather than guessed at.

What is not an error (the engine reports it in the result's ``warnings``): a visit outside the
month, a visit on a day its household was not enrolled, and a visit of a household that is
not listed under ``households`` (such a household is never enrolled, exactly like a listed
household whose ``categories`` list is empty).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StrictInt, field_validator

from contracts.money import IsoDate, Money, money_text
from contracts.types import Category, Id, Month

SCENARIO_CATEGORIES: tuple[Category, ...] = ("A", "B", "C", "D")


def _default_subsidy() -> dict[Category, Decimal]:
    return {
        "A": Decimal("300.00"),
        "B": Decimal("200.00"),
        "C": Decimal("100.00"),
        "D": Decimal("0.00"),
    }


class StrictFormat(BaseModel):
    """A file format: unknown keys are refused, values never change after reading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_from_order(starts: list[date]) -> None:
    """Dated entries (``from``) must strictly increase: which one is in force is otherwise
    ambiguous."""
    for index in range(1, len(starts)):
        before, entry = starts[index - 1], starts[index]
        if entry <= before:
            raise ValueError(
                f"entry {index} starts on {entry.isoformat()}, not after entry "
                f"{index - 1} ({before.isoformat()}): `from` dates must strictly increase"
            )


class ScenarioPolicy(StrictFormat):
    """The month's fee and subsidy table; a field left out takes the default (§6)."""

    monthly_fee: Money = Field(
        default=Decimal("1500.00"), description="Yuan per household per month."
    )
    subsidy: dict[Category, Money] = Field(
        default_factory=_default_subsidy,
        description="Yuan per household per month, for each of A, B, C and D.",
    )

    @field_validator("subsidy")
    @classmethod
    def _every_category(cls, value: dict[Category, Decimal]) -> dict[Category, Decimal]:
        missing = [c for c in SCENARIO_CATEGORIES if c not in value]
        if missing:
            raise ValueError(f"missing an amount for {', '.join(missing)} (give A, B, C and D)")
        return {c: value[c] for c in SCENARIO_CATEGORIES}


class CategoryEntry(StrictFormat):
    """The household's category from ``from`` until the next entry; null: not enrolled."""

    from_: IsoDate = Field(alias="from")
    category: Category | None


class ScenarioHousehold(StrictFormat):
    household_id: Id
    categories: list[CategoryEntry] = Field(
        description="In strictly increasing `from` order; before the first entry the "
        "household is not enrolled."
    )

    @field_validator("categories")
    @classmethod
    def _in_date_order(cls, value: list[CategoryEntry]) -> list[CategoryEntry]:
        check_from_order([entry.from_ for entry in value])
        return value


class ScenarioVisit(StrictFormat):
    """A completed visit."""

    household_id: Id
    caregiver_id: Id
    date: IsoDate


class BillingScenario(StrictFormat):
    month: Month
    policy: ScenarioPolicy | None = Field(
        default=None, description="Left out: the default policy (1500.00; A 300, B 200, C 100)."
    )
    households: list[ScenarioHousehold]
    visits: list[ScenarioVisit]

    @field_validator("month")
    @classmethod
    def _real_month(cls, value: str) -> str:
        if value.startswith("0000"):
            raise ValueError("the year must be 0001 or later")
        return value

    @field_validator("households")
    @classmethod
    def _households_once(cls, value: list[ScenarioHousehold]) -> list[ScenarioHousehold]:
        first_at: dict[str, int] = {}
        for index, household in enumerate(value):
            if household.household_id in first_at:
                raise ValueError(
                    f"household {household.household_id} is listed twice (entries "
                    f"{first_at[household.household_id]} and {index})"
                )
            first_at[household.household_id] = index
        return value


# -- the result ------------------------------------------------------------------------------

Amount = Annotated[Money, PlainSerializer(money_text, return_type=str)]


class ResultHousehold(StrictFormat):
    household_id: Id
    served_days: StrictInt = Field(ge=1)
    charge: Amount
    subsidy: Amount
    family_share: Amount


class ResultCaregiver(StrictFormat):
    caregiver_id: Id
    days: Amount = Field(description="Σ of the caregiver's daily weights 1/k, 2 places.")
    pay: Amount
    government_part: Amount
    family_part: Amount


class ResultTotals(StrictFormat):
    charge: Amount
    subsidy: Amount
    family_share: Amount
    pay: Amount


class BillingResultV1(StrictFormat):
    """What ``homecare billing compute`` prints; amounts are strings with 2 decimals."""

    month: Month
    households: list[ResultHousehold] = Field(description="Households served, by id.")
    caregivers: list[ResultCaregiver] = Field(description="By caregiver id.")
    totals: ResultTotals
    warnings: list[str] = Field(description="Visits not billed, and why.")
