"""Dispatch composition root: the one place its store, handlers and subscribers are wired."""

from __future__ import annotations

from pathlib import Path

from contracts import subjects
from contracts.dispatch.v1 import (
    CaregiverAssigned,
    CaregiverRegistered,
    CareRequestUnmet,
    HouseholdRegistered,
    RegisterCaregiver,
    RegisterHousehold,
    RequestCare,
)
from services.dispatch import handlers
from services.dispatch.store import metadata, plumbing
from services.infra.clock import Clock
from services.infra.runtime import Service
from services.infra.settings import Settings

NAME = "dispatch"


def build(settings: Settings, clock: Clock) -> Service:
    svc = Service(NAME, settings, clock, metadata, plumbing, Path(__file__).parent / "migrations")

    svc.consume(
        subjects.REGISTER_CAREGIVER,
        RegisterCaregiver,
        svc.once("register_caregiver", handlers.register_caregiver),
        durable="register_caregiver",
        description="Add or update a caregiver",
    )
    svc.consume(
        subjects.REGISTER_HOUSEHOLD,
        RegisterHousehold,
        svc.once("register_household", handlers.register_household),
        durable="register_household",
        description="Add or update a household",
    )
    svc.consume(
        subjects.REQUEST_CARE,
        RequestCare,
        svc.once("request_care", handlers.request_care),
        durable="request_care",
        description="Assign a caregiver to a household",
    )

    svc.emits(subjects.CAREGIVER_REGISTERED, CaregiverRegistered, "A caregiver was registered")
    svc.emits(
        subjects.HOUSEHOLD_REGISTERED,
        HouseholdRegistered,
        "A household was registered (with its category)",
    )
    svc.emits(subjects.CAREGIVER_ASSIGNED, CaregiverAssigned, "A caregiver serves a household")
    svc.emits(subjects.CARE_REQUEST_UNMET, CareRequestUnmet, "A care request could not be met")
    return svc
