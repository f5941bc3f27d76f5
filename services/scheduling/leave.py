"""Leave: a caregiver asks, the station decides; on approval the caregiver's shifts of those
days are cancelled and dispatch is asked for a substitute per household (the one the station
chose for it, if any), whose shifts follow when dispatch answers. After the last day of leave
the caregiver's own shifts resume."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from contracts import subjects
from contracts.dispatch.v1 import RequestSubstitute, SubstituteAssigned
from contracts.scheduling.leave_v1 import (
    DecideLeave,
    LeaveDecided,
    LeaveRejected,
    LeaveRequested,
    RequestLeave,
)
from services.infra.bus.store import Tx
from services.infra.upsert import insert_ignore
from services.scheduling.handlers import SHIFTS_LOCK, cancel_shifts, create_shifts, day_cover
from services.scheduling.holidays import OFFICIAL, HolidayCalendar
from services.scheduling.store import assignments, generated_days, leaves, shifts, substitutions


def substitute_request_id(leave_id: str, household_id: str) -> str:
    """Deterministic (a redelivered approval asks for the same substitute) and short."""
    digest = hashlib.sha1(f"{leave_id}/{household_id}".encode()).hexdigest()[:20]
    return f"SR-{digest}"


async def request_leave(tx: Tx, cmd: RequestLeave) -> None:
    row = (
        await tx.conn.execute(sa.select(leaves).where(leaves.c.leave_id == cmd.leave_id))
    ).first()
    if row is not None:
        if (row.caregiver_id, row.first_day, row.last_day) != (
            cmd.caregiver_id,
            cmd.first_day,
            cmd.last_day,
        ):
            await _reject(tx, cmd.leave_id, "leave id already used for another request")
        return  # the same request sent again
    await tx.conn.execute(
        sa.insert(leaves).values(
            leave_id=cmd.leave_id,
            caregiver_id=cmd.caregiver_id,
            first_day=cmd.first_day,
            last_day=cmd.last_day,
            reason=cmd.reason,
            status="requested",
        )
    )
    served = await _households_served(tx, cmd.caregiver_id)
    await tx.emit(
        subjects.LEAVE_REQUESTED,
        LeaveRequested(
            leave_id=cmd.leave_id,
            caregiver_id=cmd.caregiver_id,
            first_day=cmd.first_day,
            last_day=cmd.last_day,
            reason=cmd.reason,
            households=len(served),
        ),
    )


async def decide_leave(tx: Tx, cmd: DecideLeave) -> None:
    await tx.lock(SHIFTS_LOCK)
    row = (
        await tx.conn.execute(sa.select(leaves).where(leaves.c.leave_id == cmd.leave_id))
    ).first()
    if row is None:
        return await _reject(tx, cmd.leave_id, "unknown leave")
    if row.status != "requested":
        return await _reject(tx, cmd.leave_id, f"leave is {row.status} already")
    if not cmd.approve and not cmd.reason:
        return await _reject(tx, cmd.leave_id, "a refusal needs a reason")
    await tx.conn.execute(
        sa.update(leaves)
        .where(leaves.c.leave_id == cmd.leave_id)
        .values(
            status="approved" if cmd.approve else "refused",
            decided_by=cmd.decided_by,
            decision_reason=cmd.reason,
        )
    )
    asked = []
    if cmd.approve:
        await cancel_shifts(
            tx,
            "leave",
            shifts.c.caregiver_id == row.caregiver_id,
            shifts.c.date >= row.first_day,
            shifts.c.date <= row.last_day,
        )
        asked = await _households_served(tx, row.caregiver_id)
        for household_id in asked:
            await tx.emit(
                subjects.REQUEST_SUBSTITUTE,
                RequestSubstitute(
                    substitute_request_id=substitute_request_id(row.leave_id, household_id),
                    household_id=household_id,
                    caregiver_id=row.caregiver_id,
                    first_day=row.first_day,
                    last_day=row.last_day,
                    # the station's choice, if any: dispatch takes it when that one is free
                    preferred_caregiver_id=cmd.substitutes.get(household_id),
                ),
            )
    await tx.emit(
        subjects.LEAVE_DECIDED,
        LeaveDecided(
            leave_id=row.leave_id,
            caregiver_id=row.caregiver_id,
            first_day=row.first_day,
            last_day=row.last_day,
            approved=cmd.approve,
            decided_by=cmd.decided_by,
            reason=cmd.reason,
            substitutes_requested=len(asked),
        ),
    )


async def record_substitute(
    tx: Tx, evt: SubstituteAssigned, calendar: HolidayCalendar = OFFICIAL
) -> None:
    """Dispatch found a substitute: they make the household's visits on those days, also on
    days whose shifts were generated before the answer came."""
    await tx.lock(SHIFTS_LOCK)
    added = await insert_ignore(
        tx.conn,
        substitutions,
        {
            "substitute_request_id": evt.substitute_request_id,
            "household_id": evt.household_id,
            "caregiver_id": evt.caregiver_id,
            "replaces": evt.replaces,
            "first_day": evt.first_day,
            "last_day": evt.last_day,
            "preferred_caregiver_id": evt.preferred_caregiver_id,
            "preference_reason": evt.preference_reason,
        },
    )
    if not added:
        return
    assignment = (
        await tx.conn.execute(
            sa.select(assignments).where(
                assignments.c.household_id == evt.household_id, assignments.c.active
            )
        )
    ).first()
    if assignment is None:
        return
    days = await tx.conn.scalars(
        sa.select(generated_days.c.date).where(
            generated_days.c.date >= max(evt.first_day, tx.clock.today()),
            generated_days.c.date <= evt.last_day,
        )
    )
    for day in days.all():
        cover = await day_cover(tx, day, calendar)
        await create_shifts(tx, day, cover, [(assignment, evt.caregiver_id)])


async def _households_served(tx: Tx, caregiver_id: str) -> list[str]:
    rows = await tx.conn.scalars(
        sa.select(assignments.c.household_id)
        .where(assignments.c.caregiver_id == caregiver_id, assignments.c.active)
        .order_by(assignments.c.household_id)
    )
    return list(rows.all())


async def _reject(tx: Tx, leave_id: str, reason: str) -> None:
    await tx.emit(subjects.LEAVE_REJECTED, LeaveRejected(leave_id=leave_id, reason=reason))
