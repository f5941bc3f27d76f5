"""Check-in, check-out and the missed-visit alert, on scheduling's own database (SQLite and
PostgreSQL), and check-in to billing end to end on a real nats-server."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from builders import assignment_event, one_assignment
from conftest import SHANGHAI
from scheduling_helpers import apply, emitted

from contracts import subjects
from contracts.scheduling.v1 import CheckIn, CheckOut, CompleteVisit, GenerateShifts, PauseVisits
from services.client import BusClient
from services.infra.clock import SimulatedClock
from services.infra.jobs import JobRunner
from services.infra.runtime import Service
from services.scheduling import handlers
from services.scheduling.model import is_missed
from services.scheduling.store import job_runs, shifts, visits
from services.system import System

DAY = date(2026, 11, 2)
SHIFT = "SH-H1-20261102"


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
async def scheduling(scheduling_db: Service) -> Service:
    """Scheduling's database with H1 (C1) and H2 (C2), 09:00-11:00, shifts on DAY."""
    svc = scheduling_db
    async with svc.store.transaction() as tx:
        await handlers.record_assignment(tx, assignment_event("H1", "C1"))
        await handlers.record_assignment(tx, assignment_event("H2", "C2"))
        await handlers.generate_shifts(tx, GenerateShifts(date=DAY))
    return svc


def test_missed_is_the_end_of_the_window_plus_the_grace() -> None:
    grace = timedelta(minutes=30)
    assert not is_missed(DAY, time(11), grace, at(11, 29))
    assert is_missed(DAY, time(11), grace, at(11, 30))  # the boundary counts as missed
    assert is_missed(DAY, time(23, 45), grace, at(0, 15, DAY + timedelta(days=1)))


async def test_check_in_then_check_out_records_one_visit(scheduling: Service) -> None:
    await apply(
        scheduling,
        handlers.check_in,
        CheckIn(shift_id=SHIFT, caregiver_id="C1", at=at(9, 5), latitude=38.9, longitude=121.6),
    )
    await apply(
        scheduling, handlers.check_in, CheckIn(shift_id=SHIFT, caregiver_id="C1", at=at(9, 6))
    )
    await apply(
        scheduling, handlers.check_out, CheckOut(shift_id=SHIFT, caregiver_id="C1", at=at(10, 40))
    )
    await apply(
        scheduling, handlers.check_out, CheckOut(shift_id=SHIFT, caregiver_id="C1", at=at(10, 41))
    )
    checked_in = await emitted(scheduling, subjects.VISIT_CHECKED_IN)
    assert [(e["shift_id"], e["caregiver_id"]) for e in checked_in] == [(SHIFT, "C1")]
    completed = await emitted(scheduling, subjects.VISIT_COMPLETED)
    assert len(completed) == 1
    assert datetime.fromisoformat(completed[0]["checked_in_at"]) == at(9, 5)
    assert datetime.fromisoformat(completed[0]["checked_out_at"]) == at(10, 40)
    rows = await scheduling.store.read(sa.select(visits.c.latitude, visits.c.longitude))
    assert [(r.latitude, r.longitude) for r in rows] == [(38.9, 121.6)]  # from the check-in
    rejected = [e["reason"] for e in await emitted(scheduling, subjects.VISIT_REJECTED)]
    assert rejected == ["already checked in", "visit already recorded"]


@pytest.mark.parametrize(
    ("commands", "reason"),
    [
        ([CheckOut(shift_id=SHIFT, caregiver_id="C1", at=at(10))], "check-out without check-in"),
        ([CheckIn(shift_id=SHIFT, caregiver_id="C2", at=at(9))], "shift belongs to caregiver C1"),
        ([CheckIn(shift_id="SH-X", caregiver_id="C1", at=at(9))], "unknown shift"),
        (
            [CheckIn(shift_id=SHIFT, caregiver_id="C1", at=at(9, day=DAY + timedelta(days=1)))],
            "check-in on 2026-11-03, shift is on 2026-11-02",
        ),
        (
            [
                CheckIn(shift_id=SHIFT, caregiver_id="C1", at=at(10)),
                CheckOut(shift_id=SHIFT, caregiver_id="C1", at=at(9)),
            ],
            "check-out before check-in",
        ),
    ],
)
async def test_a_wrong_check_in_or_out_is_refused_with_its_reason(
    scheduling: Service, commands: list[Any], reason: str
) -> None:
    for cmd in commands:
        await apply(
            scheduling, handlers.check_in if isinstance(cmd, CheckIn) else handlers.check_out, cmd
        )
    assert [e["reason"] for e in await emitted(scheduling, subjects.VISIT_REJECTED)] == [reason]
    assert await emitted(scheduling, subjects.VISIT_COMPLETED) == []


async def test_a_shift_without_check_in_raises_one_alert_after_the_grace(
    scheduling: Service, clock: SimulatedClock
) -> None:
    grace = timedelta(minutes=30)

    async def missed(fire: datetime) -> None:
        async with scheduling.store.transaction() as tx:
            await handlers.missed_visits(tx, fire, grace)

    await apply(
        scheduling, handlers.check_in, CheckIn(shift_id=SHIFT, caregiver_id="C1", at=at(9, 10))
    )
    await missed(at(11, 25))  # within the grace: nobody is missed yet
    assert await emitted(scheduling, subjects.VISIT_MISSED) == []
    await missed(at(11, 30))
    await missed(at(11, 35))  # once per shift
    alerts = await emitted(scheduling, subjects.VISIT_MISSED)
    assert [(a["shift_id"], a["caregiver_id"], a["station_id"]) for a in alerts] == [
        ("SH-H2-20261102", "C2", "S1")
    ]  # H1 was checked in
    assert alerts[0]["grace_minutes"] == 30


async def test_the_missed_visit_job_runs_every_five_minutes_on_the_clock(
    scheduling: Service, clock: SimulatedClock
) -> None:
    clock.set(at(11, 0))
    job = next(j for j in scheduling._scheduled if j.name == "missed_visits")
    runner = JobRunner(scheduling.store, job_runs, [job], "a")
    clock.set(at(11, 31))
    assert await runner.run_due() == 7  # 11:00 ... 11:30, oldest first; 11:30 finds both
    assert len(await emitted(scheduling, subjects.VISIT_MISSED)) == 2


async def test_check_in_and_out_over_the_bus_reach_billing(
    system: System, client: BusClient, clock: SimulatedClock
) -> None:
    watcher = await one_assignment(client)
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=DAY))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.ShiftsGenerated"] == 1, "shifts", timeout=20
    )
    await client.send(subjects.CHECK_IN, CheckIn(shift_id=SHIFT, caregiver_id="C1", at=at(9)))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.VisitCheckedIn"] == 1, "check-in", timeout=20
    )
    # a one-shot CompleteVisit for the same shift later is refused: the visit counts once
    await client.send(subjects.CHECK_OUT, CheckOut(shift_id=SHIFT, caregiver_id="C1", at=at(10)))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.VisitCompleted"] == 1, "visit", timeout=20
    )
    await client.send(
        subjects.COMPLETE_VISIT,
        CompleteVisit(
            shift_id=SHIFT, caregiver_id="C1", checked_in_at=at(9), checked_out_at=at(10)
        ),
    )
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.VisitRejected"] == 1, "refusal", timeout=20
    )
    assert watcher.by_type["scheduling.VisitCompleted"] == 1


async def test_a_pause_cancels_made_shifts_and_skips_its_days(scheduling: Service) -> None:
    """H1 goes to hospital from DAY to DAY+1: its DAY shift (made already) is cancelled and
    C1 told so; DAY+1 is not made; DAY+2 is made again. H2 goes on as before."""
    next_day, day_after = DAY + timedelta(days=1), DAY + timedelta(days=2)
    await apply(
        scheduling,
        handlers.pause_visits,
        PauseVisits(household_id="H1", first_day=DAY, last_day=next_day, reason="hospital"),
    )
    for day in (next_day, day_after):
        await apply(scheduling, handlers.generate_shifts, GenerateShifts(date=day))
    cancelled = await emitted(scheduling, subjects.carer_cancel_subject("C1"))
    assert [(c["shift_id"], c["reason"]) for c in cancelled] == [(SHIFT, "hospital")]
    paused = await emitted(scheduling, subjects.VISITS_PAUSED)
    assert [(p["household_id"], p["cancelled_shifts"]) for p in paused] == [("H1", 1)]
    generated = await emitted(scheduling, subjects.SHIFTS_GENERATED)
    assert [(g["date"], g["created"], g["paused"]) for g in generated[1:]] == [
        ("2026-11-03", 1, 1),
        ("2026-11-04", 2, 0),
    ]
    rows = await scheduling.store.read(
        sa.select(shifts.c.household_id, shifts.c.date).order_by(
            shifts.c.date, shifts.c.household_id
        )
    )
    assert [(r.household_id, r.date) for r in rows] == [
        ("H2", DAY),
        ("H2", next_day),
        ("H1", day_after),
        ("H2", day_after),
    ]
    await apply(scheduling, handlers.check_in, CheckIn(shift_id=SHIFT, caregiver_id="C1", at=at(9)))
    assert [e["reason"] for e in await emitted(scheduling, subjects.VISIT_REJECTED)] == [
        "unknown shift"
    ]


async def test_a_pause_leaves_a_started_visit_alone(scheduling: Service) -> None:
    await apply(scheduling, handlers.check_in, CheckIn(shift_id=SHIFT, caregiver_id="C1", at=at(9)))
    await apply(
        scheduling,
        handlers.pause_visits,
        PauseVisits(household_id="H1", first_day=DAY, last_day=DAY, reason="away"),
    )
    assert await emitted(scheduling, subjects.carer_cancel_subject("C1")) == []
    await apply(
        scheduling, handlers.check_out, CheckOut(shift_id=SHIFT, caregiver_id="C1", at=at(10))
    )
    assert len(await emitted(scheduling, subjects.VISIT_COMPLETED)) == 1


def test_a_pause_ends_on_or_after_its_first_day() -> None:
    with pytest.raises(ValueError, match="last_day is before first_day"):
        PauseVisits(
            household_id="H1", first_day=DAY, last_day=DAY - timedelta(days=1), reason="away"
        )
