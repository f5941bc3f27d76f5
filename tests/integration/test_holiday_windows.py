"""Holiday visit windows: on a public holiday (法定节假日) a household that asked for another
window is visited in it; on scheduling's database (SQLite and PostgreSQL), then over the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, time
from pathlib import Path

import pytest
import sqlalchemy as sa
from builders import assignment_event, one_assignment
from scheduling_helpers import apply, emitted

from contracts import subjects
from contracts.dispatch.v1 import SubstituteAssigned
from contracts.scheduling.v1 import GenerateShifts, SetHolidayWindow
from services.carer import CarerInbox
from services.client import BusClient
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling import app as scheduling_app
from services.scheduling import handlers, leave
from services.scheduling.holidays import HolidayCalendar
from services.scheduling.store import shifts
from services.system import System

EVE, NATIONAL_DAY = date(2026, 9, 30), date(2026, 10, 1)
USUAL, AFTERNOON = (time(9), time(11)), (time(14), time(16))


def from_september(household_id: str, caregiver_id: str):  # type: ignore[no-untyped-def]
    return assignment_event(household_id, caregiver_id).model_copy(
        update={"start_date": date(2026, 9, 1)}
    )


def holiday_window(household_id: str, window: tuple[time, time] | None) -> SetHolidayWindow:
    return SetHolidayWindow(household_id=household_id, visit_window=window, requested_by="王站长")


async def windows(svc: Service, day: date) -> dict[str, tuple[tuple[time, time], str | None]]:
    rows = await svc.store.read(sa.select(shifts).where(shifts.c.date == day))
    return {r.household_id: ((r.visit_start, r.visit_end), r.holiday) for r in rows}


@pytest.fixture
async def scheduling(scheduling_db: Service) -> Service:
    """H1 (C1) asked for an afternoon window on holidays; H2 (C2) did not."""
    await apply(
        scheduling_db,
        handlers.record_assignment,
        from_september("H1", "C1"),
        from_september("H2", "C2"),
    )
    await apply(scheduling_db, handlers.set_holiday_window, holiday_window("H1", AFTERNOON))
    return scheduling_db


async def test_a_public_holiday_uses_the_window_the_household_asked_for(
    scheduling: Service,
) -> None:
    await apply(
        scheduling,
        handlers.generate_shifts,
        GenerateShifts(date=EVE),
        GenerateShifts(date=NATIONAL_DAY),
    )
    assert await windows(scheduling, EVE) == {"H1": (USUAL, None), "H2": (USUAL, None)}
    assert await windows(scheduling, NATIONAL_DAY) == {
        "H1": (AFTERNOON, "国庆节"),
        "H2": (USUAL, "国庆节"),
    }
    sent = await emitted(scheduling, subjects.carer_shift_subject("C1"))
    assert [(m["date"], m["visit_window"], m["holiday"]) for m in sent] == [
        ("2026-09-30", ["09:00:00", "11:00:00"], None),
        ("2026-10-01", ["14:00:00", "16:00:00"], "国庆节"),
    ]
    generated = await emitted(scheduling, subjects.SHIFTS_GENERATED)
    assert [(g["date"], g["holiday"], g["created"]) for g in generated] == [
        ("2026-09-30", None, 2),
        ("2026-10-01", "国庆节", 2),
    ]
    set_events = await emitted(scheduling, subjects.HOLIDAY_WINDOW_SET)
    assert set_events == [
        {"household_id": "H1", "visit_window": ["14:00:00", "16:00:00"], "requested_by": "王站长"}
    ]


async def test_the_usual_window_again_when_the_household_no_longer_asks(
    scheduling: Service,
) -> None:
    await apply(scheduling, handlers.set_holiday_window, holiday_window("H1", None))
    await apply(scheduling, handlers.generate_shifts, GenerateShifts(date=NATIONAL_DAY))
    assert (await windows(scheduling, NATIONAL_DAY))["H1"] == (USUAL, "国庆节")
    assert (await emitted(scheduling, subjects.HOLIDAY_WINDOW_SET))[-1]["visit_window"] is None


async def test_late_assignments_and_substitutes_keep_the_holiday_window(
    scheduling_db: Service,
) -> None:
    """Shifts made after the day's generation (a late assignment, a substitute) follow the
    same calendar; here a deployment's own holiday from its holidays file."""
    festival = date(2026, 11, 3)
    calendar = HolidayCalendar({festival: "社区节"})
    svc = scheduling_db
    await apply(svc, handlers.set_holiday_window, holiday_window("H1", AFTERNOON))
    async with svc.store.transaction() as tx:
        await handlers.generate_shifts(tx, GenerateShifts(date=festival), calendar)
        await handlers.record_assignment(tx, assignment_event("H1", "C1"), calendar)
    assert await windows(svc, festival) == {"H1": (AFTERNOON, "社区节")}
    async with svc.store.transaction() as tx:
        await tx.conn.execute(sa.delete(shifts))  # as if C1's leave had cancelled it
        await leave.record_substitute(
            tx,
            SubstituteAssigned(
                substitute_request_id="SUB1",
                household_id="H1",
                caregiver_id="C2",
                replaces="C1",
                first_day=festival,
                last_day=festival,
                served_before=False,
            ),
            calendar,
        )
    assert await windows(svc, festival) == {"H1": (AFTERNOON, "社区节")}
    sent = await emitted(svc, subjects.carer_shift_subject("C2"))
    assert [(m["visit_window"], m["holiday"]) for m in sent] == [
        (["14:00:00", "16:00:00"], "社区节")
    ]


def test_the_holidays_file_is_read_at_start(settings: Settings, tmp_path: Path) -> None:
    good = tmp_path / "holidays.yaml"
    good.write_text("holidays:\n  2099-01-01: 元旦\nworkdays: [2026-10-07]\n", encoding="utf-8")
    calendar = scheduling_app.holiday_calendar(settings.model_copy(update={"holidays_file": good}))
    assert calendar.holiday(date(2099, 1, 1)) == "元旦"
    assert calendar.holiday(date(2026, 10, 7)) is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "No such file"),
        ("holidays: [2099-01-01]\n", "'holidays' maps dates"),
        ("holidays: {2099-01-01: 元旦\n", "while parsing"),
    ],
)
def test_a_wrong_holidays_file_stops_the_start(
    settings: Settings, clock: SimulatedClock, tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "holidays.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        scheduling_app.build(settings.model_copy(update={"holidays_file": path}), clock)
    assert f"HOMECARE_HOLIDAYS_FILE {path}" in str(caught.value)
    assert problem in str(caught.value)


@pytest.fixture
async def festival_system(
    settings: Settings, clock: SimulatedClock, tmp_path: Path
) -> AsyncIterator[System]:
    """The running system with 2026-11-02 as a holiday in its holidays file."""
    path = tmp_path / "holidays.yaml"
    path.write_text("holidays:\n  2026-11-02: 社区节\n", encoding="utf-8")
    running = System(settings.model_copy(update={"holidays_file": path}), clock)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_over_the_bus_the_caregiver_hears_the_holiday_window(
    festival_system: System, client: BusClient
) -> None:
    watcher = await one_assignment(client)  # H1 assigned to C1
    answer, payload = await client.command(
        subjects.SET_HOLIDAY_WINDOW, holiday_window("H1", AFTERNOON), [subjects.HOLIDAY_WINDOW_SET]
    )
    assert (answer, payload["visit_window"]) == (
        subjects.HOLIDAY_WINDOW_SET,
        ["14:00:00", "16:00:00"],
    )
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=date(2026, 11, 2)))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.ShiftsGenerated"] == 1, "shifts", timeout=20
    )
    async with CarerInbox(client, "C1") as box:
        messages = await box.receive(wait=5.0)
    assert [(m.type, m.payload["visit_window"], m.payload["holiday"]) for m in messages] == [
        ("scheduling.ShiftScheduled", ["14:00:00", "16:00:00"], "社区节")
    ]
    assert "14:00-16:00 (社区节)" in messages[0].line()
