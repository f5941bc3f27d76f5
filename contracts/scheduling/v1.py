"""Scheduling wire contracts, version 1."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from contracts.envelope import Payload
from contracts.types import Id, Ref, VisitWindow


class GenerateShifts(Payload):
    """Command: create the shifts of ``date`` from the active assignments."""

    TYPE = "scheduling.GenerateShifts"
    date: date


class CompleteVisit(Payload):
    """Command from a caregiver's phone: check-in and check-out of one shift."""

    TYPE = "scheduling.CompleteVisit"
    shift_id: Ref
    caregiver_id: Id
    checked_in_at: datetime
    checked_out_at: datetime
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _order(self) -> CompleteVisit:
        if self.checked_out_at < self.checked_in_at:
            raise ValueError("checked_out_at is before checked_in_at")
        return self


class CheckIn(Payload):
    """Command from a caregiver's phone: arrived at the household for this shift."""

    TYPE = "scheduling.CheckIn"
    shift_id: Ref
    caregiver_id: Id
    at: datetime
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class CheckOut(Payload):
    """Command from a caregiver's phone: leaving the household; completes the visit begun by
    the shift's check-in."""

    TYPE = "scheduling.CheckOut"
    shift_id: Ref
    caregiver_id: Id
    at: datetime
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class VisitCheckedIn(Payload):
    """Event: the caregiver is at the household (the station's board shows it covered)."""

    TYPE = "scheduling.VisitCheckedIn"
    shift_id: Ref
    household_id: Id
    caregiver_id: Id
    date: date
    at: datetime


class VisitMissed(Payload):
    """Event for the station: no check-in by the end of the visit window plus the grace."""

    TYPE = "scheduling.VisitMissed"
    shift_id: Ref
    household_id: Id
    caregiver_id: Id
    station_id: Id
    date: date
    visit_window: VisitWindow
    grace_minutes: int = Field(ge=0)


class ShiftScheduled(Payload):
    """Shift message, sent on the caregiver's own subject ``homecare.carer.<id>.shift.v1``."""

    TYPE = "scheduling.ShiftScheduled"
    shift_id: Ref
    caregiver_id: Id
    household_id: Id
    address: str
    date: date
    visit_window: VisitWindow
    holiday: str | None = Field(
        default=None,
        max_length=40,
        description="The public holiday (法定节假日) the date falls in, e.g. 国庆节",
    )


class ShiftsQuery(Payload):
    """Request (rpc): a day's shifts, of one station or all; ``caregiver_id``: only that
    caregiver's (a carer's phone asking for its own day)."""

    TYPE = "scheduling.ShiftsQuery"
    date: date
    station_id: Id | None = None
    caregiver_id: Id | None = None


class ShiftLine(BaseModel):
    shift_id: str
    household_id: str
    caregiver_id: str
    station_id: str
    address: str
    visit_window: VisitWindow
    status: Literal["scheduled", "checked_in", "done", "missed"]
    acknowledged: bool
    household_name: str | None = Field(
        default=None,
        description="The household's name when scheduling knows it (it keeps no registry "
        "of names yet, so None for now)",
    )
    checked_in_at: datetime | None = Field(default=None, description="When known")
    checked_out_at: datetime | None = Field(
        default=None, description="When known (the visit is done)"
    )


class ShiftsOfDay(BaseModel):
    """Reply to ShiftsQuery, ordered by station, visit start and household."""

    date: date
    station_id: str | None
    shifts: list[ShiftLine]
    holiday: str | None = None


class ShiftReminder(Payload):
    """The morning reminder of today's shift, on ``homecare.carer.<id>.reminder.v1``."""

    TYPE = "scheduling.ShiftReminder"
    shift_id: Ref
    caregiver_id: Id
    household_id: Id
    address: str
    date: date
    visit_window: VisitWindow
    holiday: str | None = Field(
        default=None,
        max_length=40,
        description="The public holiday (法定节假日) the date falls in, e.g. 国庆节",
    )


class AcknowledgeShift(Payload):
    """Command from a caregiver's phone: the shift message (or its reminder) was received."""

    TYPE = "scheduling.AcknowledgeShift"
    shift_id: Ref
    caregiver_id: Id
    at: datetime


class ShiftAcknowledged(Payload):
    """Event for the station: the caregiver has seen this shift."""

    TYPE = "scheduling.ShiftAcknowledged"
    shift_id: Ref
    caregiver_id: Id
    date: date
    at: datetime


class ShiftsGenerated(Payload):
    TYPE = "scheduling.ShiftsGenerated"
    date: date
    created: int = Field(ge=0)
    already_present: int = Field(ge=0)
    paused: int = Field(default=0, ge=0, description="Households whose visits are paused that day")
    uncovered: int = Field(
        default=0, ge=0, description="Households whose caregiver is on leave, with no substitute"
    )
    holiday: str | None = Field(
        default=None,
        max_length=40,
        description="The public holiday (法定节假日) the date falls in, e.g. 国庆节",
    )


class SetHolidayWindow(Payload):
    """Command (station, at the household's request): the visit window on public holidays
    (法定节假日, from the Chinese public-holiday calendar) instead of the usual one; no window
    goes back to the usual one. Applies to shifts generated from then on."""

    TYPE = "scheduling.SetHolidayWindow"
    household_id: Id
    visit_window: VisitWindow | None = Field(default=None, examples=[["14:00:00", "16:00:00"]])
    requested_by: str = Field(min_length=1, max_length=80, description="Who recorded the request")


class HolidayWindowSet(Payload):
    """Event: a household's holiday visit window (none: its usual window on holidays too)."""

    TYPE = "scheduling.HolidayWindowSet"
    household_id: Id
    visit_window: VisitWindow | None
    requested_by: str


class PauseVisits(Payload):
    """Command (station): no visits to this household from ``first_day`` to ``last_day``
    (in hospital, away). Shifts already made for those days are cancelled."""

    TYPE = "scheduling.PauseVisits"
    household_id: Id
    first_day: date
    last_day: date
    reason: Literal["hospital", "away", "other"]
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _order(self) -> PauseVisits:
        if self.last_day < self.first_day:
            raise ValueError("last_day is before first_day")
        return self


class VisitsPaused(Payload):
    TYPE = "scheduling.VisitsPaused"
    household_id: Id
    first_day: date
    last_day: date
    reason: str
    cancelled_shifts: int = Field(ge=0)


class ShiftCancelled(Payload):
    """Sent on the caregiver's subject ``homecare.carer.<id>.cancel.v1``: do not go."""

    TYPE = "scheduling.ShiftCancelled"
    shift_id: Ref
    caregiver_id: Id
    household_id: Id
    date: date
    reason: str


class VisitCompleted(Payload):
    """Event: a verified visit (check-in and check-out) to a household on a date."""

    TYPE = "scheduling.VisitCompleted"
    visit_id: Ref
    shift_id: Ref
    household_id: Id
    caregiver_id: Id
    date: date
    checked_in_at: datetime
    checked_out_at: datetime


class VisitRejected(Payload):
    """Event: a check-in/out that cannot be accepted, with the reason."""

    TYPE = "scheduling.VisitRejected"
    shift_id: Ref
    caregiver_id: Id
    reason: str
