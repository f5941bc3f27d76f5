"""Scheduling's read queries for the station's console (a carer's day, leave, diaries and
ledgers, appraisal inputs): on scheduling's own database (SQLite and PostgreSQL), and asked
over a real nats-server."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from builders import assignment_event, one_assignment
from conftest import SHANGHAI, eventually
from pydantic import ValidationError
from scheduling_helpers import apply

from contracts import subjects
from contracts.dispatch.v1 import CaregiverAssigned, SubstituteAssigned
from contracts.scheduling.appraisal_v1 import AppraiseMonth, RecordComplaint, RecordSatisfaction
from contracts.scheduling.diary_v1 import RecordDiary, RecordLedgerEntry
from contracts.scheduling.leave_v1 import DecideLeave, RequestLeave
from contracts.scheduling.queries_v1 import (
    AppraisalsList,
    AppraisalsQuery,
    DiariesList,
    DiariesQuery,
    LeaveList,
    LeaveQuery,
)
from contracts.scheduling.v1 import (
    CheckIn,
    CheckOut,
    CompleteVisit,
    GenerateShifts,
    PauseVisits,
    ShiftsOfDay,
    ShiftsQuery,
)
from services.client import BusClient
from services.infra.runtime import Service
from services.scheduling import appraising, diaries, handlers, leave, queries
from services.system import System

MON = date(2026, 11, 2)
GRACE = timedelta(minutes=30)


def day(n: int) -> date:
    return MON + timedelta(days=n)


def at(on: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(on, time(hour, minute), tzinfo=SHANGHAI)


def assigned(household_id: str, caregiver_id: str, station_id: str = "S1") -> CaregiverAssigned:
    return assignment_event(household_id, caregiver_id).model_copy(
        update={"station_id": station_id, "address": f"五一路{household_id}号"}
    )


def diary(household_id: str, on: date, appetite: str = "good", *signs: str) -> RecordDiary:
    return RecordDiary(
        household_id=household_id,
        caregiver_id="C1" if household_id != "H3" else "C3",
        date=on,
        tasks=("做饭", "打扫"),
        appetite=appetite,
        mood="calm",
        health_signs=signs,
        notes=f"{on:%m-%d} 记录",
    )


def entry(entry_id: str, household_id: str, on: date, kind: str, amount: str) -> RecordLedgerEntry:
    return RecordLedgerEntry(
        entry_id=entry_id,
        household_id=household_id,
        caregiver_id="C1" if household_id != "H3" else "C3",
        date=on,
        kind=kind,
        amount=Decimal(amount),
        description="蔬菜" if kind == "purchase" else "家属给的买菜钱",
    )


@pytest.fixture
async def scheduling(scheduling_db: Service) -> Service:
    """Station S1: C1 serves H1 and H2, C2 serves H4; station S2: C3 serves H3. All
    09:00-11:00 from Nov 1; shifts made for MON."""
    svc = scheduling_db
    await apply(
        svc,
        handlers.record_assignment,
        assigned("H1", "C1"),
        assigned("H2", "C1"),
        assigned("H4", "C2"),
        assigned("H3", "C3", station_id="S2"),
    )
    await apply(svc, handlers.generate_shifts, GenerateShifts(date=MON))
    return svc


# -- shifts --------------------------------------------------------------------------------


async def test_a_carers_day_has_its_own_shifts_with_check_in_and_out(
    scheduling: Service,
) -> None:
    await apply(
        scheduling,
        handlers.check_in,
        CheckIn(shift_id="SH-H1-20261102", caregiver_id="C1", at=at(MON, 9, 5)),
    )
    await apply(
        scheduling,
        handlers.check_out,
        CheckOut(shift_id="SH-H1-20261102", caregiver_id="C1", at=at(MON, 10, 40)),
    )
    await apply(
        scheduling,
        handlers.check_in,
        CheckIn(shift_id="SH-H2-20261102", caregiver_id="C1", at=at(MON, 9, 50)),
    )
    mine = await queries.shifts_of_day(
        scheduling.store, ShiftsQuery(date=MON, caregiver_id="C1"), GRACE
    )
    assert [(s.household_id, s.status, s.address) for s in mine.shifts] == [
        ("H1", "done", "五一路H1号"),
        ("H2", "checked_in", "五一路H2号"),
    ]
    done, started = mine.shifts
    assert (done.checked_in_at, done.checked_out_at) == (at(MON, 9, 5), at(MON, 10, 40))
    assert (started.checked_in_at, started.checked_out_at) == (at(MON, 9, 50), None)
    assert done.household_name is None  # scheduling keeps no household names
    # without the caregiver: the whole board, as before
    board = await queries.shifts_of_day(scheduling.store, ShiftsQuery(date=MON), GRACE)
    assert [s.household_id for s in board.shifts] == ["H1", "H2", "H4", "H3"]
    assert board.shifts[2].checked_in_at is None and board.shifts[2].status == "scheduled"
    s2 = await queries.shifts_of_day(
        scheduling.store, ShiftsQuery(date=MON, station_id="S2", caregiver_id="C1"), GRACE
    )
    assert s2.shifts == []


# -- leave ---------------------------------------------------------------------------------


async def test_leave_requests_with_status_affected_visits_and_substitutes(
    scheduling: Service,
) -> None:
    """C1 (H1, H2) is away days 1-3, approved; H2 is in hospital on day 2; dispatch found
    C2 for H1. C3 (S2) asks for day 4, pending; C1's later request is refused."""
    await apply(
        scheduling,
        handlers.pause_visits,
        PauseVisits(household_id="H2", first_day=day(2), last_day=day(2), reason="hospital"),
    )
    await apply(
        scheduling,
        leave.request_leave,
        RequestLeave(
            leave_id="LV1", caregiver_id="C1", first_day=day(1), last_day=day(3), reason="回老家"
        ),
        RequestLeave(leave_id="LV2", caregiver_id="C3", first_day=day(4), last_day=day(4)),
        RequestLeave(leave_id="LV3", caregiver_id="C1", first_day=day(10), last_day=day(11)),
    )
    await apply(
        scheduling,
        leave.decide_leave,
        DecideLeave(leave_id="LV1", approve=True, decided_by="站长"),
        DecideLeave(leave_id="LV3", approve=False, decided_by="站长", reason="人手不足"),
    )
    await apply(
        scheduling,
        leave.record_substitute,
        SubstituteAssigned(
            substitute_request_id=leave.substitute_request_id("LV1", "H1"),
            household_id="H1",
            caregiver_id="C2",
            replaces="C1",
            first_day=day(1),
            last_day=day(3),
            served_before=False,
        ),
    )
    everything = await queries.leave_list(scheduling.store, LeaveQuery())
    assert [
        (
            lv.leave_id,
            lv.caregiver_id,
            lv.station_id,
            lv.status,
            lv.households,
            lv.affected_shifts,
        )
        for lv in everything.leaves
    ] == [
        ("LV3", "C1", "S1", "rejected", 2, 4),
        ("LV2", "C3", "S2", "pending", 1, 1),
        ("LV1", "C1", "S1", "approved", 2, 5),  # H1: 3 days, H2: 3 less the hospital day
    ]
    rejected, pending, approved = everything.leaves
    assert (pending.decided_by, pending.substitutes) == (None, [])
    assert (rejected.decided_by, rejected.decision_reason, rejected.substitutes) == (
        "站长",
        "人手不足",
        [],
    )
    assert (approved.reason, approved.first_day, approved.last_day) == ("回老家", day(1), day(3))
    assert [
        (s.household_id, s.caregiver_id, s.first_day, s.last_day) for s in approved.substitutes
    ] == [("H1", "C2", day(1), day(3))]
    assert not everything.truncated

    async def ids(query: LeaveQuery) -> list[str]:
        return [lv.leave_id for lv in (await queries.leave_list(scheduling.store, query)).leaves]

    assert await ids(LeaveQuery(status="pending")) == ["LV2"]
    assert await ids(LeaveQuery(station_id="S1")) == ["LV3", "LV1"]
    assert await ids(LeaveQuery(station_id="S1", status="approved")) == ["LV1"]
    assert await ids(LeaveQuery(station_id="S2", status="rejected")) == []
    assert await ids(LeaveQuery(station_id="S9")) == []


# -- diaries and ledgers -------------------------------------------------------------------


async def test_diaries_with_warnings_and_ledger_with_balances(scheduling: Service) -> None:
    # H1 eats nothing days 0-2 (a warning on day 2), H3 (station S2) falls on day 1
    await apply(
        scheduling,
        diaries.record_diary,
        *(diary("H1", day(n), "none") for n in range(3)),
        diary("H1", day(3), "fair"),
        diary("H3", day(1), "good", "fall", "pain"),
    )
    await apply(
        scheduling,
        diaries.record_ledger_entry,
        entry("L1", "H1", day(0), "received", "100"),
        entry("L2", "H1", day(2), "purchase", "23.50"),
        entry("L3", "H1", day(3), "returned", "6.50"),
        entry("L4", "H3", day(1), "received", "50"),
    )
    s1 = await queries.diaries_list(
        scheduling.store, DiariesQuery(station_id="S1", date_from=day(2), date_to=day(3))
    )
    assert [(d.household_id, d.date, d.appetite) for d in s1.diaries] == [
        ("H1", day(3), "fair"),
        ("H1", day(2), "none"),  # newest first
    ]
    fair, starving = s1.diaries
    assert fair.warning is None
    assert starving.warning is not None  # the two days before the period count too
    assert starving.warning.signs == ("no_appetite",)
    assert starving.warning.reason_zh == "连续3天没有食欲"
    assert (starving.tasks, starving.mood, starving.notes, starving.station_id) == (
        ("做饭", "打扫"),
        "calm",
        "11-04 记录",
        "S1",
    )
    assert starving.recorded_at.tzinfo is not None
    assert [(e.entry_id, e.kind, e.amount, e.balance) for e in s1.ledger] == [
        ("L2", "purchase", Decimal("23.50"), Decimal("76.50")),
        ("L3", "returned", Decimal("6.50"), Decimal("70.00")),
    ]
    assert [(b.household_id, b.opening, b.closing, b.entries) for b in s1.balances] == [
        ("H1", Decimal("100.00"), Decimal("70.00"), 2)
    ]
    h3 = await queries.diaries_list(
        scheduling.store, DiariesQuery(household_id="H3", date_from=day(0), date_to=day(6))
    )
    assert [(d.caregiver_id, d.health_signs, d.station_id) for d in h3.diaries] == [
        ("C3", ("fall", "pain"), "S2")
    ]
    assert h3.diaries[0].warning is not None
    assert h3.diaries[0].warning.signs == ("fall",)  # pain alone does not warn
    assert [(b.household_id, b.caregiver_id, b.opening, b.closing) for b in h3.balances] == [
        ("H3", "C3", Decimal("0.00"), Decimal("50.00"))
    ]
    every = await queries.diaries_list(
        scheduling.store, DiariesQuery(date_from=day(0), date_to=day(6))
    )
    assert len(every.diaries) == 5 and len(every.ledger) == 4 and not every.truncated
    assert [e.entry_id for e in every.ledger] == ["L1", "L2", "L3", "L4"]
    # the reply JSON carries money as decimal strings
    wire = every.model_dump(mode="json")
    assert wire["ledger"][0]["amount"] == "100.00" and wire["balances"][0]["closing"] == "70.00"


def test_a_diaries_query_covers_an_ordered_period_of_at_most_93_days() -> None:
    with pytest.raises(ValidationError, match="date_to is before date_from"):
        DiariesQuery(date_from=day(1), date_to=day(0))
    with pytest.raises(ValidationError, match="at most 93 days"):
        DiariesQuery(date_from=day(0), date_to=day(93))
    assert DiariesQuery(date_from=day(0), date_to=day(92)).household_id is None


def test_lines_beyond_the_reply_budget_are_left_off() -> None:
    lines = [ShiftsQuery(date=day(n)) for n in range(10)]
    size = queries._size(lines[0])
    assert queries._fit(lines, size * 3) == (lines[:3], True)
    assert queries._fit(lines, size * 10) == (lines, False)


# -- appraisal -----------------------------------------------------------------------------


async def test_appraisal_inputs_so_far_and_the_score_once_appraised(
    scheduling: Service,
) -> None:
    """C1 visits H1 on time with a diary, rated 5; C2 late at H4 without diary, rated 2 and
    one complaint; C3 (S2) only rated."""
    await apply(
        scheduling,
        handlers.complete_visit,
        CompleteVisit(
            shift_id="SH-H1-20261102",
            caregiver_id="C1",
            checked_in_at=at(MON, 9, 5),
            checked_out_at=at(MON, 10),
        ),
        CompleteVisit(
            shift_id="SH-H4-20261102",
            caregiver_id="C2",
            checked_in_at=at(MON, 10),
            checked_out_at=at(MON, 10, 50),
        ),
    )
    await apply(scheduling, diaries.record_diary, diary("H1", MON))
    await apply(
        scheduling,
        appraising.record_satisfaction,
        *(
            RecordSatisfaction(
                household_id=h, caregiver_id=c, month="2026-11", score=s, recorded_by="站长"
            )
            for h, c, s in (("H1", "C1", 5), ("H4", "C2", 2), ("H3", "C3", 4))
        ),
    )
    await apply(
        scheduling,
        appraising.record_complaint,
        RecordComplaint(
            complaint_id="CP1",
            household_id="H4",
            caregiver_id="C2",
            date=MON,
            text="迟到一小时",
            recorded_by="站长",
        ),
    )
    s1 = await queries.appraisals_list(
        scheduling.store, AppraisalsQuery(month="2026-11", station_id="S1")
    )
    assert [
        (
            c.caregiver_id,
            c.visits,
            c.satisfaction_average,
            c.diary_completeness,
            c.punctuality,
            c.provisional_score,
            c.appraisal,
        )
        for c in s1.caregivers
    ] == [
        ("C1", 1, 5.0, 1.0, 1.0, 100.0, None),
        ("C2", 1, 2.0, 0.0, 0.0, 0.0, None),  # 10 for the rating, -10 for the complaint
    ]
    c1, c2 = s1.caregivers
    assert [(r.household_id, r.score, r.recorded_by) for r in c1.satisfaction] == [
        ("H1", 5, "站长")
    ]
    assert [(x.complaint_id, x.household_id, x.date, x.text) for x in c2.complaints] == [
        ("CP1", "H4", MON, "迟到一小时")
    ]
    await apply(
        scheduling,
        lambda tx, cmd: appraising.appraise_month(tx, cmd, threshold=60.0),
        AppraiseMonth(month="2026-11"),
    )
    every = await queries.appraisals_list(scheduling.store, AppraisalsQuery(month="2026-11"))
    assert [(c.caregiver_id, c.station_id) for c in every.caregivers] == [
        ("C1", "S1"),
        ("C2", "S1"),
        ("C3", "S2"),
    ]
    for line in every.caregivers:
        assert line.appraisal is not None
        assert line.appraisal.score == line.provisional_score
        assert line.appraisal.visits == line.visits
    assert every.caregivers[2].appraisal is not None
    assert every.caregivers[2].appraisal.satisfaction == 4.0
    december = await queries.appraisals_list(scheduling.store, AppraisalsQuery(month="2026-12"))
    assert december.caregivers == []


# -- over the bus --------------------------------------------------------------------------


async def test_the_console_asks_over_the_bus(system: System, client: BusClient) -> None:
    """H1 assigned to C1 by dispatch: the carer's day, a leave request, a diary and ledger
    entry, and the station's rating and complaint, each read back through its query."""
    await one_assignment(client)
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=MON))
    await client.send(
        subjects.REQUEST_LEAVE,
        RequestLeave(leave_id="LV1", caregiver_id="C1", first_day=day(7), last_day=day(8)),
    )
    await client.send(subjects.RECORD_DIARY, diary("H1", MON, "good", "fall"))
    await client.send(subjects.RECORD_LEDGER_ENTRY, entry("L1", "H1", MON, "received", "80"))
    await client.send(
        subjects.RECORD_SATISFACTION,
        RecordSatisfaction(
            household_id="H1", caregiver_id="C1", month="2026-11", score=4, recorded_by="站长"
        ),
    )
    await client.send(
        subjects.RECORD_COMPLAINT,
        RecordComplaint(
            complaint_id="CP1",
            household_id="H1",
            caregiver_id="C1",
            date=MON,
            text="忘记买药",
            recorded_by="站长",
        ),
    )

    async def carers_day() -> bool:
        got = await client.ask(
            subjects.RPC_SHIFTS, ShiftsQuery(date=MON, caregiver_id="C1"), ShiftsOfDay
        )
        return [s.shift_id for s in got.shifts] == ["SH-H1-20261102"]

    async def leave_pending() -> bool:
        got = await client.ask(
            subjects.RPC_LEAVE, LeaveQuery(station_id="S1", status="pending"), LeaveList
        )
        return [(lv.leave_id, lv.affected_shifts) for lv in got.leaves] == [("LV1", 2)]

    async def diary_and_ledger() -> bool:
        got = await client.ask(
            subjects.RPC_DIARIES,
            DiariesQuery(station_id="S1", date_from=MON, date_to=MON),
            DiariesList,
        )
        warned = [d.warning.signs for d in got.diaries if d.warning]
        return warned == [("fall",)] and [b.closing for b in got.balances] == [Decimal("80.00")]

    async def rated_and_complained() -> bool:
        got = await client.ask(
            subjects.RPC_APPRAISALS,
            AppraisalsQuery(month="2026-11", station_id="S1"),
            AppraisalsList,
        )
        return [
            (c.caregiver_id, [s.score for s in c.satisfaction], len(c.complaints))
            for c in got.caregivers
        ] == [("C1", [4], 1)]

    await eventually(carers_day, "the carer's day")
    await eventually(leave_pending, "the pending leave")
    await eventually(diary_and_ledger, "the diary and the ledger")
    await eventually(rated_and_complained, "the rating and the complaint")
