"""An eligibility application in the reference file format (domain.md §7).

Strict on purpose: this format comes from other tools and offline files, so an unknown field,
a boolean written as 0/1 or "true", or money written as a JSON number is refused with the
field's name instead of being guessed at.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from contracts.money import IsoDate, Money
from contracts.types import Id, SelfCare, Sex

# The last day whose round (possibly next month's) is still a representable date.
_LAST_RECEIVABLE = date(9999, 11, 30)

# §3.1 names only needs_help and unable; "independent" is the system-wide third level
# (contracts.types.SelfCare) and means the elder needs no care.
NEEDS_CARE: frozenset[SelfCare] = frozenset({"needs_help", "unable"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApplicantElder(_Strict):
    """One person listed under `elders`; whether they count as an elder depends on their age
    in the round being assessed, so that is decided by the rules, not here."""

    sex: Sex
    birth_date: IsoDate
    self_care: SelfCare
    can_work: StrictBool
    has_income: StrictBool
    has_legal_supporter: StrictBool
    has_children: StrictBool
    seriously_ill_certified: StrictBool  # seriously ill, with a hospital certificate
    unemployed: StrictBool

    @property
    def needs_care(self) -> bool:
        return self.self_care in NEEDS_CARE

    @property
    def cannot_self_care(self) -> bool:
        return self.self_care == "unable"


class Application(_Strict):
    household_id: Id
    received_on: IsoDate
    hukou_local: StrictBool
    resides_locally: StrictBool
    on_dibao: StrictBool  # the household receives the minimum living allowance (低保)
    monthly_income: Money  # the household's, in yuan
    wants_service: StrictBool
    elders: list[ApplicantElder]

    @field_validator("received_on")
    @classmethod
    def _round_representable(cls, value: date) -> date:
        if value > _LAST_RECEIVABLE:
            raise PydanticCustomError("date_too_late", "date too far in the future")
        return value
