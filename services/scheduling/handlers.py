"""Scheduling use cases, one per message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from contracts import subjects
from contracts.dispatch.v1 import AssignmentEnded, CaregiverAssigned
from contracts.scheduling.v1 import (
    AcknowledgeShift,
    CheckIn,
    CheckOut,
    CompleteVisit,
    GenerateShifts,
    HolidayWindowSet,
    PauseVisits,
    SetHolidayWindow,
    ShiftAcknowledged,
    ShiftCancelled,
    ShiftReminder,
    ShiftScheduled,
    ShiftsGenerated,
    VisitCheckedIn,
    VisitCompleted,
    VisitMissed,
    VisitRejected,
    VisitsPaused,
)
from services.infra.bulk import gc_paused
from services.infra.bus.store import Tx
from services.infra.clock import in_zone
from services.infra.logging import get_logger
from services.infra.upsert import insert_ignore, insert_many, upsert
from services.scheduling.holidays import OFFICIAL, HolidayCalendar
from services.scheduling.model import (
    ShiftView,
    is_missed,
    shift_id_for,
    visit_id_for,
    visit_problem,
)
from services.scheduling.store import (
    assignments,
    generated_days,
    holiday_windows,
    leaves,
    pauses,
    shifts,
    substitutions,
    visits,
)

# Taken by both use cases that read assignments and generated days and then write shifts, so
# neither can miss a row the other has not committed yet.
SHIFTS_LOCK = "scheduling.shifts"

log = get_logger("homecare.scheduling")


async def record_assignment(
    tx: Tx, evt: CaregiverAssigned, calendar: HolidayCalendar = OFFICIAL
) -> None:
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
        cover = await day_cover(tx, day, calendar)
        caregiver_id = cover.caregiver_for(assignment)
        if caregiver_id:
            await create_shifts(tx, day, cover, [(assignment, caregiver_id)])


async def end_assignment(tx: Tx, evt: AssignmentEnded) -> None:
    """No shifts for it from the day it ended (already generated ones stay as they are)."""
    await tx.lock(SHIFTS_LOCK)
    await tx.conn.execute(
        sa.update(assignments)
        .where(assignments.c.assignment_id == evt.assignment_id)
        .values(active=False)
    )


async def generate_shifts(
    tx: Tx, cmd: GenerateShifts, calendar: HolidayCalendar = OFFICIAL
) -> None:
    """One shift per active assignment for the day; existing shifts are left as they are.
    Set-based: a few reads, one insert and the messages, whatever the number of households."""
    await tx.lock(SHIFTS_LOCK)
    await insert_ignore(tx.conn, generated_days, {"date": cmd.date})
    active = await tx.conn.execute(
        sa.select(
            assignments.c.assignment_id,
            assignments.c.household_id,
            assignments.c.caregiver_id,
            assignments.c.address,
            assignments.c.visit_start,
            assignments.c.visit_end,
        )
        .where(assignments.c.active, assignments.c.start_date <= cmd.date)
        .order_by(assignments.c.household_id)
    )
    cover = await day_cover(tx, cmd.date, calendar)
    planned: list[tuple[Any, str]] = []
    paused = uncovered = 0
    for a in active.all():
        caregiver_id = cover.caregiver_for(a)
        if a.household_id in cover.paused:
            paused += 1
        elif caregiver_id is None:
            uncovered += 1
        else:
            planned.append((a, caregiver_id))
    created = await create_shifts(tx, cmd.date, cover, planned)
    if cover.holiday is None and not calendar.knows(cmd.date.year):
        log.warning(
            "the holiday calendar has no data for this year: no day of it is a public holiday"
            " (add its holidays in HOMECARE_HOLIDAYS_FILE)",
            year=cmd.date.year,
        )
    await tx.emit(
        subjects.SHIFTS_GENERATED,
        ShiftsGenerated(
            date=cmd.date,
            created=created,
            already_present=len(planned) - created,
            paused=paused,
            uncovered=uncovered,
            holiday=cover.holiday,
        ),
    )


async def set_holiday_window(tx: Tx, cmd: SetHolidayWindow) -> None:
    """Keep (or forget) the household's holiday window; shifts generated from now on use it."""
    if cmd.visit_window is None:
        await tx.conn.execute(
            sa.delete(holiday_windows).where(holiday_windows.c.household_id == cmd.household_id)
        )
    else:
        start, end = cmd.visit_window
        await upsert(
            tx.conn,
            holiday_windows,
            {
                "household_id": cmd.household_id,
                "visit_start": start,
                "visit_end": end,
                "requested_by": cmd.requested_by,
            },
            key=["household_id"],
        )
    await tx.emit(
        subjects.HOLIDAY_WINDOW_SET,
        HolidayWindowSet(
            household_id=cmd.household_id,
            visit_window=cmd.visit_window,
            requested_by=cmd.requested_by,
        ),
    )


async def pause_visits(tx: Tx, cmd: PauseVisits) -> None:
    """Keep the pause; cancel the shifts already made for those days that nobody started
    (the caregiver hears it on their own subject)."""
    await tx.lock(SHIFTS_LOCK)
    await upsert(
        tx.conn,
        pauses,
        {
            "household_id": cmd.household_id,
            "first_day": cmd.first_day,
            "last_day": cmd.last_day,
            "reason": cmd.reason,
            "note": cmd.note,
        },
        key=["household_id", "first_day"],
    )
    cancelled = await cancel_shifts(
        tx,
        cmd.reason,
        shifts.c.household_id == cmd.household_id,
        shifts.c.date >= cmd.first_day,
        shifts.c.date <= cmd.last_day,
    )
    await tx.emit(
        subjects.VISITS_PAUSED,
        VisitsPaused(
            household_id=cmd.household_id,
            first_day=cmd.first_day,
            last_day=cmd.last_day,
            reason=cmd.reason,
            cancelled_shifts=cancelled,
        ),
    )


async def morning_reminders(tx: Tx, fire_time: datetime) -> None:
    """The morning job: each caregiver is reminded of today's shifts on their own subject."""
    today = (
        await tx.conn.execute(
            sa.select(shifts, assignments.c.address)
            .join(assignments, assignments.c.assignment_id == shifts.c.assignment_id)
            .where(shifts.c.date == fire_time.date(), shifts.c.visited.is_(False))
            .order_by(shifts.c.caregiver_id, shifts.c.visit_start, shifts.c.shift_id)
        )
    ).all()
    for row in today:
        await tx.emit(
            subjects.carer_reminder_subject(row.caregiver_id),
            ShiftReminder(
                shift_id=row.shift_id,
                caregiver_id=row.caregiver_id,
                household_id=row.household_id,
                address=row.address,
                date=row.date,
                visit_window=(row.visit_start, row.visit_end),
                holiday=row.holiday,
            ),
        )


async def acknowledge_shift(tx: Tx, cmd: AcknowledgeShift) -> None:
    """The phone confirms a shift message arrived; the first confirmation counts."""
    row = await _shift(tx, cmd.shift_id)
    if row is None or row.caregiver_id != cmd.caregiver_id:
        reason = (
            "unknown shift" if row is None else f"shift belongs to caregiver {row.caregiver_id}"
        )
        return await _reject(tx, cmd.shift_id, cmd.caregiver_id, reason)
    if row.acknowledged_at is not None:
        return
    await tx.conn.execute(
        sa.update(shifts).where(shifts.c.shift_id == row.shift_id).values(acknowledged_at=cmd.at)
    )
    await tx.emit(
        subjects.SHIFT_ACKNOWLEDGED,
        ShiftAcknowledged(
            shift_id=row.shift_id, caregiver_id=row.caregiver_id, date=row.date, at=cmd.at
        ),
    )


async def cancel_shifts(tx: Tx, reason: str, *where: Any) -> int:
    """Remove the matching shifts nobody started, telling each caregiver; how many."""
    doomed = (
        await tx.conn.execute(
            sa.select(shifts).where(
                *where, shifts.c.visited.is_(False), shifts.c.checked_in_at.is_(None)
            )
        )
    ).all()
    for row in doomed:
        await tx.conn.execute(sa.delete(shifts).where(shifts.c.shift_id == row.shift_id))
        await tx.emit(
            subjects.carer_cancel_subject(row.caregiver_id),
            ShiftCancelled(
                shift_id=row.shift_id,
                caregiver_id=row.caregiver_id,
                household_id=row.household_id,
                date=row.date,
                reason=reason,
            ),
        )
    return len(doomed)


@dataclass(frozen=True)
class DayCover:
    """Who visits whom on one day, and when: paused households get nobody, a substitute
    covers a caregiver's leave, a leave without a substitute leaves the household uncovered;
    on a public holiday a household that asked for a holiday window is visited in it."""

    paused: set[str]  # household ids
    substitutes: dict[str, str]  # household id -> substitute caregiver
    on_leave: set[str]  # caregivers with approved leave
    holiday: str | None = None  # the public holiday the day falls in
    holiday_windows: dict[str, tuple[time, time]] = field(default_factory=dict)

    def caregiver_for(self, assignment: Any) -> str | None:
        if assignment.household_id in self.paused:
            return None
        if assignment.household_id in self.substitutes:
            return self.substitutes[assignment.household_id]
        if assignment.caregiver_id in self.on_leave:
            return None
        return str(assignment.caregiver_id)

    def window_for(self, assignment: Any) -> tuple[time, time]:
        usual = (assignment.visit_start, assignment.visit_end)
        return self.holiday_windows.get(assignment.household_id, usual)


async def day_cover(tx: Tx, day: date, calendar: HolidayCalendar = OFFICIAL) -> DayCover:
    def on(table: sa.Table) -> Any:
        return (table.c.first_day <= day) & (table.c.last_day >= day)

    paused = await tx.conn.scalars(sa.select(pauses.c.household_id).where(on(pauses)))
    subs = await tx.conn.execute(
        sa.select(substitutions.c.household_id, substitutions.c.caregiver_id).where(
            on(substitutions)
        )
    )
    away = await tx.conn.scalars(
        sa.select(leaves.c.caregiver_id).where(on(leaves), leaves.c.status == "approved")
    )
    holiday = calendar.holiday(day)
    windows: dict[str, tuple[time, time]] = {}
    if holiday:
        asked = await tx.conn.execute(
            sa.select(
                holiday_windows.c.household_id,
                holiday_windows.c.visit_start,
                holiday_windows.c.visit_end,
            )
        )
        windows = {household: (start, end) for household, start, end in asked.all()}
    return DayCover(set(paused.all()), dict(subs.all()), set(away.all()), holiday, windows)


async def evening_shifts(tx: Tx, fire_time: datetime, calendar: HolidayCalendar = OFFICIAL) -> None:
    """The evening job: tomorrow's shifts (and their messages to the caregivers)."""
    await generate_shifts(tx, GenerateShifts(date=fire_time.date() + timedelta(days=1)), calendar)


# Up to this many households are looked up by shift id; more read the whole day's shifts.
_LOOKUP_BY_ID = 500


async def create_shifts(tx: Tx, day: date, cover: DayCover, planned: list[tuple[Any, str]]) -> int:
    """The shifts of ``day`` for (assignment, caregiver) pairs (its own caregiver or a
    substitute), in ``cover``'s window, with their messages to the caregivers. A household
    that already has that day's shift keeps it. Returns how many were made."""
    if not planned:
        return 0
    day_shifts = sa.select(shifts.c.shift_id).where(shifts.c.date == day)
    if len(planned) <= _LOOKUP_BY_ID:
        ids = [shift_id_for(a.household_id, day) for a, _ in planned]
        day_shifts = day_shifts.where(shifts.c.shift_id.in_(ids))
    existing = set((await tx.conn.scalars(day_shifts)).all())
    with gc_paused(len(planned)):
        return await _new_shifts(tx, day, cover, planned, existing)


async def _new_shifts(
    tx: Tx, day: date, cover: DayCover, planned: list[tuple[Any, str]], existing: set[str]
) -> int:
    rows = []
    addresses = []
    for a, caregiver_id in planned:
        shift_id = shift_id_for(a.household_id, day)
        if shift_id in existing:
            continue
        existing.add(shift_id)
        visit_start, visit_end = cover.window_for(a)
        rows.append(
            {
                "shift_id": shift_id,
                "assignment_id": a.assignment_id,
                "household_id": a.household_id,
                "caregiver_id": caregiver_id,
                "date": day,
                "visit_start": visit_start,
                "visit_end": visit_end,
                "visited": False,
                "holiday": cover.holiday,
            }
        )
        addresses.append(a.address)
    if not rows:
        return 0
    await insert_many(tx.conn, shifts, rows)
    for row, address in zip(rows, addresses, strict=True):
        await tx.emit(
            subjects.carer_shift_subject(row["caregiver_id"]),
            ShiftScheduled(
                shift_id=row["shift_id"],
                caregiver_id=row["caregiver_id"],
                household_id=row["household_id"],
                address=address,
                date=day,
                visit_window=(row["visit_start"], row["visit_end"]),
                holiday=cover.holiday,
            ),
        )
    return len(rows)


async def complete_visit(tx: Tx, cmd: CompleteVisit) -> None:
    """Check-in and check-out at once (a phone that was offline sends both)."""
    row = await _shift(tx, cmd.shift_id)
    if await _refused(tx, row, cmd.shift_id, cmd.caregiver_id, cmd.checked_in_at):
        return
    await _record_visit(tx, row, cmd.checked_in_at, cmd.checked_out_at, cmd.latitude, cmd.longitude)


async def check_in(tx: Tx, cmd: CheckIn) -> None:
    row = await _shift(tx, cmd.shift_id)
    if await _refused(tx, row, cmd.shift_id, cmd.caregiver_id, cmd.at):
        return
    if row.checked_in_at is not None:
        return await _reject(tx, cmd.shift_id, cmd.caregiver_id, "already checked in")
    await tx.conn.execute(
        sa.update(shifts)
        .where(shifts.c.shift_id == row.shift_id)
        .values(
            checked_in_at=cmd.at, check_in_latitude=cmd.latitude, check_in_longitude=cmd.longitude
        )
    )
    await tx.emit(
        subjects.VISIT_CHECKED_IN,
        VisitCheckedIn(
            shift_id=row.shift_id,
            household_id=row.household_id,
            caregiver_id=row.caregiver_id,
            date=row.date,
            at=cmd.at,
        ),
    )


async def check_out(tx: Tx, cmd: CheckOut) -> None:
    row = await _shift(tx, cmd.shift_id)
    if await _refused(tx, row, cmd.shift_id, cmd.caregiver_id, cmd.at):
        return
    if row.checked_in_at is None:
        return await _reject(tx, cmd.shift_id, cmd.caregiver_id, "check-out without check-in")
    checked_in = in_zone(row.checked_in_at, tx.clock.tz)
    if cmd.at < checked_in:
        return await _reject(tx, cmd.shift_id, cmd.caregiver_id, "check-out before check-in")
    latitude = row.check_in_latitude if row.check_in_latitude is not None else cmd.latitude
    longitude = row.check_in_longitude if row.check_in_longitude is not None else cmd.longitude
    await _record_visit(tx, row, checked_in, cmd.at, latitude, longitude)


async def missed_visits(tx: Tx, fire_time: datetime, grace: timedelta) -> None:
    """The station's alert for every shift of today or yesterday with no check-in by the end
    of its window plus ``grace``; each shift is reported once."""
    candidates = await tx.conn.execute(
        sa.select(shifts, assignments.c.station_id)
        .join(assignments, assignments.c.assignment_id == shifts.c.assignment_id)
        .where(
            shifts.c.date <= fire_time.date(),
            shifts.c.date >= fire_time.date() - timedelta(days=1),
            shifts.c.checked_in_at.is_(None),
            shifts.c.visited.is_(False),
            shifts.c.missed_alerted.is_(False),
        )
        .order_by(shifts.c.date, shifts.c.shift_id)
    )
    for row in candidates.all():
        if not is_missed(row.date, row.visit_end, grace, fire_time):
            continue
        await tx.conn.execute(
            sa.update(shifts).where(shifts.c.shift_id == row.shift_id).values(missed_alerted=True)
        )
        await tx.emit(
            subjects.VISIT_MISSED,
            VisitMissed(
                shift_id=row.shift_id,
                household_id=row.household_id,
                caregiver_id=row.caregiver_id,
                station_id=row.station_id,
                date=row.date,
                visit_window=(row.visit_start, row.visit_end),
                grace_minutes=int(grace.total_seconds() // 60),
            ),
        )


async def _shift(tx: Tx, shift_id: str) -> Any:
    return (await tx.conn.execute(sa.select(shifts).where(shifts.c.shift_id == shift_id))).first()


async def _refused(tx: Tx, row: Any, shift_id: str, caregiver_id: str, at: datetime) -> bool:
    """Tell the phone why a check-in/out cannot be accepted (True), or accept it (False)."""
    view = ShiftView(row.shift_id, row.caregiver_id, row.date, row.visited) if row else None
    problem = visit_problem(view, caregiver_id, at.astimezone(tx.clock.tz).date())
    if problem:
        await _reject(tx, shift_id, caregiver_id, problem)
    return problem is not None


async def _reject(tx: Tx, shift_id: str, caregiver_id: str, reason: str) -> None:
    await tx.emit(
        subjects.VISIT_REJECTED,
        VisitRejected(shift_id=shift_id, caregiver_id=caregiver_id, reason=reason),
    )


async def _record_visit(
    tx: Tx,
    row: Any,
    checked_in_at: datetime,
    checked_out_at: datetime,
    latitude: float | None,
    longitude: float | None,
) -> None:
    visit_id = visit_id_for(row.shift_id)
    await tx.conn.execute(
        sa.insert(visits).values(
            visit_id=visit_id,
            shift_id=row.shift_id,
            household_id=row.household_id,
            caregiver_id=row.caregiver_id,
            date=row.date,
            checked_in_at=checked_in_at,
            checked_out_at=checked_out_at,
            latitude=latitude,
            longitude=longitude,
        )
    )
    await tx.conn.execute(
        sa.update(shifts)
        .where(shifts.c.shift_id == row.shift_id)
        .values(visited=True, checked_in_at=checked_in_at)
    )
    await tx.emit(
        subjects.VISIT_COMPLETED,
        VisitCompleted(
            visit_id=visit_id,
            shift_id=row.shift_id,
            household_id=row.household_id,
            caregiver_id=row.caregiver_id,
            date=row.date,
            checked_in_at=checked_in_at,
            checked_out_at=checked_out_at,
        ),
    )
