"""Dispatch use cases, one per command. Each runs inside one transaction (``tx``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from contracts import subjects
from contracts.dispatch.v1 import (
    CaregiverRegistered,
    HouseholdRegistered,
    RegisterCaregiver,
    RegisterHousehold,
)
from contracts.scheduling.appraisal_v1 import CaregiverAppraised
from services.dispatch.facts import renew_roster
from services.dispatch.store import applications, caregivers, households
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
    stored = await _stored_profile(tx, caregivers.c.caregiver_id, cmd.caregiver_id)
    if stored == profile:
        return
    row = {c: getattr(cmd, c) for c in CAREGIVER_COLUMNS} | {"profile": profile}
    await upsert(tx.conn, caregivers, row, key=["caregiver_id"])
    await renew_roster(tx.conn, cmd.street)
    if stored and stored.get("street") not in (None, cmd.street):  # moved: both streets change
        await renew_roster(tx.conn, stored["street"])
    await tx.emit(
        subjects.CAREGIVER_REGISTERED,
        CaregiverRegistered(
            caregiver_id=cmd.caregiver_id, station_id=cmd.station_id, name=cmd.name
        ),
    )


async def record_appraisal(tx: Tx, evt: CaregiverAppraised) -> None:
    """Keep the caregiver's latest monthly score for matching; a late score of an earlier
    month does not replace a later one. Unknown caregivers are ignored (nothing to score)."""
    street = await tx.conn.scalar(
        sa.update(caregivers)
        .where(
            caregivers.c.caregiver_id == evt.caregiver_id,
            sa.or_(
                caregivers.c.appraised_month.is_(None),
                caregivers.c.appraised_month <= evt.month,
            ),
        )
        .values(appraisal_score=evt.score, appraised_month=evt.month)
        .returning(caregivers.c.street)
    )
    if street is not None:
        await renew_roster(tx.conn, street)


async def register_household(tx: Tx, cmd: RegisterHousehold) -> None:
    """Add or update; the same registration again (a re-import) changes nothing."""
    profile = cmd.model_dump(mode="json")
    if await _stored_profile(tx, households.c.household_id, cmd.household_id) == profile:
        return
    row = {c: getattr(cmd, c) for c in HOUSEHOLD_COLUMNS} | {"profile": profile}
    row["visit_start"], row["visit_end"] = cmd.visit_window
    # After the district officer's approval the approved category holds; a registration
    # update (an address, a preference) does not take it back.
    if await _has_approval(tx, cmd.household_id):
        row["category"] = await tx.conn.scalar(
            sa.select(households.c.category).where(households.c.household_id == cmd.household_id)
        )
    await upsert(tx.conn, households, row, key=["household_id"])
    await tx.emit(
        subjects.HOUSEHOLD_REGISTERED,
        HouseholdRegistered(
            household_id=cmd.household_id,
            station_id=cmd.station_id,
            street=cmd.street,
            category=row["category"],
            enrolled_on=cmd.enrolled_on,
            name=cmd.name,
            address=cmd.address,
        ),
    )


async def _has_approval(tx: Tx, household_id: str) -> bool:
    return bool(
        await tx.conn.scalar(
            sa.select(sa.func.count()).where(
                applications.c.household_id == household_id, applications.c.status == "approved"
            )
        )
    )


async def _stored_profile(tx: Tx, key: sa.Column[Any], value: str) -> dict[str, Any] | None:
    stored: dict[str, Any] | None = await tx.conn.scalar(
        sa.select(key.table.c.profile).where(key == value)
    )
    return stored
