"""Scheduling use cases, one per message."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from contracts import subjects
from contracts.dispatch.v1 import AssignmentEnded, CaregiverAssigned
from contracts.scheduling.v1 import (
    CompleteVisit,
    GenerateShifts,
    ShiftScheduled,
    ShiftsGenerated,
    VisitCompleted,
    VisitRejected,
)
from services.infra.bus.store import Tx
from services.infra.upsert import insert_ignore, upsert
from services.scheduling.model import ShiftView, shift_id_for, visit_id_for, visit_problem
from services.scheduling.store import assignments, generated_days, shifts, visits

# Taken by both use cases that read assignments and generated days and then write shifts, so
# neither can miss a row the other has not committed yet.
SHIFTS_LOCK = "scheduling.shifts"


async def record_assignment(tx: Tx, evt: CaregiverAssigned) -> None:
    """A new assignment replaces any earlier active one of the household. Days whose shifts
    were already generated get this assignment's shift now, so an assignment that arrives
    after its first day's generation (events from two streams have no common order) still
    gets every shift from today on."""
    await tx.lock(SHIFTS_LOCK)
    await tx.conn.execute(
        sa.update(assignments)
        .where(
            assignments.c.household_id == evt.household_id,
            assignments.c.assignment_id != evt.assignment_id,
        )
        .values(active=False)
    )
    columns = (
        "assignment_id",
        "household_id",
        "caregiver_id",
        "station_id",
        "address",
        "start_date",
    )
    row = {c: getattr(evt, c) for c in columns}
    row["visit_start"], row["visit_end"] = evt.visit_window
    row["active"] = True
    await upsert(tx.conn, assignments, row, key=["assignment_id"])
    assignment = (
        await tx.conn.execute(
            sa.select(assignments).where(assignments.c.assignment_id == evt.assignment_id)
        )
    ).one()
    first_day = max(evt.start_date, tx.clock.today())
    days = await tx.conn.execute(
        sa.select(generated_days.c.date)
        .where(generated_days.c.date >= first_day)
        .order_by(generated_days.c.date)
    )
    for (day,) in days.all():
        await _create_shift(tx, assignment, day)


async def end_assignment(tx: Tx, evt: AssignmentEnded) -> None:
    """No shifts for it from the day it ended (already generated ones stay as they are)."""
    await tx.lock(SHIFTS_LOCK)
    await tx.conn.execute(
        sa.update(assignments)
        .where(assignments.c.assignment_id == evt.assignment_id)
        .values(active=False)
    )


async def generate_shifts(tx: Tx, cmd: GenerateShifts) -> None:
    """One shift per active assignment for the day; existing shifts are left as they are."""
    await tx.lock(SHIFTS_LOCK)
    await insert_ignore(tx.conn, generated_days, {"date": cmd.date})
    active = await tx.conn.execute(
        sa.select(assignments)
        .where(assignments.c.active, assignments.c.start_date <= cmd.date)
        .order_by(assignments.c.household_id)
    )
    created = present = 0
    for a in active.all():
        if await _create_shift(tx, a, cmd.date):
            created += 1
        else:
            present += 1
    await tx.emit(
        subjects.SHIFTS_GENERATED,
        ShiftsGenerated(date=cmd.date, created=created, already_present=present),
    )


async def evening_shifts(tx: Tx, fire_time: datetime) -> None:
    """The evening job: tomorrow's shifts (and their messages to the caregivers)."""
    await generate_shifts(tx, GenerateShifts(date=fire_time.date() + timedelta(days=1)))


async def _create_shift(tx: Tx, a: Any, day: date) -> bool:
    """The shift of assignment ``a`` on ``day`` and its message to the caregiver; False when
    the household already has that day's shift."""
    shift_id = shift_id_for(a.household_id, day)
    inserted = await insert_ignore(
        tx.conn,
        shifts,
        {
            "shift_id": shift_id,
            "assignment_id": a.assignment_id,
            "household_id": a.household_id,
            "caregiver_id": a.caregiver_id,
            "date": day,
            "visit_start": a.visit_start,
            "visit_end": a.visit_end,
            "visited": False,
        },
    )
    if inserted:
        await tx.emit(
            subjects.carer_shift_subject(a.caregiver_id),
            ShiftScheduled(
                shift_id=shift_id,
                caregiver_id=a.caregiver_id,
                household_id=a.household_id,
                address=a.address,
                date=day,
                visit_window=(a.visit_start, a.visit_end),
            ),
        )
    return inserted


async def complete_visit(tx: Tx, cmd: CompleteVisit) -> None:
    row = (
        await tx.conn.execute(sa.select(shifts).where(shifts.c.shift_id == cmd.shift_id))
    ).first()
    view = ShiftView(row.shift_id, row.caregiver_id, row.date, row.visited) if row else None
    visit_day = cmd.checked_in_at.astimezone(tx.clock.tz).date()
    problem = visit_problem(view, cmd.caregiver_id, visit_day)
    if problem:
        await tx.emit(
            subjects.VISIT_REJECTED,
            VisitRejected(shift_id=cmd.shift_id, caregiver_id=cmd.caregiver_id, reason=problem),
        )
        return
    assert row is not None
    visit_id = visit_id_for(row.shift_id)
    await tx.conn.execute(
        sa.insert(visits).values(
            visit_id=visit_id,
            shift_id=row.shift_id,
            household_id=row.household_id,
            caregiver_id=row.caregiver_id,
            date=row.date,
            checked_in_at=cmd.checked_in_at,
            checked_out_at=cmd.checked_out_at,
            latitude=cmd.latitude,
            longitude=cmd.longitude,
        )
    )
    await tx.conn.execute(
        sa.update(shifts).where(shifts.c.shift_id == row.shift_id).values(visited=True)
    )
    await tx.emit(
        subjects.VISIT_COMPLETED,
        VisitCompleted(
            visit_id=visit_id,
            shift_id=row.shift_id,
            household_id=row.household_id,
            caregiver_id=row.caregiver_id,
            date=row.date,
            checked_in_at=cmd.checked_in_at,
            checked_out_at=cmd.checked_out_at,
        ),
    )
