"""Scheduled jobs on the service clock (services/infra/jobs.py), with scheduling's evening job:
each fire time runs once across instances, atomically with its effects; fire times missed
while no instance ran are caught up within the grace period; on SQLite and PostgreSQL, and
end to end on a real nats-server."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from builders import assignment_event, one_assignment
from conftest import SHANGHAI
from nats.js.api import DeliverPolicy

from contracts import subjects
from contracts.envelope import Envelope
from contracts.scheduling.v1 import ShiftScheduled
from services.client import BusClient
from services.infra.bus.store import Tx
from services.infra.clock import SimulatedClock
from services.infra.jobs import Job, JobRunner
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling import app as scheduling_app
from services.scheduling import handlers
from services.scheduling.store import job_runs, shifts
from services.system import System

EVENING = CronTrigger(hour=18, minute=0, timezone=SHANGHAI)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def evening_job(**kw: object) -> Job:
    return Job("evening_shifts", EVENING, handlers.evening_shifts, **kw)  # type: ignore[arg-type]


async def assigned(svc: Service, household_id: str, caregiver_id: str) -> None:
    async with svc.store.transaction() as tx:
        await handlers.record_assignment(tx, assignment_event(household_id, caregiver_id))


async def shift_days(svc: Service) -> list[date]:
    rows = await svc.store.read(sa.select(shifts.c.date).order_by(shifts.c.date))
    return [r.date for r in rows]


async def runs(svc: Service) -> list[tuple[str, str]]:
    rows = await svc.store.read(
        sa.select(job_runs.c.fire_time, job_runs.c.instance).order_by(job_runs.c.fire_time)
    )

    def local(moment: datetime) -> datetime:  # PostgreSQL answers in UTC, SQLite as stored
        return moment.astimezone(SHANGHAI) if moment.tzinfo else moment

    return [(local(r.fire_time).strftime("%m-%d %H:%M"), r.instance) for r in rows]


async def generated_events(svc: Service) -> list[dict[str, object]]:
    out = svc.store.tables.outbox
    rows = await svc.store.read(
        sa.select(out.c.body).where(out.c.subject == subjects.SHIFTS_GENERATED)
    )
    return [json.loads(r.body)["payload"] for r in rows]


async def test_the_evening_job_runs_once_at_its_time(
    scheduling_db: Service, clock: SimulatedClock
) -> None:
    clock.set(at(1, 17, 0))
    await assigned(scheduling_db, "H1", "C1")
    runner = JobRunner(scheduling_db.store, job_runs, [evening_job()], "a")
    assert await runner.run_due() == 0  # 17:00: not yet
    clock.set(at(1, 18, 0))
    assert await runner.run_due() == 1  # 18:00 sharp: tomorrow's shifts
    assert await runner.run_due() == 0  # the same fire time never twice
    clock.set(at(1, 23, 59))
    assert await runner.run_due() == 0
    assert await shift_days(scheduling_db) == [date(2026, 11, 2)]
    assert await runs(scheduling_db) == [("11-01 18:00", "a")]
    assert [e["date"] for e in await generated_events(scheduling_db)] == ["2026-11-02"]


async def test_two_instances_never_run_a_fire_time_twice(
    settings: Settings, clock: SimulatedClock, backend: str
) -> None:
    """Two scheduling instances (their own engines, one database) see 18:00 come."""
    first = scheduling_app.build(settings, clock)
    second = scheduling_app.build(settings, clock)
    await first.migrate()
    try:
        clock.set(at(1, 17, 0))
        await assigned(first, "H1", "C1")
        await assigned(first, "H2", "C2")
        a = JobRunner(first.store, job_runs, [evening_job()], "a")
        b = JobRunner(second.store, job_runs, [evening_job()], "b")
        for day in (1, 2, 3):
            clock.set(at(day, 18, 0))
            if backend == "postgres":  # truly at the same time: the claim row decides
                ran = await asyncio.gather(a.run_due(), b.run_due())
            else:  # one writer per SQLite file: instances take turns (docs/architecture.md)
                ran = [await a.run_due(), await b.run_due()]
            assert sorted(ran) == [0, 1], (day, ran)
        assert await shift_days(first) == [date(2026, 11, d) for d in (2, 2, 3, 3, 4, 4)]
        assert [fire for fire, _ in await runs(first)] == [
            "11-01 18:00",
            "11-02 18:00",
            "11-03 18:00",
        ]
        assert len(await generated_events(first)) == 3
    finally:
        await first.engine.dispose()
        await second.engine.dispose()


async def test_a_fire_time_missed_while_down_runs_on_return(
    scheduling_db: Service, clock: SimulatedClock
) -> None:
    clock.set(at(1, 17, 0))
    await assigned(scheduling_db, "H1", "C1")
    runner = JobRunner(scheduling_db.store, job_runs, [evening_job()], "a")
    clock.set(at(1, 18, 0))
    assert await runner.run_due() == 1
    # down from 17:30 on the 2nd to 09:00 on the 3rd: the 2nd's 18:00 is caught up
    clock.set(at(3, 9, 0))
    restarted = JobRunner(scheduling_db.store, job_runs, [evening_job()], "a2")
    assert await restarted.run_due() == 1
    assert await shift_days(scheduling_db) == [date(2026, 11, 2), date(2026, 11, 3)]
    assert await runs(scheduling_db) == [("11-01 18:00", "a"), ("11-02 18:00", "a2")]


async def test_fire_times_older_than_the_grace_are_skipped(
    scheduling_db: Service, clock: SimulatedClock
) -> None:
    clock.set(at(1, 18, 0))
    await assigned(scheduling_db, "H1", "C1")
    runner = JobRunner(
        scheduling_db.store, job_runs, [evening_job(misfire_grace=timedelta(hours=6))], "a"
    )
    assert await runner.run_due() == 1
    clock.set(at(4, 20, 0))  # missed the 2nd and 3rd (too old), the 4th is 2 h ago
    assert await runner.run_due() == 1
    assert [fire for fire, _ in await runs(scheduling_db)] == ["11-01 18:00", "11-04 18:00"]
    assert await shift_days(scheduling_db) == [date(2026, 11, 2), date(2026, 11, 5)]


async def test_a_new_job_does_not_run_what_it_never_knew(
    scheduling_db: Service, clock: SimulatedClock
) -> None:
    clock.set(at(1, 19, 0))  # first start after today's 18:00
    runner = JobRunner(scheduling_db.store, job_runs, [evening_job()], "a")
    assert await runner.run_due() == 0
    clock.set(at(2, 18, 0))
    assert await runner.run_due() == 1


async def test_a_job_that_never_ran_also_skips_what_is_older_than_its_grace(
    scheduling_db: Service, clock: SimulatedClock
) -> None:
    """Started before its first fire time, then unable to run for long (a database outage):
    the first run still keeps to the grace, as every later one does."""
    clock.set(at(1, 12, 0))
    await assigned(scheduling_db, "H1", "C1")
    runner = JobRunner(
        scheduling_db.store, job_runs, [evening_job(misfire_grace=timedelta(hours=6))], "a"
    )
    clock.set(at(3, 20, 0))  # the 1st and 2nd are too old; the 3rd is 2 h ago
    assert await runner.run_due() == 1
    assert [fire for fire, _ in await runs(scheduling_db)] == ["11-03 18:00"]


async def test_a_failing_job_leaves_no_claim_and_runs_again(
    scheduling_db: Service, clock: SimulatedClock
) -> None:
    clock.set(at(1, 17, 0))
    await assigned(scheduling_db, "H1", "C1")
    attempts: list[datetime] = []

    async def flaky(tx: Tx, fire_time: datetime) -> None:
        attempts.append(fire_time)
        await handlers.evening_shifts(tx, fire_time)  # its shifts are written, then ...
        if len(attempts) == 1:
            raise RuntimeError("database went away mid-job")

    runner = JobRunner(scheduling_db.store, job_runs, [Job("evening_shifts", EVENING, flaky)], "a")
    clock.set(at(1, 18, 0))
    with pytest.raises(RuntimeError):
        await runner.run_due()
    assert await runs(scheduling_db) == [] and await shift_days(scheduling_db) == []  # rolled back
    assert await runner.run_due() == 1
    assert await shift_days(scheduling_db) == [date(2026, 11, 2)]
    assert len(attempts) == 2


async def test_evening_shifts_reach_the_caregiver_on_the_bus(
    tmp_path: Path, settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    """The running system on a real nats-server: at 18:00 on the service clock tomorrow's
    shift message arrives on the caregiver's subject, without anybody asking for it."""
    fast = settings.model_copy(update={"job_tick_seconds": 0.05})
    system = System(fast, clock)
    await system.start()
    try:
        watcher = await one_assignment(client)
        phone = await client.js.subscribe(
            subjects.carer_shift_subject("C1"), deliver_policy=DeliverPolicy.ALL
        )
        await asyncio.sleep(0.3)  # ticks at 08:00: nothing due
        assert watcher.by_type["scheduling.ShiftsGenerated"] == 0
        clock.set(at(1, 18, 0))
        msg = await phone.next_msg(timeout=20)
        shift = Envelope[ShiftScheduled].model_validate_json(msg.data).payload
        await msg.ack()
        assert (shift.household_id, shift.date) == ("H1", date(2026, 11, 2))
        await watcher.wait_until(
            lambda: watcher.by_type["scheduling.ShiftsGenerated"] == 1, "generated", timeout=20
        )
    finally:
        await system.stop()
