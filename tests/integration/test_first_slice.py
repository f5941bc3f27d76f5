"""The first end-to-end slice on a real nats-server, on SQLite and PostgreSQL: a care request
reaches dispatch, a caregiver is assigned, scheduling makes the shift and sends it on the
caregiver's own subject, the visit is recorded and billing counts the served day."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from builders import caregiver, household, one_assignment, request, until_registered, visit
from conftest import eventually
from nats.js.api import DeliverPolicy

from contracts import subjects
from contracts.billing.v1 import MonthSummary, MonthSummaryQuery
from contracts.envelope import Envelope
from contracts.scheduling.v1 import GenerateShifts, ShiftScheduled
from services.client import BusClient
from services.demo.watch import BusWatcher
from services.dispatch.store import assignments, care_requests
from services.system import System

DAY = date(2026, 11, 2)


async def test_request_to_served_day(system: System, client: BusClient) -> None:
    watcher = BusWatcher(client.nc)
    await watcher.start()
    await client.send_many(
        [
            (subjects.REGISTER_CAREGIVER, caregiver("C1")),
            (subjects.REGISTER_CAREGIVER, caregiver("C2", street="其他街道")),
            (subjects.REGISTER_HOUSEHOLD, household("H1")),
            (subjects.REGISTER_HOUSEHOLD, household("H2", category="A")),
        ]
    )
    await until_registered(watcher, caregivers=2, households=2)
    await client.send(subjects.REQUEST_CARE, request("H1"))
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.CaregiverAssigned"] == 1, "assignment", timeout=20
    )
    # C1 is full now and C2 works in another street: H2's request is unmet, with the reason.
    await client.send(subjects.REQUEST_CARE, request("H2"))
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.CareRequestUnmet"] == 1, "unmet answer", timeout=20
    )
    assert "capacity" in watcher.payloads["dispatch.CareRequestUnmet"][0]["reason"]
    rows = await system["dispatch"].store.read(sa.select(assignments.c.caregiver_id))
    assert [r.caregiver_id for r in rows] == ["C1"]

    # The caregiver's phone subscribes to its own subject only.
    phone = await client.js.subscribe(
        subjects.carer_shift_subject("C1"), deliver_policy=DeliverPolicy.ALL
    )
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=DAY))
    msg = await phone.next_msg(timeout=20)
    shift = Envelope[ShiftScheduled].model_validate_json(msg.data).payload
    await msg.ack()
    assert (shift.household_id, shift.date, shift.caregiver_id) == ("H1", DAY, "C1")
    assert msg.headers and msg.headers["Homecare-Correlation-Id"]

    await client.send(subjects.COMPLETE_VISIT, visit(shift.shift_id, "C1", DAY))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.VisitCompleted"] == 1, "visit", timeout=20
    )

    async def billed() -> bool:
        got = await client.ask(
            subjects.RPC_MONTH_SUMMARY, MonthSummaryQuery(month="2026-11"), MonthSummary
        )
        return got.served_days == 1

    await eventually(billed, "billing to count the served day")
    summary = await client.ask(
        subjects.RPC_MONTH_SUMMARY, MonthSummaryQuery(month="2026-11"), MonthSummary
    )
    assert summary.households_served == 1
    assert summary.served_days_by_category == {"B": 1}
    assert summary.visits == 1
    statuses = await system["dispatch"].store.read(
        sa.select(care_requests.c.request_id, care_requests.c.status).order_by("request_id")
    )
    assert [tuple(r) for r in statuses] == [("R-H1", "assigned"), ("R-H2", "unmet")]
    await watcher.stop()


async def test_second_check_in_for_same_shift_is_rejected(
    system: System, client: BusClient
) -> None:
    watcher = await one_assignment(client)
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=DAY))
    await watcher.wait_until(lambda: watcher.by_type["scheduling.ShiftScheduled"] == 1, "shift")
    shift_id = "SH-H1-20261102"
    await client.send(subjects.COMPLETE_VISIT, visit(shift_id, "C1", DAY))
    await client.send(subjects.COMPLETE_VISIT, visit(shift_id, "C1", DAY))
    await client.send(subjects.COMPLETE_VISIT, visit(shift_id, "C9", DAY))
    await watcher.wait_until(lambda: watcher.by_type["scheduling.VisitRejected"] == 2, "rejects")
    reasons = sorted(p["reason"] for p in watcher.payloads["scheduling.VisitRejected"])
    assert reasons == ["shift belongs to caregiver C1", "visit already recorded"]
    assert watcher.by_type["scheduling.VisitCompleted"] == 1
    await watcher.stop()


async def test_concurrent_requests_never_exceed_capacity(system: System, client: BusClient) -> None:
    """Requests are handled concurrently; caregivers' loads are read then written, so they
    are taken one at a time per street."""
    watcher = BusWatcher(client.nc)
    await watcher.start()
    await client.send_many(
        [
            (subjects.REGISTER_CAREGIVER, caregiver("C1", capacity=2)),
            (subjects.REGISTER_CAREGIVER, caregiver("C2", capacity=1)),
        ]
        + [(subjects.REGISTER_HOUSEHOLD, household(f"H{i}")) for i in range(12)]
    )
    await until_registered(watcher, caregivers=2, households=12)
    await client.send_many([(subjects.REQUEST_CARE, request(f"H{i}")) for i in range(12)])
    await watcher.wait_until(
        lambda: (
            watcher.by_type["dispatch.CaregiverAssigned"]
            + watcher.by_type["dispatch.CareRequestUnmet"]
            == 12
        ),
        "answers",
    )
    rows = await system["dispatch"].store.read(sa.select(assignments.c.caregiver_id))
    assert sorted(r.caregiver_id for r in rows) == ["C1", "C1", "C2"]
    assert watcher.by_type["dispatch.CareRequestUnmet"] == 9
    await watcher.stop()
