"""The eligibility policy (domain.md §3.1) as data, with effective dates.

Every number of the rules lives here so that a change of policy is a new dated entry in a
PolicyBook, never a code change. Fields left out of a JSON policy take the §3.1 defaults.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from contracts.money import IsoDate, Money
from contracts.types import Category

CATEGORIES: tuple[Category, ...] = ("A", "B", "C", "D")  # highest first


def _default_subsidy() -> dict[Category, Decimal]:
    return {
        "A": Decimal("300.00"),
        "B": Decimal("200.00"),
        "C": Decimal("100.00"),
        "D": Decimal("0.00"),
    }


class PolicyError(ValueError):
    """A policy (or policy book) that cannot be used, or no policy for a date."""


class EligibilityPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    effective_from: IsoDate
    elder_min_age: StrictInt = Field(default=60, ge=0)
    a_min_age: StrictInt = Field(default=80, ge=0)
    b_male_min_age: StrictInt = Field(default=70, ge=0)
    b_female_min_age: StrictInt = Field(default=65, ge=0)
    b2_min_age: StrictInt = Field(default=70, ge=0)
    # B1's household income limits, inclusive.
    income_limit_two_elders: Money = Decimal("1000.00")
    income_limit_one_elder: Money = Decimal("600.00")
    subsidy: dict[Category, Money] = Field(default_factory=_default_subsidy)
    # Applications received before this day of the month go to that month's round. At most 28
    # so that the day exists in every month.
    round_cutoff_day: StrictInt = Field(default=10, ge=1, le=28)

    @model_validator(mode="after")
    def _every_category_priced(self) -> EligibilityPolicy:
        missing = [c for c in CATEGORIES if c not in self.subsidy]
        if missing:
            raise ValueError(f"subsidy: missing amount for categories {', '.join(missing)}")
        return self

    def subsidy_for(self, category: Category) -> Decimal:
        return self.subsidy[category]


def policy_from_dict(data: Mapping[str, object]) -> EligibilityPolicy:
    """A policy from decoded JSON; amounts must be strings ("300.00"), never numbers."""
    try:
        return EligibilityPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}" for e in exc.errors()
        )
        raise PolicyError(f"invalid eligibility policy: {problems}") from None


class PolicyBook:
    """Policies by effective date; the one in force on a day is the latest that has started."""

    def __init__(self, policies: Iterable[EligibilityPolicy]) -> None:
        ordered = sorted(policies, key=lambda p: p.effective_from)
        if not ordered:
            raise PolicyError("a policy book needs at least one policy")
        starts = [p.effective_from for p in ordered]
        if len(set(starts)) != len(starts):
            raise PolicyError("two policies take effect on the same day")
        self.policies: tuple[EligibilityPolicy, ...] = tuple(ordered)

    def policy_on(self, day: date) -> EligibilityPolicy:
        in_force = [p for p in self.policies if p.effective_from <= day]
        if not in_force:
            first = self.policies[0].effective_from
            raise PolicyError(
                f"no eligibility policy in force on {day.isoformat()} "
                f"(the first takes effect on {first.isoformat()})"
            )
        return in_force[-1]

    @classmethod
    def from_json(cls, text: str) -> PolicyBook:
        """A book from a JSON list of policy objects."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise PolicyError(f"policy book is not valid JSON: {exc}") from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise PolicyError("a policy book must be a JSON list of policy objects")
        return cls(policy_from_dict(item) for item in data)


def load_policy_book(path: Path) -> PolicyBook:
    """The one I/O helper: read a policy book file (UTF-8 JSON)."""
    return PolicyBook.from_json(path.read_text(encoding="utf-8"))


DEFAULT_POLICY_BOOK = PolicyBook([EligibilityPolicy(effective_from=date(2002, 9, 1))])
