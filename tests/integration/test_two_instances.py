"""Two instances of every service on one nats-server and one database share the work (the
durable pull consumers are shared) and nothing is applied twice: every household registered
once in dispatch and in billing, every request answered by one assignment, every shift made
once, every completed visit counted once. Both instances of each consumer do some of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from builders import caregiver, household, request, visit
from conftest import eventually

from contracts import subjects
from contracts.scheduling.v1 import GenerateShifts
from services.billing.store import categories, visits
from services.client import BusClient
from services.dispatch.store import assignments, households
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling.store import shifts
from services.system import System

pytestmark = pytest.mark.integration

HOUSEHOLDS = 90
ASSIGNED = 40  # households that ask for a carer (one caregiver each)
DAY = date(2026, 11, 2)


def count_work(system: System, tally: Counter[str], tag: str) -> None:
    """Count the messages each instance's services apply (their inbox's once-only step)."""
    for svc in system.services:
        process_once = svc.store.process_once

        async def counted(*args: Any, _svc: Service = svc, _run: Any = process_once) -> Any:
            tally[f"{tag}:{_svc.name}"] += 1
            return await _run(*args)

        svc.store.process_once = counted  # type: ignore[method-assign,assignment]


async def rows(system: System, service: str, table: sa.Table) -> int:
    found = await system[service].store.read(sa.select(sa.func.count()).select_from(table))
    return int(found[0][0])


async def test_two_instances_of_each_service_share_the_work_and_apply_it_once(
    settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    first, second = System(settings, clock), System(settings, clock)
    tally: Counter[str] = Counter()
    count_work(first, tally, "first")
    count_work(second, tally, "second")
    await first.start()
    await second.start()
    try:
        await client.send_many(
            [(subjects.REGISTER_CAREGIVER, caregiver(f"C{i:03d}")) for i in range(ASSIGNED)]
            + [(subjects.REGISTER_HOUSEHOLD, household(f"H{i:03d}")) for i in range(HOUSEHOLDS)]
        )

        async def registered() -> bool:
            return (
                await rows(first, "dispatch", households) == HOUSEHOLDS
                and await rows(first, "billing", categories) == HOUSEHOLDS
            )

        await eventually(registered, "every household in dispatch and billing", timeout=60)
        await client.send_many(
            [(subjects.REQUEST_CARE, request(f"H{i:03d}")) for i in range(ASSIGNED)]
        )

        async def assigned() -> bool:
            return await rows(
                first, "dispatch", assignments
            ) == ASSIGNED and await client.caught_up(
                subjects.DISPATCH_STREAM, "scheduling_on_caregiver_assigned"
            )

        await eventually(assigned, "one assignment per request", timeout=60)
        clock.set(clock.now().replace(day=DAY.day, hour=7))
        await client.send_many(
            [(subjects.GENERATE_SHIFTS, GenerateShifts(date=DAY)) for _ in range(3)]
        )
        await eventually(
            _equals(first, "scheduling", shifts, ASSIGNED), "one shift per household", timeout=60
        )
        made = await first["scheduling"].store.read(
            sa.select(shifts.c.shift_id, shifts.c.caregiver_id)
        )
        await client.send_many(
            [(subjects.COMPLETE_VISIT, visit(s.shift_id, s.caregiver_id, DAY)) for s in made]
            * 2  # a phone that sends every visit twice (new event ids)
        )
        await eventually(
            _equals(first, "billing", visits, ASSIGNED), "each visit billed", timeout=60
        )
        for service in ("dispatch", "scheduling", "billing"):  # `homecare status` sees both
            assert len(await client.health_of_instances(service)) == 2, service
    finally:
        await second.stop()
        await first.stop()
    # exactly once, whatever the split
    for check in (
        (households, "dispatch", HOUSEHOLDS),
        (categories, "billing", HOUSEHOLDS),
        (assignments, "dispatch", ASSIGNED),
        (shifts, "scheduling", ASSIGNED),
        (visits, "billing", ASSIGNED),
    ):
        table, service, expected = check
        assert await _rows_after(settings, clock, service, table) == expected, check
    # and shared: each service's work went to both instances
    for service in ("dispatch", "scheduling", "billing"):
        assert tally[f"first:{service}"] > 0 and tally[f"second:{service}"] > 0, tally


def _equals(
    system: System, service: str, table: sa.Table, expected: int
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await rows(system, service, table) == expected

    return check


async def _rows_after(
    settings: Settings, clock: SimulatedClock, service: str, table: sa.Table
) -> int:
    from services.system import BUILDERS

    svc = BUILDERS[service](settings, clock)
    try:
        found = await svc.store.read(sa.select(sa.func.count()).select_from(table))
        return int(found[0][0])
    finally:
        await svc.engine.dispose()
