"""Caregivers' leave (scheduling), version 1."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from contracts.envelope import Payload
from contracts.types import Id


class RequestLeave(Payload):
    """Command from a caregiver: leave for these days (both included)."""

    TYPE = "scheduling.RequestLeave"
    leave_id: Id
    caregiver_id: Id
    first_day: date
    last_day: date
    reason: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _order(self) -> RequestLeave:
        if self.last_day < self.first_day:
            raise ValueError("last_day is before first_day")
        return self


class DecideLeave(Payload):
    """Command from the station: approve or refuse (a refusal needs a reason). Approving, the
    station may name the substitute of some households; dispatch chooses for the others."""

    TYPE = "scheduling.DecideLeave"
    leave_id: Id
    approve: bool
    decided_by: str = Field(min_length=1, max_length=80)
    reason: str | None = Field(default=None, max_length=500)
    substitutes: dict[Id, Id] = Field(
        default_factory=dict,
        description="Household id -> the substitute caregiver the station chose for it "
        "(approval only: a refusal naming substitutes is invalid). Passed to dispatch as "
        "RequestSubstitute.preferred_caregiver_id, which takes the choice if that caregiver is "
        "free (same street, spare capacity on every day of the leave, no hard constraint) and "
        "otherwise chooses as without one, saying why in SubstituteAssigned.preference_reason. "
        "Households missing here: dispatch chooses; households the caregiver on leave does not "
        "serve: ignored. Empty (the default): dispatch chooses for every household.",
        examples=[{"H0001": "C0002"}],
    )

    @model_validator(mode="after")
    def _substitutes_only_when_approving(self) -> DecideLeave:
        if self.substitutes and not self.approve:
            raise ValueError("substitutes are chosen only when approving")
        return self


class LeaveRequested(Payload):
    TYPE = "scheduling.LeaveRequested"
    leave_id: Id
    caregiver_id: Id
    first_day: date
    last_day: date
    reason: str
    households: int = Field(ge=0, description="Households the caregiver serves on those days")


class LeaveDecided(Payload):
    """Event: the station's decision. On approval the caregiver's shifts of those days are
    cancelled and a substitute is asked for every household (dispatch.RequestSubstitute)."""

    TYPE = "scheduling.LeaveDecided"
    leave_id: Id
    caregiver_id: Id
    first_day: date
    last_day: date
    approved: bool
    decided_by: str
    reason: str | None = None
    substitutes_requested: int = Field(ge=0)


class LeaveRejected(Payload):
    """Event: a leave command that cannot be applied, with the reason."""

    TYPE = "scheduling.LeaveRejected"
    leave_id: Id
    reason: str
