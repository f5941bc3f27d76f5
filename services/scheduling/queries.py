"""Scheduling's answers to queries (request/reply, read only)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from contracts.scheduling.v1 import ShiftLine, ShiftsOfDay, ShiftsQuery
from services.infra.bus.store import MessageStore
from services.scheduling.model import is_missed
from services.scheduling.store import assignments, shifts


async def shifts_of_day(store: MessageStore, query: ShiftsQuery, grace: timedelta) -> ShiftsOfDay:
    """The station's board for a day: each shift with scheduled / checked_in / done / missed
    (no check-in by the end of the window plus ``grace``, on the service clock)."""
    select = (
        sa.select(shifts, assignments.c.station_id, assignments.c.address)
        .join(assignments, assignments.c.assignment_id == shifts.c.assignment_id)
        .where(shifts.c.date == query.date)
        .order_by(assignments.c.station_id, shifts.c.visit_start, shifts.c.household_id)
    )
    if query.station_id:
        select = select.where(assignments.c.station_id == query.station_id)
    now = store.clock.now()
    lines = []
    holiday = None
    for row in await store.read(select):
        holiday = holiday or row.holiday
        if row.visited:
            status = "done"
        elif row.checked_in_at is not None:
            status = "checked_in"
        elif is_missed(row.date, row.visit_end, grace, now):
            status = "missed"
        else:
            status = "scheduled"
        lines.append(
            ShiftLine(
                shift_id=row.shift_id,
                household_id=row.household_id,
                caregiver_id=row.caregiver_id,
                station_id=row.station_id,
                address=row.address,
                visit_window=(row.visit_start, row.visit_end),
                status=status,
                acknowledged=row.acknowledged_at is not None,
            )
        )
    return ShiftsOfDay(date=query.date, station_id=query.station_id, shifts=lines, holiday=holiday)
