"""Leave and substitutes: on scheduling's database (SQLite and PostgreSQL), then the whole
loop with dispatch on a real nats-server (a week with leave and a substitute)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from builders import assignment_event, caregiver, one_assignment, until_registered
from conftest import eventually
from pydantic import ValidationError
from scheduling_helpers import apply, emitted

from contracts import subjects
from contracts.dispatch.v1 import SubstituteAssigned
from contracts.scheduling.leave_v1 import DecideLeave, RequestLeave
from contracts.scheduling.v1 import GenerateShifts
from services.client import BusClient
from services.infra.runtime import Service
from services.scheduling import handlers, leave
from services.scheduling.store import shifts
from services.system import System

MON = date(2026, 11, 2)


def day(n: int) -> date:
    return MON + timedelta(days=n)


@pytest.fixture
async def scheduling(scheduling_db: Service) -> Service:
    svc = scheduling_db
    async with svc.store.transaction() as tx:
        await handlers.record_assignment(tx, assignment_event("H1", "C1"))
        await handlers.generate_shifts(tx, GenerateShifts(date=day(0)))
    return svc


async def visits_by(svc: Service) -> list[tuple[str, str]]:
    rows = await svc.store.read(
        sa.select(shifts.c.date, shifts.c.caregiver_id).order_by(shifts.c.date)
    )
    return [(r.date.isoformat(), r.caregiver_id) for r in rows]


async def test_approved_leave_cancels_asks_for_a_substitute_and_resumes(
    scheduling: Service,
) -> None:
    await apply(
        scheduling,
        leave.request_leave,
        RequestLeave(leave_id="LV1", caregiver_id="C1", first_day=day(0), last_day=day(1)),
    )
    assert [r["households"] for r in await emitted(scheduling, subjects.LEAVE_REQUESTED)] == [1]
    await apply(
        scheduling, leave.decide_leave, DecideLeave(leave_id="LV1", approve=True, decided_by="站长")
    )
    cancelled = await emitted(scheduling, subjects.carer_cancel_subject("C1"))
    assert [(c["date"], c["reason"]) for c in cancelled] == [("2026-11-02", "leave")]
    asked = await emitted(scheduling, subjects.REQUEST_SUBSTITUTE)
    assert [
        (a["household_id"], a["caregiver_id"], a["first_day"], a["last_day"]) for a in asked
    ] == [("H1", "C1", "2026-11-02", "2026-11-03")]
    assert asked[0]["substitute_request_id"] == leave.substitute_request_id("LV1", "H1")
    # day 1 is generated before dispatch answers: uncovered for now
    await apply(scheduling, handlers.generate_shifts, GenerateShifts(date=day(1)))
    generated = await emitted(scheduling, subjects.SHIFTS_GENERATED)
    assert (generated[-1]["created"], generated[-1]["uncovered"]) == (0, 1)
    await apply(
        scheduling,
        leave.record_substitute,
        SubstituteAssigned(
            substitute_request_id=asked[0]["substitute_request_id"],
            household_id="H1",
            caregiver_id="C2",
            replaces="C1",
            first_day=day(0),
            last_day=day(1),
            served_before=False,
        ),
    )
    for n in (2, 3):
        await apply(scheduling, handlers.generate_shifts, GenerateShifts(date=day(n)))
    assert await visits_by(scheduling) == [
        ("2026-11-02", "C2"),
        ("2026-11-03", "C2"),
        ("2026-11-04", "C1"),  # back from leave
        ("2026-11-05", "C1"),
    ]
    told = await emitted(scheduling, subjects.carer_shift_subject("C2"))
    assert [t["date"] for t in told] == ["2026-11-02", "2026-11-03"]


async def test_the_stations_chosen_substitutes_go_to_dispatch(scheduling: Service) -> None:
    """C1 serves H1 and H2; the station names C7 for H1 (and C8 for H9, not C1's): dispatch
    is asked to prefer C7 for H1 and chooses alone for H2."""
    async with scheduling.store.transaction() as tx:
        await handlers.record_assignment(tx, assignment_event("H2", "C1"))
    await apply(
        scheduling,
        leave.request_leave,
        RequestLeave(leave_id="LV1", caregiver_id="C1", first_day=day(1), last_day=day(2)),
    )
    with pytest.raises(ValidationError, match="substitutes are chosen only when approving"):
        DecideLeave(
            leave_id="LV1",
            approve=False,
            decided_by="站长",
            reason="人手不足",
            substitutes={"H1": "C7"},
        )
    await apply(
        scheduling,
        leave.decide_leave,
        DecideLeave(
            leave_id="LV1", approve=True, decided_by="站长", substitutes={"H1": "C7", "H9": "C8"}
        ),
    )
    asked = await emitted(scheduling, subjects.REQUEST_SUBSTITUTE)
    assert [(a["household_id"], a["preferred_caregiver_id"]) for a in asked] == [
        ("H1", "C7"),
        ("H2", None),
    ]
    decided = await emitted(scheduling, subjects.LEAVE_DECIDED)
    assert [(d["approved"], d["substitutes_requested"]) for d in decided] == [(True, 2)]


@pytest.mark.parametrize(
    ("decisions", "reason"),
    [
        ([DecideLeave(leave_id="LV9", approve=True, decided_by="站长")], "unknown leave"),
        (
            [DecideLeave(leave_id="LV1", approve=False, decided_by="站长")],
            "a refusal needs a reason",
        ),
        (
            [
                DecideLeave(leave_id="LV1", approve=False, decided_by="站长", reason="人手不足"),
                DecideLeave(leave_id="LV1", approve=True, decided_by="站长"),
            ],
            "leave is refused already",
        ),
    ],
)
async def test_a_leave_decision_that_cannot_apply_says_why(
    scheduling: Service, decisions: list[DecideLeave], reason: str
) -> None:
    await apply(
        scheduling,
        leave.request_leave,
        RequestLeave(leave_id="LV1", caregiver_id="C1", first_day=day(0), last_day=day(0)),
    )
    await apply(scheduling, leave.decide_leave, *decisions)
    assert [r["reason"] for r in await emitted(scheduling, subjects.LEAVE_REJECTED)] == [reason]
    assert await emitted(scheduling, subjects.REQUEST_SUBSTITUTE) == []
    assert await visits_by(scheduling) == [("2026-11-02", "C1")]  # nothing cancelled


async def test_a_week_with_leave_and_a_substitute_over_the_bus(
    system: System, client: BusClient
) -> None:
    """C1 serves H1; C1 takes Tuesday and Wednesday off; dispatch finds C2 (same street);
    C2 visits those days, C1 the rest of the week."""
    watcher = await one_assignment(client)
    await client.send(subjects.REGISTER_CAREGIVER, caregiver("C2"))  # the colleague
    await until_registered(watcher, caregivers=2, households=1)
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=day(0)))
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=day(1)))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.ShiftsGenerated"] == 2, "Mon and Tue", timeout=20
    )
    await client.send(
        subjects.REQUEST_LEAVE,
        RequestLeave(leave_id="LV1", caregiver_id="C1", first_day=day(1), last_day=day(2)),
    )
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.LeaveRequested"] == 1, "the request", timeout=20
    )
    await client.send(
        subjects.DECIDE_LEAVE, DecideLeave(leave_id="LV1", approve=True, decided_by="站长")
    )
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.SubstituteAssigned"] == 1, "a substitute", timeout=20
    )
    assert watcher.payloads["dispatch.SubstituteAssigned"][0]["caregiver_id"] == "C2"
    for n in range(2, 7):
        await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=day(n)))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.ShiftsGenerated"] == 7, "the week", timeout=30
    )

    expected = [
        ("2026-11-02", "C1"),
        ("2026-11-03", "C2"),
        ("2026-11-04", "C2"),
        ("2026-11-05", "C1"),
        ("2026-11-06", "C1"),
        ("2026-11-07", "C1"),
        ("2026-11-08", "C1"),
    ]

    async def the_week_is_covered() -> bool:  # the substitute's answer races the commands
        return await visits_by(system["scheduling"]) == expected

    await eventually(the_week_is_covered, "the week's visits")
    cancelled = watcher.payloads["scheduling.ShiftCancelled"]
    assert [(c["caregiver_id"], c["date"]) for c in cancelled] == [("C1", "2026-11-03")]
