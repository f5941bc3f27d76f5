"""Scheduled jobs on the service clock: APScheduler's triggers say when, a database row says
who.

APScheduler 3's scheduler reads the wall clock itself (``datetime.now`` in its base class), so
it cannot run on simulated time; its triggers can. ``JobRunner`` asks each job's trigger
(e.g. ``CronTrigger(hour=18, timezone=Asia/Shanghai)``) for the fire times between the last
one it ran and the service clock's now, and runs each due fire time in one transaction that
first claims ``(job, fire_time)`` in ``job_runs``:

- exactly once across instances: two scheduling instances both see 18:00 come; the second
  one's claim finds the row (PostgreSQL makes it wait for the first one's commit) and does
  nothing;
- atomic with its effects: a job that fails or a process killed mid-job leaves no claim, so
  the fire time is still due and runs on the next tick or after the restart;
- misfires: fire times missed while no instance ran are run when one comes back, oldest
  first, as long as they are within the job's ``misfire_grace`` (older ones are skipped and
  logged, as APScheduler's ``misfire_grace_time`` does). A job that has never run starts
  from the moment its runner starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from apscheduler.triggers.base import BaseTrigger

from services.infra.bus.store import MessageStore, Tx
from services.infra.clock import in_zone
from services.infra.logging import get_logger
from services.infra.upsert import insert_ignore

log = get_logger("homecare.jobs")

JobWork = Callable[[Tx, datetime], Awaitable[None]]
TICK = timedelta(microseconds=1)  # "after": fire times are compared from the next instant


def job_runs_table(metadata: sa.MetaData) -> sa.Table:
    """One row per job and fire time that ran (the claim that makes it run once)."""
    return sa.Table(
        "job_runs",
        metadata,
        sa.Column("job", sa.String(80), primary_key=True),
        sa.Column("fire_time", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("instance", sa.String(200), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
    )


@dataclass(frozen=True)
class Job:
    name: str
    trigger: BaseTrigger
    work: JobWork  # (tx, fire_time): runs in the claiming transaction
    misfire_grace: timedelta = timedelta(days=1)
    description: str = ""


class JobRunner:
    def __init__(
        self,
        store: MessageStore,
        table: sa.Table,
        jobs: list[Job],
        instance: str,
        tick_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._table = table
        self._jobs = jobs
        self._instance = instance
        self._tick = tick_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.ran = 0  # fire times this instance ran
        self._warned: set[tuple[str, datetime]] = set()
        self._started = store.clock.now()

    def start(self) -> None:
        if self._jobs:
            self._task = asyncio.create_task(self._loop(), name=f"jobs-{self._store.producer}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.run_due()
                failures = 0
            except Exception as exc:  # the runner must outlive a database outage
                failures += 1
                log.warning("scheduled jobs failed; will retry", error=repr(exc), attempt=failures)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(self._tick * 2**failures, 30.0)):
                    await self._stopping.wait()

    async def run_due(self) -> int:
        """Run every fire time that is due now (on the service clock); how many ran here."""
        ran = 0
        for job in self._jobs:
            for fire_time in await self._due(job):
                if await self._run(job, fire_time):
                    ran += 1
        self.ran += ran
        return ran

    async def _due(self, job: Job) -> list[datetime]:
        """Fire times after the last one run (for a job never run: after this runner
        started) up to now, oldest first; those older than the grace period are skipped."""
        now = self._store.clock.now()
        rows = await self._store.read(
            sa.select(sa.func.max(self._table.c.fire_time)).where(self._table.c.job == job.name)
        )
        last = (
            in_zone(rows[0][0], self._store.clock.tz) if rows and rows[0][0] is not None else None
        )
        horizon = now - job.misfire_grace
        # A job that never ran starts with this runner: nothing was missed before it existed.
        # Either way fire times older than the grace are not run (a long outage after start).
        cursor = max(last if last else self._started - TICK, horizon)
        due: list[datetime] = []
        while True:
            fire_time = job.trigger.get_next_fire_time(None, cursor + TICK)
            if fire_time is None or fire_time > now:
                break
            due.append(fire_time)
            cursor = fire_time
        if last is not None and (job.name, last) not in self._warned:
            self._warned.add((job.name, last))
            first_missed = job.trigger.get_next_fire_time(last, last + TICK)
            if first_missed is not None and first_missed < horizon:
                log.warning(
                    "missed fire times older than the grace period are skipped",
                    job=job.name,
                    last_ran=last.isoformat(),
                    grace=str(job.misfire_grace),
                )
        return due

    async def _run(self, job: Job, fire_time: datetime) -> bool:
        flow = f"job:{job.name}:{fire_time:%Y%m%dT%H%M}"
        async with self._store.transaction(correlation_id=flow) as tx:
            claimed = await insert_ignore(
                tx.conn,
                self._table,
                {
                    "job": job.name,
                    "fire_time": fire_time,
                    "instance": self._instance,
                    "ran_at": tx.clock.now(),
                },
            )
            if claimed:
                await job.work(tx, fire_time)
        if claimed:
            log.debug("scheduled job ran", job=job.name, fire_time=fire_time.isoformat())
        return claimed
