"""A city-sized day on the real system: 100,000 households and 60,000 caregivers registered,
matched, a day's shifts generated and delivered, every visit checked in and out, a diary
for each, then the month's billing run. The services run as `homecare run <service>`
processes (one instance each, then two) on a NATS cluster with PostgreSQL; each stage is
timed until the services' databases show the work done and the bus is quiet. See
bench/README.md ("City benchmark").

Usage: ``python bench/city.py [--households N] [--caregivers M] [--instances 1,2]
[--nodes 3] [--database-url URL] [--timeout S] [--json] [--keep]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from bench_city import KM_LAT, KM_LON, LAT0, LON0, SKILLS
from bus import BenchError
from city_procs import (
    Nats,
    ScratchDatabase,
    ServiceProcesses,
    all_up,
    cpu_seconds,
    quiet,
    wait_for,
)
from matching_bus import bus_households
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from contracts import subjects
from contracts.billing.runs_v1 import RunBilling
from contracts.dispatch.v1 import RegisterCaregiver, RegisterHousehold, RequestCare
from contracts.dispatch.values import Certificate, GeoPoint
from contracts.envelope import Payload, headers_for
from contracts.scheduling.diary_v1 import RecordDiary
from contracts.scheduling.v1 import CheckIn, CheckOut, GenerateShifts, ShiftScheduled
from services.billing.store import bill_households, billing_runs, categories
from services.billing.store import visits as billing_visits
from services.client import BusClient
from services.dispatch.store import assignments as dispatch_assignments
from services.dispatch.store import care_requests, caregivers, households
from services.infra.bus.streams import DUPLICATE_WINDOW_SECONDS
from services.infra.runtime import Service
from services.scheduling.store import assignments as scheduling_assignments
from services.scheduling.store import diaries, shifts
from services.scheduling.store import visits as scheduling_visits

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)  # D: the generated day (a Friday, no holiday)
CLOCK_START = datetime(2026, 11, 19, 8, 0, tzinfo=SHANGHAI)  # 08:00 the day before D
MONTH = "2026-11"
CERTIFIED = tuple(
    Certificate(module=m, expires_on=date(2027, 12, 31))
    for m in ("daily_care", "common_illness", "first_aid")
)
CAPACITY = 2  # households per caregiver: 60,000 caregivers can serve 120,000
POLL_SECONDS = 0.25
PROGRESS_SECONDS = 10.0
MAINTENANCE_SECONDS = 60.0  # autovacuum's default naptime
PUBLISH_CHUNK = 5000  # messages in flight per gather (nats-py caps pending acks anyway)
ACK_TIMEOUT = 120.0
RAW_STREAM = "BENCH_CITY_RAW"
STAGES = (
    "register",
    "match",
    "shifts generated",
    "shift messages",
    "check-in",
    "check-out (visits)",
    "diaries",
    "billing run",
)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# -- the synthetic city ---------------------------------------------------------------------


# Streets (社区) the size of Dalian's: about 100 households each and the caregivers who live
# there, on a square grid of 0.5 km cells; 100,000 households make 1,024 streets.
STREET_HOUSEHOLDS = 100
CELL_KM = 0.5


def city_streets(households: int) -> int:
    """Cells per side of the city's grid of streets."""
    return max(1, round(math.sqrt(households / STREET_HOUSEHOLDS)))


def street_point(rng: random.Random, side: int, k: int) -> tuple[GeoPoint, str]:
    """A random point in street ``k`` of a ``side`` x ``side`` grid, and its name."""
    row, col = divmod(k % (side * side), side)
    y, x = (row + rng.random()) * CELL_KM, (col + rng.random()) * CELL_KM
    return GeoPoint(lat=LAT0 + y * KM_LAT, lon=LON0 + x * KM_LON), f"street-{row:02d}-{col:02d}"


def city_households(rng: random.Random, n: int) -> list[RegisterHousehold]:
    """``n`` households of bench/matching_bus.py's kind, spread evenly over the streets."""
    side = city_streets(n)
    found = []
    for j, one in enumerate(bus_households(rng, "", n)):
        location, street = street_point(rng, side, j)
        found.append(
            one.model_copy(
                update={"location": location, "street": street, "station_id": street + "-s1"}
            )
        )
    return found


def city_caregivers(rng: random.Random, m: int, households: int) -> list[RegisterCaregiver]:
    """``m`` caregivers spread evenly over the streets of ``households`` households."""
    side = city_streets(households)
    found = []
    for j in range(m):
        home, street = street_point(rng, side, j)
        found.append(
            RegisterCaregiver(
                caregiver_id=f"C{j:06d}",
                name="王秀兰",
                station_id=street + "-s1",
                street=street,
                sex="F" if rng.random() < 0.85 else "M",
                capacity=CAPACITY,
                home=home,
                dialects=frozenset({"大连话"}) if rng.random() < 0.5 else frozenset(),
                skills=frozenset(
                    s for s, p in zip(SKILLS, (0.4, 0.25), strict=True) if rng.random() < p
                ),
                certificates=CERTIFIED,
                appraisal_score=round(rng.uniform(60, 100), 1),
            )
        )
    return found


Message = tuple[str, bytes, dict[str, str]]


def wire(client: BusClient, items: list[tuple[str, Payload]]) -> list[Message]:
    """What ``BusClient.send`` publishes for each command (envelope, body, headers), made
    before a stage's clock starts so the bench's own serialising is not timed."""
    found = []
    for subject, payload in items:
        env = client.envelope(payload)
        found.append((subject, env.to_json(), headers_for(env)))
    return found


async def publish_all(client: BusClient, messages: list[Message], prefix: str = "") -> None:
    """Publish with JetStream acks pipelined (``publish_async``, as ``send_many`` does); all
    acknowledged on return."""
    js = client.js
    for start in range(0, len(messages), PUBLISH_CHUNK):
        futures = [
            await js.publish_async(prefix + subject, body, headers=headers)
            for subject, body, headers in messages[start : start + PUBLISH_CHUNK]
        ]
        async with asyncio.timeout(ACK_TIMEOUT):
            await asyncio.gather(*futures)


async def raw_baseline(client: BusClient, messages: list[Message], replicas: int) -> float:
    """Raw nats-py: the same messages (bodies, headers, subjects under ``bench.``) into a
    bench-only stream with the same replicas; seconds until every ack is in."""
    await client.js.add_stream(
        StreamConfig(
            name=RAW_STREAM,
            subjects=["bench.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            num_replicas=replicas,
        )
    )
    try:
        t = time.perf_counter()
        await publish_all(client, messages, prefix="bench.")
        seconds = time.perf_counter() - t
        stored = (await client.js.stream_info(RAW_STREAM)).state.messages
    finally:
        await client.js.delete_stream(RAW_STREAM)
    if stored != len(messages):
        raise BenchError(f"raw baseline: {stored} stored of {len(messages)}")
    return seconds


# -- measuring a stage ----------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    count: int = 0
    seconds: float = 0.0
    sent_seconds: float | None = None
    raw_seconds: float | None = None
    sent: int = 0  # messages published (the raw baseline publishes as many)
    detail: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        rate = self.count / self.seconds if self.seconds else 0.0
        out: dict[str, Any] = {
            "count": self.count,
            "seconds": round(self.seconds, 2),
            "per_second": round(rate, 1),
        }
        if self.sent_seconds is not None:
            out["sent_seconds"] = round(self.sent_seconds, 2)
        if self.raw_seconds is not None and self.sent:
            out["raw_nats_seconds"] = round(self.raw_seconds, 2)
            # time per item done over raw time per message: the stage's seconds over the raw
            # run's when it finished, and still comparable when it was stopped part way
            if self.count:
                per_item = self.seconds / self.count
                out["ratio_to_raw"] = round(per_item / (self.raw_seconds / self.sent), 2)
        out.update(self.detail)
        return out


class City:
    """One configuration: a fresh cluster, database and service processes."""

    def __init__(self, args: argparse.Namespace, instances: int, root: Path) -> None:
        self.args = args
        self.instances = instances
        self.root = root
        self.nats = Nats(root / "nats", args.nodes)
        self.db = ScratchDatabase(args.database_url, f"bench_city_{os.getpid()}_{instances}")
        self.procs: ServiceProcesses | None = None
        self.dbs: dict[str, Service] = {}
        self.client: BusClient | None = None
        self.stages: list[Stage] = []
        self.memory: dict[str, list[int | None]] = {}
        self.maintenance: asyncio.Task[None] | None = None
        self.maintenance_seconds = 0.0

    async def count(self, service: str, query: sa.Select[Any]) -> int:
        return int((await self.dbs[service].store.read(query))[0][0])

    async def until(
        self, stage: str, done: Callable[[], Awaitable[bool]], state: Callable[[], Awaitable[str]]
    ) -> None:
        """Poll ``done`` (then the whole bus quiet) until true; a progress line every
        PROGRESS_SECONDS; BenchError with how far it got after --timeout."""
        assert self.procs and self.client
        started = time.monotonic()
        last = started
        while True:
            self.procs.check_alive()
            if await done() and await quiet(self.client, self.dbs):
                return
            now = time.monotonic()
            if now - started > self.args.timeout:
                raise BenchError(
                    f"{stage}: timed out after {self.args.timeout:g}s (see --timeout): "
                    f"{await state()}"
                )
            if now - last >= PROGRESS_SECONDS:
                last = now
                log(f"  {stage}: {now - started:.0f}s, {await state()}")
            await asyncio.sleep(POLL_SECONDS)

    async def stage(
        self,
        name: str,
        messages: list[Message],
        done: Callable[[], Awaitable[bool]],
        state: Callable[[], Awaitable[str]],
        count: Callable[[], Awaitable[int]],
        baseline: bool = True,
    ) -> Stage:
        """Publish ``messages`` and time until ``done`` and quiet; the raw baseline of the same
        messages is measured first, on the same cluster, with the services idle."""
        assert self.client
        result = Stage(name, sent=len(messages))
        if baseline and messages and not self.args.no_baseline:
            result.raw_seconds = await raw_baseline(self.client, messages, self.nats.replicas)
        log(f"{name}: {len(messages)} messages ...")
        before = await self.usage()
        t = time.perf_counter()
        sending = asyncio.create_task(publish_all(self.client, messages))
        waiting = asyncio.create_task(self.until(name, done, state))
        try:
            await sending
            result.sent_seconds = time.perf_counter() - t
            await waiting
        except BenchError:
            # how far it got: the stage's row with what was done by the deadline
            result.detail["stopped"] = f"after --timeout {self.args.timeout:g}s"
            raise
        finally:
            for task in (sending, waiting):
                task.cancel()
            result.seconds = time.perf_counter() - t
            result.count = await count()
            await self.pg_detail(result, before)
            log(f"{name}: {result.count} in {result.seconds:.1f}s ({result.row()['per_second']}/s)")
            self.stages.append(result)
        return result

    async def usage(self) -> dict[str, float]:
        """What the stage costs whatever else runs on the machine: CPU seconds of the service
        processes and of the nats-servers, PostgreSQL sessions opened and commits."""
        assert self.procs
        return {
            "services_cpu_s": sum(cpu_seconds(pid) for pid in self.procs.pids()),
            "nats_cpu_s": sum(cpu_seconds(pid) for pid in self.nats.pids()),
            **await self.db.stats(),
        }

    async def pg_detail(self, result: Stage, before: dict[str, float]) -> None:
        """The stage's CPU seconds, new PostgreSQL sessions and commits, and the load."""
        await asyncio.sleep(1.0)  # backends report their counters about once a second
        after = await self.usage()
        for key, value in after.items():
            result.detail[key] = round(value - before[key], 1)
        result.detail["load_1m"] = round(os.getloadavg()[0], 1)
        if result.count:
            result.detail["services_cpu_ms_per_item"] = round(
                1000 * result.detail["services_cpu_s"] / result.count, 2
            )
        if result.count:
            result.detail["commits_per_item"] = round(result.detail["pg_commits"] / result.count, 1)

    # -- the day ----------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        args = self.args
        rng = random.Random(args.seed)
        log(f"== {self.instances} instance(s) of each service; {self.nats.describe()}")
        await self.db.create()
        self.nats.start()
        try:
            self.procs = ServiceProcesses(
                self.root,
                self.nats.url,
                self.db.url,
                self.nats.replicas,
                CLOCK_START,
                self.instances,
            )
            await self.procs.migrate()
            if not await self.db.autovacuum():
                log(
                    "PostgreSQL runs with autovacuum off: the bench vacuums and analyzes its "
                    f"database every {MAINTENANCE_SECONDS:g}s instead"
                )
                self.maintenance = asyncio.create_task(self.maintain())
            self.dbs = self.procs.readers()
            self.client = await BusClient.connect(self.nats.urls, producer="bench-city")
            await self.procs.start()
            client = self.client
            await wait_for(lambda: all_up(client, self.instances), "the services to start", 120)
            await wait_for(lambda: quiet(client, self.dbs), "the bus to be quiet", 120)
            await self.day(rng)
        finally:
            if self.procs:
                self.memory = self.procs.peak_memory()
            await self.close()
        return self.result()

    async def maintain(self) -> None:
        """Autovacuum's work, for a server that has it off: a production database runs it
        (deploy/postgres/homecare.conf), and a city's tables outgrow their first plans."""
        while True:
            await asyncio.sleep(MAINTENANCE_SECONDS)
            t = time.perf_counter()
            await self.db.vacuum_analyze()
            self.maintenance_seconds += time.perf_counter() - t

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "instances": self.instances,
            "stages": {s.name: s.row() for s in self.stages},
            "peak_memory_bytes": self.memory,
        }
        if self.maintenance:
            out["vacuum_analyze_seconds"] = round(self.maintenance_seconds, 1)
        return out

    async def day(self, rng: random.Random) -> None:
        assert self.client
        client = self.client
        n, m = self.args.households, self.args.caregivers
        hh = city_households(rng, n)
        cg = city_caregivers(rng, m, n)

        # register
        register = wire(client, [(subjects.REGISTER_CAREGIVER, c) for c in cg])
        register += wire(client, [(subjects.REGISTER_HOUSEHOLD, h) for h in hh])

        async def registered() -> tuple[int, int, int]:
            return (
                await self.count("dispatch", sa.select(sa.func.count()).select_from(households)),
                await self.count("dispatch", sa.select(sa.func.count()).select_from(caregivers)),
                await self.count(
                    "billing",
                    sa.select(sa.func.count(sa.distinct(categories.c.household_id))),
                ),
            )

        async def register_done() -> bool:
            return await registered() == (n, m, n)

        async def register_state() -> str:
            h, c, b = await registered()
            return f"dispatch {h}/{n} households, {c}/{m} caregivers; billing {b}/{n} categories"

        async def register_count() -> int:
            h, c, _ = await registered()
            return h + c

        await self.stage("register", register, register_done, register_state, register_count)
        del register

        # match
        requests = wire(
            client,
            [
                (
                    subjects.REQUEST_CARE,
                    RequestCare(
                        request_id="R" + h.household_id[1:],
                        household_id=h.household_id,
                        start_date=DAY,
                        mode="auto",
                    ),
                )
                for h in hh
            ],
        )
        answered_q = sa.select(sa.func.count()).where(care_requests.c.status != "open")
        assigned_q = sa.select(sa.func.count()).select_from(dispatch_assignments)
        sched_q = sa.select(sa.func.count()).select_from(scheduling_assignments)

        async def match_done() -> bool:
            return await self.count("dispatch", answered_q) == n

        async def match_state() -> str:
            return (
                f"{await self.count('dispatch', answered_q)}/{n} answered, "
                f"{await self.count('dispatch', assigned_q)} assigned, "
                f"{await self.count('scheduling', sched_q)} in scheduling"
            )

        async def match_count() -> int:
            return await self.count("dispatch", answered_q)

        match = await self.stage("match", requests, match_done, match_state, match_count)
        assigned = await self.count("dispatch", assigned_q)
        match.detail["assigned"] = assigned
        match.detail["unmet"] = n - assigned
        del requests

        # shifts: generation (the evening job's command) and the shift messages
        await self.shifts(assigned)

        # visits: check-in, then check-out, on each caregiver's own subject (the phone's)
        day_shifts = await self.dbs["scheduling"].store.read(
            sa.select(shifts.c.shift_id, shifts.c.caregiver_id, shifts.c.household_id)
            .where(shifts.c.date == DAY)
            .order_by(shifts.c.shift_id)
        )
        k = len(day_shifts)
        arrive = datetime.combine(DAY, dtime(9, 5), SHANGHAI)
        check_ins = wire(
            client,
            [
                (
                    subjects.carer_command_subject(s.caregiver_id, "check_in"),
                    CheckIn(shift_id=s.shift_id, caregiver_id=s.caregiver_id, at=arrive),
                )
                for s in day_shifts
            ],
        )
        checked_in_q = sa.select(sa.func.count()).where(
            shifts.c.date == DAY, shifts.c.checked_in_at.is_not(None)
        )

        async def in_done() -> bool:
            return await self.count("scheduling", checked_in_q) == k

        async def in_state() -> str:
            return f"{await self.count('scheduling', checked_in_q)}/{k} checked in"

        async def in_count() -> int:
            return await self.count("scheduling", checked_in_q)

        await self.stage("check-in", check_ins, in_done, in_state, in_count)
        del check_ins
        check_outs = wire(
            client,
            [
                (
                    subjects.carer_command_subject(s.caregiver_id, "check_out"),
                    CheckOut(
                        shift_id=s.shift_id,
                        caregiver_id=s.caregiver_id,
                        at=arrive + timedelta(minutes=90),
                    ),
                )
                for s in day_shifts
            ],
        )
        visits_q = sa.select(sa.func.count()).select_from(scheduling_visits)
        billed_q = sa.select(sa.func.count()).select_from(billing_visits)

        async def out_done() -> bool:
            return (
                await self.count("scheduling", visits_q) == k
                and await self.count("billing", billed_q) == k
            )

        async def out_state() -> str:
            return (
                f"{await self.count('scheduling', visits_q)}/{k} visits in scheduling, "
                f"{await self.count('billing', billed_q)}/{k} in billing"
            )

        async def out_count() -> int:
            return await self.count("billing", billed_q)

        await self.stage("check-out (visits)", check_outs, out_done, out_state, out_count)
        del check_outs

        # diaries, one per visit
        moods = ("good", "calm", "low")
        diary_msgs = wire(
            client,
            [
                (
                    subjects.carer_command_subject(s.caregiver_id, "record_diary"),
                    RecordDiary(
                        household_id=s.household_id,
                        caregiver_id=s.caregiver_id,
                        date=DAY,
                        tasks=("bathing", "meal"),
                        appetite="good" if i % 7 else "fair",
                        mood=moods[i % 3],  # type: ignore[arg-type]
                        notes="精神不错，午饭吃了一碗米饭。",
                    ),
                )
                for i, s in enumerate(day_shifts)
            ],
        )
        diaries_q = sa.select(sa.func.count()).where(diaries.c.date == DAY)

        async def diary_done() -> bool:
            return await self.count("scheduling", diaries_q) == k

        async def diary_state() -> str:
            return f"{await self.count('scheduling', diaries_q)}/{k} diaries"

        async def diary_count() -> int:
            return await self.count("scheduling", diaries_q)

        await self.stage("diaries", diary_msgs, diary_done, diary_state, diary_count)
        del diary_msgs, day_shifts

        # the month's billing run
        run = wire(client, [(subjects.RUN_BILLING, RunBilling(month=MONTH, requested_by="bench"))])
        runs_q = sa.select(billing_runs.c.status, billing_runs.c.revision)

        async def billed() -> bool:
            rows = await self.dbs["billing"].store.read(runs_q)
            return bool(rows) and all(r.status in ("completed", "rejected") for r in rows)

        async def billing_state() -> str:
            rows = await self.dbs["billing"].store.read(runs_q)
            return ", ".join(f"{r.status}" for r in rows) or "not requested yet"

        async def billing_count() -> int:
            return await self.count(
                "billing", sa.select(sa.func.count()).select_from(bill_households)
            )

        result = await self.stage(
            "billing run", run, billed, billing_state, billing_count, baseline=False
        )
        rows = await self.dbs["billing"].store.read(runs_q)
        result.detail["status"] = rows[0].status if rows else None
        result.detail["visits_billed"] = k

    async def shifts(self, assigned: int) -> None:
        """GenerateShifts(D), as the evening job sends it: timed until the shifts of D are in
        scheduling's database (generation), and until HC_CARER holds a shift message for each
        (delivery), both from the command's publication."""
        assert self.client
        client = self.client
        command = wire(client, [(subjects.GENERATE_SHIFTS, GenerateShifts(date=DAY))])
        day_q = sa.select(sa.func.count()).where(shifts.c.date == DAY)
        before = (await client.js.stream_info(subjects.CARER_STREAM)).state.messages
        sample = wire(
            client,
            [
                (
                    subjects.carer_shift_subject(f"C{i % self.args.caregivers:06d}"),
                    ShiftScheduled(
                        shift_id=f"{DAY.isoformat()}-A{i:012d}-H{i:06d}",
                        caregiver_id=f"C{i % self.args.caregivers:06d}",
                        household_id=f"H{i:06d}",
                        address=f"五一路H{i:06d}号",
                        date=DAY,
                        visit_window=(dtime(9), dtime(11)),
                    ),
                )
                for i in range(assigned)
            ],
        )
        raw = None
        if not self.args.no_baseline:
            raw = await raw_baseline(client, sample, self.nats.replicas)
        del sample
        log(f"shifts: GenerateShifts({DAY}) for {assigned} assignments ...")
        generated = Stage("shifts generated", raw_seconds=None)
        delivered = Stage("shift messages", raw_seconds=raw, sent=assigned)
        pg_before = await self.usage()
        t = time.perf_counter()
        await publish_all(client, command)

        async def made() -> int:
            return await self.count("scheduling", day_q)

        async def stored() -> int:
            return int((await client.js.stream_info(subjects.CARER_STREAM)).state.messages) - before

        async def gen_done() -> bool:
            if generated.seconds == 0 and await made() == assigned:
                generated.seconds = time.perf_counter() - t
            return await stored() >= assigned

        async def gen_state() -> str:
            return f"{await made()}/{assigned} shifts, {await stored()}/{assigned} messages stored"

        try:
            await self.until("shifts", gen_done, gen_state)
        except BenchError:
            delivered.detail["stopped"] = f"after --timeout {self.args.timeout:g}s"
            raise
        finally:
            delivered.seconds = time.perf_counter() - t
            if generated.seconds == 0:
                generated.seconds = delivered.seconds
            generated.count = await made()
            delivered.count = await stored()
            await self.pg_detail(delivered, pg_before)
            for s in (generated, delivered):
                log(f"{s.name}: {s.count} in {s.seconds:.1f}s ({s.row()['per_second']}/s)")
            self.stages += [generated, delivered]

    async def close(self) -> None:
        if self.maintenance:
            self.maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.maintenance
        if self.client:
            await self.client.close()
        if self.procs:
            await self.procs.stop()
        for svc in self.dbs.values():
            await svc.engine.dispose()
        self.nats.stop()
        if not self.args.keep:
            await self.db.drop()


# -- report ---------------------------------------------------------------------------------


def mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f} MiB"


def print_report(report: dict[str, Any]) -> None:
    print(
        f"City benchmark: {report['households']:,} households, {report['caregivers']:,} "
        f"caregivers; {report['cluster']}; PostgreSQL; day {DAY}, billing {MONTH}"
    )
    for config in report["configurations"]:
        k = config["instances"]
        print(f"\n{k} instance(s) of each service")
        print(
            f"  {'stage':<20} {'count':>9} {'seconds':>9} {'per s':>9} {'sent in':>9}"
            f" {'raw nats':>9} {'ratio':>7}"
        )
        for name, row in config["stages"].items():
            sent = f"{row['sent_seconds']:.1f}" if "sent_seconds" in row else "-"
            raw = f"{row['raw_nats_seconds']:.1f}" if "raw_nats_seconds" in row else "-"
            ratio = f"{row['ratio_to_raw']:.1f}x" if "ratio_to_raw" in row else "-"
            print(
                f"  {name:<20} {row['count']:>9,} {row['seconds']:>9.1f} "
                f"{row['per_second']:>9,.0f} {sent:>9} {raw:>9} {ratio:>7}"
            )
            extra = {
                key: v
                for key, v in row.items()
                if key
                not in (
                    "count",
                    "seconds",
                    "per_second",
                    "sent_seconds",
                    "raw_nats_seconds",
                    "ratio_to_raw",
                )
            }
            if extra:
                print(f"  {'':<20} " + ", ".join(f"{k} {v}" for k, v in extra.items()))
        print("  peak memory (VmHWM) per instance:")
        for name, peaks in config["peak_memory_bytes"].items():
            print(f"    {name:<11} " + ", ".join(mib(p) for p in peaks))
        if "vacuum_analyze_seconds" in config:
            print(
                f"  VACUUM (ANALYZE) every {MAINTENANCE_SECONDS:g}s (autovacuum is off): "
                f"{config['vacuum_analyze_seconds']:.1f}s in all"
            )
        if config.get("error"):
            print(f"  STOPPED: {config['error']}")
    configs = report["configurations"]
    if len(configs) >= 2:
        one, two = configs[0], configs[1]
        a_k, b_k = one["instances"], two["instances"]
        print(
            f"\n{'stage':<20} {f'{a_k} inst. s':>10} {f'{b_k} inst. s':>10} {'ratio':>7}"
            f" {f'{a_k} inst. /s':>11} {f'{b_k} inst. /s':>11} {'CPU ms/item':>13}"
        )
        for name in STAGES:
            a, b = one["stages"].get(name), two["stages"].get(name)
            if a and b:
                ratio = b["seconds"] / a["seconds"] if a["seconds"] else float("nan")
                partial = " (stopped)" if "stopped" in a or "stopped" in b else ""
                cpu = "/".join(
                    f"{row['services_cpu_ms_per_item']:.1f}"
                    for row in (a, b)
                    if "services_cpu_ms_per_item" in row
                )
                print(
                    f"{name:<20} {a['seconds']:>10.1f} {b['seconds']:>10.1f} {ratio:>6.2f}x"
                    f" {a['per_second']:>11,.0f} {b['per_second']:>11,.0f} {cpu:>13}{partial}"
                )
        print(
            f"(ratio: seconds with {b_k} instances / seconds with {a_k}; below 1 is faster. A "
            "stopped stage compares the rates reached by the deadline. CPU ms/item: the "
            "service processes' CPU time per item, each configuration, whatever the load.)"
        )


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    configs = []
    cluster = None
    for k in args.instances:
        root = Path(tempfile.mkdtemp(prefix=f"bench-city-{k}-"))
        city = City(args, k, root)
        cluster = city.nats.describe()
        t = time.perf_counter()
        try:
            configs.append(await city.run())
        except Exception as exc:  # report how far it got, then the next configuration
            log(f"stopped: {exc!r}")
            configs.append({**city.result(), "error": repr(exc)})
        finally:
            configs[-1]["wall_seconds"] = round(time.perf_counter() - t, 1)
            if args.keep:
                log(f"kept {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)
    return {
        "households": args.households,
        "caregivers": args.caregivers,
        "cluster": cluster,
        "day": DAY.isoformat(),
        "month": MONTH,
        "configurations": configs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--caregivers", type=int, default=60_000)
    parser.add_argument(
        "--instances",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 2],
        help="instances of each service, one configuration each (default 1,2)",
    )
    parser.add_argument("--nodes", type=int, default=3, help="NATS cluster size (default 3)")
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server; each configuration gets a fresh database beside this one",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="limit for each stage (s, default 3600)"
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-baseline", action="store_true", help="skip the raw nats-py runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs and databases")
    args = parser.parse_args(argv)
    report = asyncio.run(bench(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 1 if any(c.get("error") for c in report["configurations"]) else 0


if __name__ == "__main__":
    sys.exit(main())
