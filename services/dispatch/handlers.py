"""Dispatch use cases, one per command. Each runs inside one transaction (``tx``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

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
from services.dispatch.model import CaregiverSlot, HouseholdNeed, Unmet, choose_caregiver
from services.dispatch.store import assignments, care_requests, caregivers, households
from services.infra.bus.store import Tx
from services.infra.upsert import upsert

CAREGIVER_COLUMNS = ("caregiver_id", "name", "station_id", "street", "sex", "capacity", "active")
HOUSEHOLD_COLUMNS = (
    "household_id",
    "name",
    "address",
    "station_id",
    "street",
    "category",
    "enrolled_on",
)


async def register_caregiver(tx: Tx, cmd: RegisterCaregiver) -> None:
    """Add or update; the same registration again (a re-import) changes nothing."""
    profile = cmd.model_dump(mode="json")
    if await _same_profile(tx, caregivers.c.caregiver_id, cmd.caregiver_id, profile):
        return
    row = {c: getattr(cmd, c) for c in CAREGIVER_COLUMNS} | {"profile": profile}
    await upsert(tx.conn, caregivers, row, key=["caregiver_id"])
    await tx.emit(
        subjects.CAREGIVER_REGISTERED,
        CaregiverRegistered(
            caregiver_id=cmd.caregiver_id, station_id=cmd.station_id, name=cmd.name
        ),
    )


async def register_household(tx: Tx, cmd: RegisterHousehold) -> None:
    """Add or update; the same registration again (a re-import) changes nothing."""
    profile = cmd.model_dump(mode="json")
    if await _same_profile(tx, households.c.household_id, cmd.household_id, profile):
        return
    row = {c: getattr(cmd, c) for c in HOUSEHOLD_COLUMNS} | {"profile": profile}
    row["visit_start"], row["visit_end"] = cmd.visit_window
    await upsert(tx.conn, households, row, key=["household_id"])
    await tx.emit(
        subjects.HOUSEHOLD_REGISTERED,
        HouseholdRegistered(
            household_id=cmd.household_id,
            station_id=cmd.station_id,
            street=cmd.street,
            category=cmd.category,
            enrolled_on=cmd.enrolled_on,
        ),
    )


async def _same_profile(tx: Tx, key: sa.Column[Any], value: str, profile: dict[str, Any]) -> bool:
    stored = await tx.conn.scalar(sa.select(key.table.c.profile).where(key == value))
    return bool(stored == profile)


class HouseholdNotRegistered(LookupError):
    """A request for a household dispatch does not know (yet)."""


async def request_care(tx: Tx, cmd: RequestCare) -> None:
    s = tx.conn
    if await s.scalar(
        sa.select(care_requests.c.status).where(care_requests.c.request_id == cmd.request_id)
    ):
        return  # the same request sent twice under a new event id: answered already
    household = (
        await s.execute(sa.select(households).where(households.c.household_id == cmd.household_id))
    ).first()
    if household is None:
        # Registration and request travel on different subjects, so the request may simply
        # be early: retried with back-off, dead-lettered with this reason if it stays unknown.
        raise HouseholdNotRegistered(f"unknown household {cmd.household_id}")
    # Loads are read then written: one assignment at a time per street.
    await tx.lock(f"dispatch.street:{household.street}")
    outcome: CaregiverSlot | Unmet
    if await s.scalar(
        sa.select(assignments.c.assignment_id).where(
            assignments.c.household_id == cmd.household_id, assignments.c.active
        )
    ):
        outcome = Unmet("household already has an active caregiver")
    else:
        outcome = choose_caregiver(
            HouseholdNeed(household.household_id, household.station_id, household.street),
            await _caregiver_slots(tx, household.street),
        )
    await s.execute(
        sa.insert(care_requests).values(
            request_id=cmd.request_id,
            household_id=cmd.household_id,
            start_date=cmd.start_date,
            status="unmet" if isinstance(outcome, Unmet) else "assigned",
            reason=outcome.reason if isinstance(outcome, Unmet) else None,
            received_at=tx.clock.now(),
        )
    )
    if isinstance(outcome, Unmet):
        await tx.emit(
            subjects.CARE_REQUEST_UNMET,
            CareRequestUnmet(
                request_id=cmd.request_id, household_id=cmd.household_id, reason=outcome.reason
            ),
        )
        return
    assert household is not None
    assignment_id = f"AS-{cmd.request_id}"
    await s.execute(
        sa.insert(assignments).values(
            assignment_id=assignment_id,
            request_id=cmd.request_id,
            household_id=cmd.household_id,
            caregiver_id=outcome.caregiver_id,
            start_date=cmd.start_date,
            active=True,
        )
    )
    await tx.emit(
        subjects.CAREGIVER_ASSIGNED,
        CaregiverAssigned(
            assignment_id=assignment_id,
            request_id=cmd.request_id,
            household_id=cmd.household_id,
            caregiver_id=outcome.caregiver_id,
            station_id=household.station_id,
            address=household.address,
            start_date=cmd.start_date,
            visit_window=(household.visit_start, household.visit_end),
        ),
    )


async def _caregiver_slots(tx: Tx, street: str) -> list[CaregiverSlot]:
    load = (
        sa.select(assignments.c.caregiver_id, sa.func.count().label("n"))
        .where(assignments.c.active)
        .group_by(assignments.c.caregiver_id)
        .subquery()
    )
    rows = await tx.conn.execute(
        sa.select(caregivers, sa.func.coalesce(load.c.n, 0).label("load"))
        .outerjoin(load, load.c.caregiver_id == caregivers.c.caregiver_id)
        .where(caregivers.c.street == street)
    )
    return [
        CaregiverSlot(r.caregiver_id, r.station_id, r.street, r.capacity, r.active, int(r.load))
        for r in rows
    ]
