"""Run the demo: a real nats-server, the three real services, a month on simulated time."""

from __future__ import annotations

import asyncio
import shutil
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from contracts import subjects
from contracts.billing.v1 import MonthSummary, MonthSummaryQuery
from contracts.dispatch.v1 import RegisterHousehold
from contracts.scheduling.v1 import GenerateShifts
from services.billing.model import month_bounds
from services.client import BusClient, until
from services.demo import stories
from services.demo.phones import Phones
from services.demo.seed import STREET, build_street
from services.demo.watch import BusWatcher
from services.infra.clock import SimulatedClock
from services.infra.nats_server import NatsServer
from services.infra.settings import Settings
from services.system import System

Progress = Callable[[str, int, int], None]


@dataclass
class DemoSummary:
    street: str
    month: str
    output_dir: str
    caregivers: int = 0
    households: int = 0
    care_requests: int = 0
    assignments: int = 0
    unmet: list[dict[str, Any]] = field(default_factory=list)
    shifts: int = 0
    shift_messages_received: int = 0
    visits_sent: int = 0
    visits_completed: int = 0
    visits_missed: int = 0
    visits_rejected: int = 0
    billing: dict[str, Any] = field(default_factory=dict)
    eligibility: dict[str, Any] = field(default_factory=dict)
    shortlist: dict[str, Any] = field(default_factory=dict)
    batch: dict[str, Any] = field(default_factory=dict)
    replacement: dict[str, Any] = field(default_factory=dict)
    substitute: dict[str, Any] = field(default_factory=dict)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


async def run_demo(
    base: Settings,
    output_dir: Path,
    month: str = "2026-11",
    households: int = 120,
    caregivers: int = 80,
    progress: Progress | None = None,
) -> DemoSummary:
    started = wallclock.monotonic()
    first, last = month_bounds(month)
    _fresh_dir(output_dir)
    summary = DemoSummary(street=STREET, month=month, output_dir=str(output_dir))
    report = progress or (lambda *_: None)
    with NatsServer(output_dir / "nats") as server:
        # The demo keeps to its own folder: its own server and SQLite files, whatever
        # database the environment names, so every run starts from nothing.
        isolated = {
            f"{name}database_url": None for name in ("", "dispatch_", "scheduling_", "billing_")
        }
        settings = base.model_copy(
            update={"nats_url": server.url, "var_dir": output_dir, **isolated}
        )
        clock = SimulatedClock(datetime.combine(first - timedelta(days=1), time(8), base.tz))
        system = System(settings, clock)
        await system.start()
        client = await BusClient.connect(server.url, producer="demo")
        watcher = BusWatcher(client.nc)
        await watcher.start()
        phones = Phones(client.js, base.tz)
        await phones.start()
        try:
            await _enrol(client, watcher, summary, first, households, caregivers, report)
            await _month(client, watcher, phones, clock, summary, first, last, report)
            summary.billing = (await _billing(client, month, summary.visits_completed)).model_dump()
            await _poison(client, watcher, summary)
            summary.services = [
                (await client.health(s.name)).model_dump(mode="json") for s in system.services
            ]
        finally:
            await phones.stop()
            await watcher.stop()
            await client.close()
            await system.stop()
    summary.seconds = round(wallclock.monotonic() - started, 1)
    return summary


def _fresh_dir(path: Path) -> None:
    """Each demo starts from nothing, so its figures are the same every run."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


async def _enrol(
    client: BusClient,
    watcher: BusWatcher,
    summary: DemoSummary,
    first: date,
    households: int,
    caregivers: int,
    report: Progress,
) -> list[RegisterHousehold]:
    street = build_street(first, households, caregivers)
    homes = street.households
    report("registering caregivers and households", 0, 4)
    await client.send_many([(subjects.REGISTER_CAREGIVER, c) for c in street.caregivers])
    await client.send_many([(subjects.REGISTER_HOUSEHOLD, h) for h in homes])
    summary.caregivers, summary.households = len(street.caregivers), len(homes)
    await watcher.wait_until(
        lambda: (
            watcher.by_type["dispatch.HouseholdRegistered"] >= households
            and watcher.by_type["dispatch.CaregiverRegistered"] >= caregivers
        ),
        "the registry to be loaded",
    )
    report("assessing applications", 1, 4)
    summary.eligibility = await stories.assess_and_approve(
        client, watcher, homes[: max(1, len(homes) // 10)], first
    )
    report("shortlist for one request", 2, 4)
    summary.shortlist = await stories.shortlist_and_confirm(
        client, watcher, homes[0], max(homes[0].enrolled_on, first)
    )
    report("batch assignment of the street", 3, 4)
    summary.batch = await stories.batch_assign(client, watcher, homes[1:], first)
    summary.care_requests = len(homes)
    await watcher.wait_until(
        lambda: (
            watcher.by_type["dispatch.CaregiverAssigned"]
            + watcher.by_type["dispatch.CareRequestUnmet"]
            >= len(homes)
        ),
        "every care request to be answered",
    )
    summary.assignments = watcher.by_type["dispatch.CaregiverAssigned"]
    # Scheduling learns of assignments from the same events; let it catch up before day one.
    await until(
        lambda: client.caught_up(subjects.DISPATCH_STREAM, "scheduling_on_caregiver_assigned"),
        "scheduling to record every assignment",
    )
    summary.unmet = list(watcher.payloads["dispatch.CareRequestUnmet"])  # at enrolment
    return homes


REPLACEMENT_DAY, SUBSTITUTE_DAY = 9, 14  # the 10th and the 15th of the month


async def _month(
    client: BusClient,
    watcher: BusWatcher,
    phones: Phones,
    clock: SimulatedClock,
    summary: DemoSummary,
    first: date,
    last: date,
    report: Progress,
) -> None:
    days = (last - first).days + 1
    serving = {
        a["household_id"]: a["caregiver_id"] for a in watcher.payloads["dispatch.CaregiverAssigned"]
    }
    served = sorted(serving)
    for n in range(days):
        day = first + timedelta(days=n)
        report(f"simulating {day}", n, days)
        if n == REPLACEMENT_DAY and len(served) > 1:
            summary.replacement = await stories.replace_one(
                client, watcher, served[1], serving[served[1]], day
            )
            await _scheduling_caught_up(client)
        if n == SUBSTITUTE_DAY and len(served) > 2:
            summary.substitute = await stories.substitute_one(
                client, watcher, served[2], serving[served[2]], day, 3
            )
        await _simulate_day(client, watcher, phones, clock, summary, day)
    report("month simulated", days, days)
    summary.shifts = watcher.by_type["scheduling.ShiftScheduled"]
    summary.shift_messages_received = sum(len(v) for v in phones.received.values())
    summary.visits_completed = watcher.by_type["scheduling.VisitCompleted"]
    summary.visits_rejected = watcher.by_type["scheduling.VisitRejected"]


async def _scheduling_caught_up(client: BusClient) -> None:
    """Scheduling has applied every assignment change dispatch announced."""
    for consumer in ("scheduling_on_assignment_ended", "scheduling_on_caregiver_assigned"):

        async def applied(name: str = consumer) -> bool:
            return await client.caught_up(subjects.DISPATCH_STREAM, name)

        await until(applied, f"{consumer} to catch up")


async def _simulate_day(
    client: BusClient,
    watcher: BusWatcher,
    phones: Phones,
    clock: SimulatedClock,
    summary: DemoSummary,
    day: date,
) -> None:
    """The evening before: shifts generated and sent; the day: caregivers check in and out."""
    clock.set(datetime.combine(day - timedelta(days=1), time(20), clock.tz))
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=day))
    generated = watcher.payloads["scheduling.ShiftsGenerated"]
    await watcher.wait_until(
        lambda: any(p["date"] == day.isoformat() for p in generated), f"the shifts of {day}"
    )
    created = next(p["created"] for p in generated if p["date"] == day.isoformat())
    await watcher.wait_until(
        lambda: len(phones.received[day]) >= created, f"phones to receive the shifts of {day}"
    )
    clock.set(datetime.combine(day, time(18), clock.tz))
    visits, missed = phones.visits_for(day)
    await client.send_many([(subjects.COMPLETE_VISIT, v) for v in visits])
    summary.visits_sent += len(visits)
    summary.visits_missed += missed
    answered = ("scheduling.VisitCompleted", "scheduling.VisitRejected")
    await watcher.wait_until(
        lambda: sum(watcher.by_type[t] for t in answered) >= summary.visits_sent,
        f"the visits of {day}",
    )


async def _billing(
    client: BusClient, month: str, visits: int, timeout: float = 60.0
) -> MonthSummary:
    """Billing counts asynchronously: ask until it has seen every completed visit."""
    deadline = wallclock.monotonic() + timeout
    while True:
        counted = await client.ask(
            subjects.RPC_MONTH_SUMMARY, MonthSummaryQuery(month=month), MonthSummary
        )
        if counted.visits + counted.unenrolled_visits >= visits:
            return counted
        if wallclock.monotonic() > deadline:
            raise TimeoutError(f"billing counted {counted.visits} of {visits} visits")
        await asyncio.sleep(0.2)


async def _poison(client: BusClient, watcher: BusWatcher, summary: DemoSummary) -> None:
    """One deliberately malformed command, to show it is dead-lettered with its reason."""
    await client.js.publish(
        subjects.REQUEST_CARE,
        b'{"payload": {"household_id": 42}}',
        headers={"Nats-Msg-Id": "demo-malformed-1"},
    )
    await watcher.wait_until(
        lambda: watcher.by_type["system.DeadLettered"] >= 1,
        "the malformed command to be dead-lettered",
    )
    summary.dead_letters = watcher.payloads["system.DeadLettered"]
