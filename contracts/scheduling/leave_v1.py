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
    """Command from the station: approve or refuse (a refusal needs a reason)."""

    TYPE = "scheduling.DecideLeave"
    leave_id: Id
    approve: bool
    decided_by: str = Field(min_length=1, max_length=80)
    reason: str | None = Field(default=None, max_length=500)


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
