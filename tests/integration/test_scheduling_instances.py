"""Shift generation under the two faults the issue names, on a real nats-server and on SQLite
and PostgreSQL: two running scheduling instances never create a shift twice, and a restart
(SIGKILL) during shift generation neither loses nor duplicates shifts. Shift messages are
counted where the caregivers' phones read them: in the HC_CARER stream."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from builders import assignment_event
from conftest import SHANGHAI, eventually
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts import subjects
from contracts.envelope import Payload
from contracts.scheduling.v1 import GenerateShifts
from services.client import BusClient
from services.infra.clock import SimulatedClock, in_zone
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling import app as scheduling_app
from services.scheduling.store import assignments, job_runs, shifts

ROOT = Path(__file__).resolve().parents[2]
HOMECARE = str(Path(sys.executable).parent / "homecare")
GENERATE_CONSUMER = ("HC_SCHEDULING", "scheduling_generate_shifts")
ASSIGNED_CONSUMER = (subjects.DISPATCH_STREAM, "scheduling_on_caregiver_assigned")


# -- reading what reached the bus and the database ------------------------------------------


async def stream_messages(
    client: BusClient, stream: str, subject: str
) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    """Every message ``stream`` holds on ``subject`` (wildcards allowed), oldest first, as
    (subject, headers, payload), read through a consumer of its own."""
    sub = await client.js.pull_subscribe(
        subject,
        stream=stream,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60
        ),
    )
    found: list[tuple[str, dict[str, str], dict[str, Any]]] = []
    try:
        while pending := (await sub.consumer_info()).num_pending or 0:
            for msg in await sub.fetch(min(pending, 1000), timeout=10):
                found.append(
                    (msg.subject, dict(msg.headers or {}), json.loads(msg.data)["payload"])
                )
    finally:
        await sub.unsubscribe()
    return found


async def shift_messages(client: BusClient) -> Counter[tuple[str, str]]:
    """How many ShiftScheduled HC_CARER holds for each (shift id, subject)."""
    found = await stream_messages(client, subjects.CARER_STREAM, subjects.CARER_SHIFT_WILDCARD)
    return Counter((payload["shift_id"], subject) for subject, _, payload in found)


async def shift_rows(svc: Service) -> list[Any]:
    return await svc.store.read(
        sa.select(shifts.c.shift_id, shifts.c.household_id, shifts.c.caregiver_id, shifts.c.date)
    )


async def caught_up(client: BusClient, *consumers: tuple[str, str]) -> bool:
    return all([await client.caught_up(stream, name) for stream, name in consumers])


def exactly_once(counts: Counter[Any]) -> dict[Any, int]:
    """The keys that were not seen exactly once (empty when all were)."""
    return {key: n for key, n in counts.items() if n != 1}


# -- 1. two scheduling instances ----------------------------------------------------------


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


EVENINGS = (1, 2, 3, 4)  # 18:00 on Nov 1..4 generates Nov 2..5
COPIES = 3  # GenerateShifts sent for each day, each under its own event id
CAREGIVERS = ("C1", "C2", "C3", "C4")
# Households whose CaregiverAssigned arrives on each day: six on the 1st at 08:00, before
# any generation, then two more each evening, while that evening's generation runs.
MORNING = [f"H{i:02d}" for i in range(1, 7)]
ARRIVING = {d: [f"H{6 + 2 * d - 1:02d}", f"H{6 + 2 * d:02d}"] for d in EVENINGS}


def caregiver_of(household_id: str) -> str:
    return CAREGIVERS[int(household_id[1:]) % len(CAREGIVERS)]


def expected_shifts() -> set[tuple[str, str, date]]:
    """(household, caregiver, day). A household assigned on day ``d`` has a shift on every
    generated day from ``d`` on (scheduling gives a late assignment the shifts of the days
    already generated, from today); days 2..5 are generated."""
    arrival = {h: 1 for h in MORNING} | {h: d for d, hs in ARRIVING.items() for h in hs}
    generated = [date(2026, 11, d + 1) for d in EVENINGS]
    return {
        (h, caregiver_of(h), day)
        for h, arrived in arrival.items()
        for day in generated
        if day >= date(2026, 11, arrived)
    }


async def start_instances(settings: Settings, clock: SimulatedClock) -> list[Service]:
    fast = settings.model_copy(update={"job_tick_seconds": 0.05})
    instances: list[Service] = []
    try:
        for _ in range(2):
            svc = scheduling_app.build(fast, clock)
            instances.append(svc)
            await svc.start()
    except BaseException:
        await stop_instances(instances)
        raise
    return instances


async def stop_instances(instances: list[Service]) -> None:
    """As System.stop: all stop consuming (and running jobs), then relays, then connections."""
    await asyncio.gather(*(svc.stop_consuming() for svc in instances))
    for svc in instances:
        if svc.relay:
            await svc.relay.stop()
    for svc in instances:
        await svc.disconnect()


async def test_two_scheduling_instances_never_create_a_shift_twice(
    settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    """Two scheduling instances run against one database and one nats-server, sharing the
    durable consumers, with their job runners on one simulated clock. Each evening the
    18:00 job comes due on both while GenerateShifts for the same day arrives three times
    (three event ids) and new assignments arrive, in shuffled order, over four days."""
    first, second = instances = await start_instances(settings, clock)
    try:
        await client.send_many(
            [(subjects.CAREGIVER_ASSIGNED, assignment_event(h, caregiver_of(h))) for h in MORNING]
        )
        await eventually(lambda: caught_up(client, ASSIGNED_CONSUMER), "the first assignments")
        for evening in EVENINGS:
            tomorrow = date(2026, 11, evening + 1)
            items: list[tuple[str, Payload]] = [
                (subjects.GENERATE_SHIFTS, GenerateShifts(date=tomorrow)) for _ in range(COPIES)
            ]
            items += [
                (subjects.CAREGIVER_ASSIGNED, assignment_event(h, caregiver_of(h)))
                for h in ARRIVING[evening]
            ]
            # dispatch's relay may publish an assignment again (another event id)
            items.append(
                (subjects.CAREGIVER_ASSIGNED, assignment_event("H01", caregiver_of("H01")))
            )
            random.Random(evening).shuffle(items)
            clock.set(at(evening, 17, 0))  # today is the evening's day for every arrival
            if evening % 2:  # the commands first, or the job first
                await client.send_many(items)
                clock.set(at(evening, 18, 0))
            else:
                clock.set(at(evening, 18, 0))
                await client.send_many(items)

            async def settled(evening: int = evening) -> bool:
                ran = await first.store.read(
                    sa.select(job_runs.c.fire_time).where(job_runs.c.job == "evening_shifts")
                )
                return len(ran) == evening and await caught_up(
                    client, GENERATE_CONSUMER, ASSIGNED_CONSUMER
                )

            await eventually(settled, f"the evening of Nov {evening}")

        async def relayed() -> bool:
            return await first.store.outbox_backlog() == 0

        await eventually(relayed, "every outbox row published")
    finally:
        await stop_instances(instances)

    try:
        # one row per (household, day), and none missing
        rows = await shift_rows(first)
        assert exactly_once(Counter((r.household_id, r.date) for r in rows)) == {}
        assert {(r.household_id, r.caregiver_id, r.date) for r in rows} == expected_shifts()
        # one ShiftScheduled per shift, on its caregiver's subject, in the stream phones read
        sent = await shift_messages(client)
        assert exactly_once(sent) == {}
        assert set(sent) == {
            (r.shift_id, subjects.carer_shift_subject(r.caregiver_id)) for r in rows
        }
        # one run per (job, fire time): the evening job ran once each evening, by one instance
        runs = await first.store.read(sa.select(job_runs.c.job, job_runs.c.fire_time))
        assert exactly_once(Counter((r.job, r.fire_time) for r in runs)) == {}
        evening_runs = sorted(r.fire_time for r in runs if r.job == "evening_shifts")
        assert [in_zone(t, SHANGHAI) for t in evening_runs] == [at(e, 18, 0) for e in EVENINGS]
        assert first.jobs and second.jobs
        assert first.jobs.ran + second.jobs.ran == len(runs)  # no fire time claimed twice
        # ShiftsGenerated per day: one from the job, one per command copy
        generated = await stream_messages(client, "HC_SCHEDULING", subjects.SHIFTS_GENERATED)
        by_day = Counter(
            (payload["date"], headers["Homecare-Correlation-Id"].startswith("job:evening_shifts"))
            for _, headers, payload in generated
        )
        assert by_day == {
            **{(date(2026, 11, e + 1).isoformat(), True): 1 for e in EVENINGS},
            **{(date(2026, 11, e + 1).isoformat(), False): COPIES for e in EVENINGS},
        }
        assert await first.store.dead_letter_count() == 0
    finally:
        await first.engine.dispose()  # used again above, after its service stopped


# -- 2. a restart during shift generation -------------------------------------------------

HOUSEHOLDS = 20_000
DAY = date(2030, 1, 15)  # far from the system clock the subprocess runs on


def seeded_assignments() -> list[dict[str, Any]]:
    """HOUSEHOLDS assignments, two households per caregiver; every 50th ended, every 97th
    starting after DAY (neither gets a shift)."""
    return [
        {
            "assignment_id": f"AS-H{i:05d}",
            "household_id": f"H{i:05d}",
            "caregiver_id": f"C{i // 2:05d}",
            "station_id": "S1",
            "address": f"五一路{i}号",
            "start_date": DAY + timedelta(days=1) if i % 97 == 0 else date(2029, 12, 1),
            "visit_start": time(9),
            "visit_end": time(11),
            "active": i % 50 != 49,
        }
        for i in range(HOUSEHOLDS)
    ]


def is_due(row: dict[str, Any]) -> bool:
    return bool(row["active"]) and row["start_date"] <= DAY


def service_env(settings: Settings, ack_wait: float) -> dict[str, str]:
    """`homecare run scheduling` on the test's nats-server and database. It runs on the
    system clock (no setting simulates time), so its own evening job is put twelve hours
    away, and shifts are generated with GenerateShifts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMECARE_")}
    far = (datetime.now(SHANGHAI) + timedelta(hours=12)).strftime("%H:%M")
    env.update(
        HOMECARE_NATS_URL=str(settings.nats_url),
        HOMECARE_VAR_DIR=str(settings.var_dir),
        HOMECARE_ACK_WAIT_SECONDS=str(ack_wait),
        HOMECARE_SHIFTS_AT=far,
        HOMECARE_REMINDERS_AT=far,
        HOMECARE_LOG_FORMAT="json",
        HOMECARE_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),  # this checkout, whatever the editable install points at
        PYTHONUNBUFFERED="1",
    )
    if settings.database_url:
        env["HOMECARE_DATABASE_URL"] = settings.database_url
    return env


def output_of(log: Path) -> str:
    return log.read_text(errors="replace")


async def start_scheduling(
    env: dict[str, str], log: Path, client: BusClient
) -> asyncio.subprocess.Process:
    with log.open("wb") as out:  # the child keeps its own descriptor
        proc = await asyncio.create_subprocess_exec(
            HOMECARE, "run", "scheduling", env=env, cwd=log.parent, stdout=out, stderr=out
        )

    async def answering() -> bool:
        assert proc.returncode is None, f"scheduling exited:\n{output_of(log)}"
        try:
            await client.health("scheduling", timeout=0.5)
        except Exception:
            return False
        return True

    try:
        await eventually(answering, "scheduling to answer its health query", timeout=30)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return proc


def sqlite_writing(path: Path) -> bool:
    """True while another connection holds the SQLite file's write lock."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        conn.execute("ROLLBACK")
        return False
    finally:
        conn.close()


class ShiftBlocker:
    """PostgreSQL: an uncommitted shift row of one household, held by the test. Generation's
    insert reaches that household's key and waits to learn whether the row will commit,
    with the shifts before it already written in its own open transaction: a point in the
    middle of generation, whatever order or batches the use case inserts in."""

    def __init__(self, database_url: str) -> None:
        self.dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        self.holder: asyncpg.Connection | None = None
        self.watcher: asyncpg.Connection | None = None
        self.tx: Any = None

    async def hold(self, row: dict[str, Any]) -> None:
        self.holder = await asyncpg.connect(self.dsn)
        self.watcher = await asyncpg.connect(self.dsn)
        self.tx = self.holder.transaction()
        await self.tx.start()
        await self.holder.execute(
            "INSERT INTO scheduling.shifts (shift_id, assignment_id, household_id, "
            "caregiver_id, date, visit_start, visit_end, visited) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, false)",
            f"SH-{row['household_id']}-{DAY:%Y%m%d}",
            row["assignment_id"],
            row["household_id"],
            row["caregiver_id"],
            DAY,
            row["visit_start"],
            row["visit_end"],
        )

    async def waiting_statement(self) -> str | None:
        """The statement of another session of this database waiting on a lock, if any."""
        assert self.watcher and self.holder
        statement: str | None = await self.watcher.fetchval(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid NOT IN ($1, $2) LIMIT 1",
            self.holder.get_server_pid(),
            self.watcher.get_server_pid(),
        )
        return statement

    async def release(self) -> None:
        if self.tx is not None:
            await self.tx.rollback()
            self.tx = None
        for conn in (self.holder, self.watcher):
            if conn is not None:
                await conn.close()
        self.holder = self.watcher = None


async def kill_while_generating(
    env: dict[str, str], log: Path, client: BusClient, settings: Settings, middle: dict[str, Any]
) -> None:
    """Start scheduling, send GenerateShifts for DAY and SIGKILL the process while that
    command's transaction is open: on PostgreSQL once its shift insert waits at ``middle``'s
    household (see ShiftBlocker), on SQLite once the write lock has been held for two polls
    in a row (the transaction that claims the command and generates the day). The command
    is delivered and never acknowledged."""
    blocker = ShiftBlocker(settings.database_url) if settings.database_url else None
    proc = await start_scheduling(env, log, client)
    try:
        if blocker:
            await blocker.hold(middle)
        await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=DAY))

        writing: list[bool] = []

        async def generating() -> bool:
            info = await client.js.consumer_info(*GENERATE_CONSUMER)
            if info.num_ack_pending != 1:  # not delivered yet
                return False
            if blocker:
                statement = await blocker.waiting_statement()
                return statement is not None and "shifts" in statement
            # twice running (polls are 50 ms apart): generation's transaction, not a job's
            writing.append(sqlite_writing(settings.var_dir / "scheduling.db"))
            return writing[-2:] == [True, True]

        await eventually(generating, "generation under way", timeout=20)
        proc.kill()  # SIGKILL: no graceful stop; the transaction can never commit
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if blocker:
            await blocker.release()
    assert proc.returncode == -signal.SIGKILL


async def test_a_restart_during_shift_generation_neither_loses_nor_duplicates_shifts(
    tmp_path: Path, settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    """`homecare run scheduling` in a subprocess, 20,000 assignments in its database.
    GenerateShifts for DAY; SIGKILL while generation is under way; start it again. The
    command comes back after the ack wait and this time commits: one shift per due
    assignment, one ShiftScheduled per shift in HC_CARER, and one ShiftsGenerated,
    created=N."""
    seed = scheduling_app.build(settings, clock)  # the test's view of the same database
    try:
        await seed.migrate()
        rows = seeded_assignments()
        async with seed.engine.begin() as conn:
            await conn.execute(sa.insert(assignments), rows)
        due = [r for r in rows if is_due(r)]

        async def day_shifts() -> list[Any]:
            return [r for r in await shift_rows(seed) if r.date == DAY]

        env = service_env(settings, ack_wait=5)
        await kill_while_generating(
            env, tmp_path / "scheduling-1.log", client, settings, due[len(due) // 2]
        )
        # the kill came mid-generation: nothing of DAY committed, nothing announced
        assert await day_shifts() == [], "the kill came too late: generation had committed"
        assert await stream_messages(client, "HC_SCHEDULING", subjects.SHIFTS_GENERATED) == []

        log = tmp_path / "scheduling-2.log"
        proc = await start_scheduling(env, log, client)
        try:

            async def done() -> bool:
                return (
                    await caught_up(client, GENERATE_CONSUMER)
                    and len(await day_shifts()) == len(due)
                    and await seed.store.outbox_backlog() == 0
                )

            # the unacknowledged command comes back once its ack wait (5 s) has run out
            await eventually(done, "DAY generated and published after the restart", timeout=60)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)  # graceful
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        assert proc.returncode == 0, output_of(log)

        assert {r.household_id for r in await day_shifts()} == {r["household_id"] for r in due}
        sent = await shift_messages(client)
        assert exactly_once(sent) == {}
        assert set(sent) == {
            (
                f"SH-{r['household_id']}-{DAY:%Y%m%d}",
                subjects.carer_shift_subject(r["caregiver_id"]),
            )
            for r in due
        }
        generated = await stream_messages(client, "HC_SCHEDULING", subjects.SHIFTS_GENERATED)
        assert [(p["date"], p["created"], p["already_present"]) for _, _, p in generated] == [
            (DAY.isoformat(), len(due), 0)
        ]
        assert await seed.store.dead_letter_count() == 0
    finally:
        await seed.engine.dispose()
