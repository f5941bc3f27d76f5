"""Dispatch wire contracts, version 1."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from contracts.dispatch.values import (
    Certificate,
    Elder,
    EmergencyCard,
    FamilyDoctor,
    GeoPoint,
    Preferences,
)
from contracts.envelope import Payload
from contracts.types import Category, Id, Sex, Skill, VisitWindow


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
    dialects: frozenset[str] = Field(default=frozenset(), examples=[["大连话", "山东话"]])
    skills: frozenset[Skill] = Field(default=frozenset(), examples=[["bedridden_care"]])
    certificates: tuple[Certificate, ...] = Field(
        default=(),
        description="Hospital training modules (daily_care, common_illness, first_aid) and "
        "their expiry dates; all three valid are needed to be assigned.",
    )
    child_of: frozenset[Id] = Field(
        default=frozenset(),
        description="Households in which this caregiver is an elder's own child.",
    )
    appraisal_score: float | None = Field(default=None, ge=0, le=100)


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
    needs: frozenset[Skill] = Field(default=frozenset(), examples=[["dementia_care"]])
    preferences: Preferences = Preferences()
    replaced_caregivers: frozenset[Id] = Field(
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


class CaregiverAssigned(Payload):
    """Event: a caregiver now serves a household every day from ``start_date``."""

    TYPE = "dispatch.CaregiverAssigned"
    assignment_id: Id
    request_id: Id
    household_id: Id
    caregiver_id: Id
    station_id: Id
    address: str
    start_date: date
    visit_window: VisitWindow


class CareRequestUnmet(Payload):
    """Event: no caregiver could be assigned; ``reason`` names the blocking constraint."""

    TYPE = "dispatch.CareRequestUnmet"
    request_id: Id
    household_id: Id
    reason: str
