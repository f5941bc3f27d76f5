"""Dispatch wire contracts, version 1."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from contracts.dispatch.values import (
    Candidate,
    Certificate,
    Elder,
    EmergencyCard,
    FamilyDoctor,
    GeoPoint,
    Preferences,
)
from contracts.envelope import Payload
from contracts.types import Category, Id, Ids, Ref, Sex, Skills, Tags, VisitWindow


class RegisterCaregiver(Payload):
    """Command: add or update a caregiver (养护员) in the registry."""

    TYPE = "dispatch.RegisterCaregiver"
    caregiver_id: Id
    name: str = Field(min_length=1, max_length=80, examples=["王秀兰"])
    station_id: Id
    street: str = Field(min_length=1, max_length=80, examples=["中山公园街道"])
    sex: Sex = "F"
    capacity: int = Field(default=1, ge=1, le=8, description="Households served at once.")
    active: bool = True
    home: GeoPoint | None = None
    dialects: Tags = Field(default=frozenset(), examples=[["大连话", "山东话"]])
    skills: Skills = Field(default=frozenset(), examples=[["bedridden_care"]])
    certificates: tuple[Certificate, ...] = Field(
        default=(),
        description="Hospital training modules (daily_care, common_illness, first_aid) and "
        "their expiry dates; all three valid are needed to be assigned.",
    )
    child_of: Ids = Field(
        default=frozenset(),
        description="Households in which this caregiver is an elder's own child.",
    )
    appraisal_score: float | None = Field(default=None, ge=0, le=100)

    @field_validator("certificates")
    @classmethod
    def _one_per_module(cls, value: tuple[Certificate, ...]) -> tuple[Certificate, ...]:
        modules = [c.module for c in value]
        if len(set(modules)) != len(modules):
            raise ValueError("at most one certificate per training module")
        return value


class RegisterHousehold(Payload):
    """Command: add or update a household receiving care."""

    TYPE = "dispatch.RegisterHousehold"
    household_id: Id
    name: str = Field(min_length=1, max_length=80, examples=["李家"])
    address: str = Field(min_length=1, max_length=200)
    station_id: Id
    street: str = Field(min_length=1, max_length=80)
    category: Category | None = Field(description="Approved eligibility category; null = none yet.")
    enrolled_on: date
    visit_window: VisitWindow = Field(examples=[["09:00:00", "11:00:00"]])
    location: GeoPoint | None = None
    elders: tuple[Elder, ...] = ()
    needs: Skills = Field(default=frozenset(), examples=[["dementia_care"]])
    preferences: Preferences = Preferences()
    replaced_caregivers: Ids = Field(
        default=frozenset(), description="Caregivers the household asked to replace: never again."
    )
    family_doctor: FamilyDoctor | None = None
    emergency_card: EmergencyCard | None = None


class RequestCare(Payload):
    """Command: a household needs a caregiver from ``start_date``."""

    TYPE = "dispatch.RequestCare"
    request_id: Id
    household_id: Id
    start_date: date
    requested_by: str = Field(default="station", max_length=80)
    mode: Literal["auto", "shortlist", "batch"] = Field(
        default="auto",
        description="auto: assign the best-ranked caregiver now; shortlist: propose a ranked "
        "shortlist and wait for the station manager's ConfirmAssignment; batch: wait for the "
        "street's AssignStreet (optimal over all its open requests).",
    )


class CaregiverRegistered(Payload):
    TYPE = "dispatch.CaregiverRegistered"
    caregiver_id: Id
    station_id: Id
    name: str


class HouseholdRegistered(Payload):
    TYPE = "dispatch.HouseholdRegistered"
    household_id: Id
    station_id: Id
    street: str
    category: Category | None
    enrolled_on: date
    name: str | None = Field(
        default=None, max_length=80, description="For statements (billing); None from old senders"
    )
    address: str | None = Field(default=None, max_length=200)


class CaregiverAssigned(Payload):
    """Event: a caregiver now serves a household every day from ``start_date``."""

    TYPE = "dispatch.CaregiverAssigned"
    assignment_id: Ref
    request_id: Id
    household_id: Id
    caregiver_id: Id
    station_id: Id
    address: str
    start_date: date
    visit_window: VisitWindow
    decided_by: str = Field(default="auto", description="Who chose: auto, batch or a user id.")
    override_reason: str | None = Field(
        default=None, description="Why a caregiver other than the top-ranked one was chosen."
    )


class CareRequestUnmet(Payload):
    """Event: no caregiver could be assigned; ``reason`` names the blocking constraint."""

    TYPE = "dispatch.CareRequestUnmet"
    request_id: Id
    household_id: Id
    reason: str


class ShortlistProposed(Payload):
    """Event: the ranked caregivers for a request, each score with its reasons."""

    TYPE = "dispatch.ShortlistProposed"
    request_id: Id
    household_id: Id
    station_id: Id
    candidates: tuple[Candidate, ...]
    blocked: dict[str, int] = Field(
        default_factory=dict, description="Caregivers ruled out, counted by hard constraint."
    )


class ConfirmAssignment(Payload):
    """Command from the station manager: assign this caregiver to the request. Choosing
    anyone but the top-ranked candidate needs an override reason (kept for audit)."""

    TYPE = "dispatch.ConfirmAssignment"
    request_id: Id
    caregiver_id: Id
    decided_by: str = Field(min_length=1, max_length=80)
    override_reason: str | None = Field(default=None, max_length=500)


class CommandRejected(Payload):
    """Event: a well-formed command that cannot be applied now, and why (for the sender)."""

    TYPE = "dispatch.CommandRejected"
    command: str = Field(examples=["dispatch.ConfirmAssignment"])
    subject_id: str = Field(description="The request, application or household concerned.")
    reason: str


class AssignStreet(Payload):
    """Command: assign every open request of a street at once, at optimal total cost."""

    TYPE = "dispatch.AssignStreet"
    street: str = Field(min_length=1, max_length=80)
    on_date: date
    requested_by: str = Field(default="station", max_length=80)


class StreetAssigned(Payload):
    TYPE = "dispatch.StreetAssigned"
    street: str
    on_date: date
    assigned: int = Field(ge=0)
    unmet: int = Field(ge=0)
    total_cost: int = Field(ge=0)


class ReplaceCaregiver(Payload):
    """Command: the elder asks for a different caregiver; never back to the replaced one."""

    TYPE = "dispatch.ReplaceCaregiver"
    household_id: Id
    new_request_id: Id
    reason: str = Field(min_length=1, max_length=500)
    requested_by: str = Field(default="station", max_length=80)
    start_date: date


class AssignmentEnded(Payload):
    TYPE = "dispatch.AssignmentEnded"
    assignment_id: Ref
    household_id: Id
    caregiver_id: Id
    ended_on: date
    reason: str


class RequestSubstitute(Payload):
    """Command (from scheduling): cover a household while its caregiver is on leave."""

    TYPE = "dispatch.RequestSubstitute"
    substitute_request_id: Id
    household_id: Id
    caregiver_id: Id = Field(description="The caregiver on leave.")
    first_day: date
    last_day: date
    preferred_caregiver_id: Id | None = Field(
        default=None,
        description="The substitute the station chose (DecideLeave.substitutes): taken if free "
        "(same street, spare capacity on every day of the leave, no hard constraint), else "
        "dispatch chooses as without one. Null: dispatch chooses.",
    )


class SubstituteAssigned(Payload):
    TYPE = "dispatch.SubstituteAssigned"
    substitute_request_id: Id
    household_id: Id
    caregiver_id: Id = Field(description="The substitute.")
    replaces: Id
    first_day: date
    last_day: date
    served_before: bool
    preferred_caregiver_id: Id | None = Field(
        default=None,
        description="The substitute the station chose, as in RequestSubstitute; null: none "
        "chosen. The choice held when it equals caregiver_id.",
    )
    preference_reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why the chosen substitute was not taken (e.g. not free on every day of "
        "the leave, another street, unknown caregiver); null when it was, or none was chosen.",
    )


class SubstituteUnavailable(Payload):
    TYPE = "dispatch.SubstituteUnavailable"
    substitute_request_id: Id
    household_id: Id
    reason: str
