"""Shift messages: the morning reminder, the phone's acknowledgement, and a phone that was
offline receiving every message it missed, once (real nats-server, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from builders import assignment_event, one_assignment
from conftest import SHANGHAI

from contracts import subjects
from contracts.scheduling.v1 import AcknowledgeShift, GenerateShifts, PauseVisits
from services.carer import CarerInbox
from services.client import BusClient
from services.infra.runtime import Service
from services.scheduling import handlers
from services.scheduling.store import shifts
from services.system import System

DAY = date(2026, 11, 2)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


@pytest.fixture
async def scheduling(scheduling_db: Service) -> Service:
    svc = scheduling_db
    async with svc.store.transaction() as tx:
        await handlers.record_assignment(tx, assignment_event("H1", "C1"))
        await handlers.record_assignment(tx, assignment_event("H2", "C2", (time(14), time(16))))
        await handlers.generate_shifts(tx, GenerateShifts(date=DAY))
    return svc


async def outbox(svc: Service) -> list[tuple[str, dict[str, Any]]]:
    out = svc.store.tables.outbox
    rows = await svc.store.read(sa.select(out.c.subject, out.c.body).order_by(out.c.id))
    return [(r.subject, json.loads(r.body)["payload"]) for r in rows]


async def test_morning_reminders_go_to_each_caregiver_for_todays_unvisited_shifts(
    scheduling: Service,
) -> None:
    async with scheduling.store.transaction() as tx:
        await handlers.morning_reminders(tx, at(DAY, 7))
        await handlers.morning_reminders(tx, at(DAY - timedelta(days=1), 7))  # no shifts then
    reminders = [(s, p) for s, p in await outbox(scheduling) if ".reminder." in s]
    assert [(s, p["shift_id"], p["address"]) for s, p in reminders] == [
        (subjects.carer_reminder_subject("C1"), "SH-H1-20261102", "五一路1号"),
        (subjects.carer_reminder_subject("C2"), "SH-H2-20261102", "五一路1号"),
    ]


async def test_the_first_acknowledgement_counts_and_a_strangers_is_refused(
    scheduling: Service,
) -> None:
    for caregiver_id, hour in (("C1", 19), ("C1", 20), ("C2", 21)):
        async with scheduling.store.transaction() as tx:
            await handlers.acknowledge_shift(
                tx,
                AcknowledgeShift(
                    shift_id="SH-H1-20261102", caregiver_id=caregiver_id, at=at(DAY, hour)
                ),
            )
    events = await outbox(scheduling)
    acks = [p for s, p in events if s == subjects.SHIFT_ACKNOWLEDGED]
    assert [(a["caregiver_id"], datetime.fromisoformat(a["at"])) for a in acks] == [
        ("C1", at(DAY, 19))
    ]
    refused = [p["reason"] for s, p in events if s == subjects.VISIT_REJECTED]
    assert refused == ["shift belongs to caregiver C1"]
    stored = await scheduling.store.read(
        sa.select(shifts.c.acknowledged_at).where(shifts.c.shift_id == "SH-H1-20261102")
    )
    assert stored[0].acknowledged_at is not None


async def test_a_phone_offline_for_a_day_gets_every_missed_message_once(
    system: System, client: BusClient
) -> None:
    watcher = await one_assignment(client)
    phone = await CarerInbox(client, "C1").open()  # the phone is set up, then switched off
    for day in (DAY, DAY + timedelta(days=1)):
        await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=day))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.ShiftsGenerated"] == 2, "two days", timeout=20
    )
    await client.send(
        subjects.PAUSE_VISITS,
        PauseVisits(
            household_id="H1",
            first_day=DAY + timedelta(days=1),
            last_day=DAY + timedelta(days=1),
            reason="hospital",
        ),
    )
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.VisitsPaused"] == 1, "the pause", timeout=20
    )
    # back online: everything sent meanwhile, in order, once
    got = await phone.receive()
    assert [(m.type, m.payload["date"]) for m in got] == [
        ("scheduling.ShiftScheduled", "2026-11-02"),
        ("scheduling.ShiftScheduled", "2026-11-03"),
        ("scheduling.ShiftCancelled", "2026-11-03"),
    ]
    assert all(m.subject.startswith("homecare.carer.C1.") for m in got)
    assert await phone.receive(wait=0.5) == []
    await phone.close()
    # a second phone session (the same durable consumer) finds nothing new either
    async with CarerInbox(client, "C1") as again:
        assert await again.receive(wait=0.5) == []
    # the 3rd's shift was cancelled before the phone saw it: that confirmation is refused
    await watcher.wait_until(
        lambda: (
            watcher.by_type["scheduling.ShiftAcknowledged"] == 1
            and watcher.by_type["scheduling.VisitRejected"] == 1
        ),
        "the confirmations",
        timeout=20,
    )
    assert watcher.payloads["scheduling.ShiftAcknowledged"][0]["shift_id"] == "SH-H1-20261102"
    assert watcher.payloads["scheduling.VisitRejected"][0]["reason"] == "unknown shift"
