"""The carer's phone pages on the real services: their own visits of today and tomorrow,
check-in, check-out and acknowledging a shift, the diary, the household ledger and leave."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from builders import one_assignment
from conftest import eventually
from console_web import signed_in, text_of

from contracts import subjects
from contracts.scheduling.queries_v1 import DiariesList, DiariesQuery, LeaveList, LeaveQuery
from contracts.scheduling.v1 import GenerateShifts, ShiftLine, ShiftsOfDay, ShiftsQuery
from services.client import BusClient
from services.console.app import console_of
from services.infra.clock import SimulatedClock
from services.system import System

pytestmark = pytest.mark.integration

TODAY = date(2026, 11, 1)  # the clock fixture's day
TOMORROW = TODAY + timedelta(days=1)
TODAY_SHIFT = "SH-H1-20261101"
TOMORROW_SHIFT = "SH-H1-20261102"
OTHER_ROLES: tuple[tuple[str, dict[str, str]], ...] = (
    ("station_manager", {"station_id": "S1"}),
    ("district_officer", {}),
    ("finance", {}),
    ("supervisor", {}),
)


async def shifts_made(client: BusClient) -> None:
    """C1 serves H1 (from dispatch); the shifts of today and tomorrow are made."""
    await one_assignment(client)
    for day in (TODAY, TOMORROW):
        await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=day))

    async def both_days() -> bool:
        return all([await shift(client, TODAY_SHIFT), await shift(client, TOMORROW_SHIFT)])

    await eventually(both_days, "the shifts of today and tomorrow")


async def shift(client: BusClient, shift_id: str) -> ShiftLine | None:
    day = TODAY if shift_id == TODAY_SHIFT else TOMORROW
    got = await client.ask(
        subjects.RPC_SHIFTS, ShiftsQuery(date=day, caregiver_id="C1"), ShiftsOfDay
    )
    return next((s for s in got.shifts if s.shift_id == shift_id), None)


def shift_becomes(client: BusClient, shift_id: str, **expected: Any) -> Any:
    async def check() -> bool:
        line = await shift(client, shift_id)
        return line is not None and all(getattr(line, k) == v for k, v in expected.items())

    return check


async def actions_of(system: System, user_id: str) -> list[tuple[str, str]]:
    """The user's audited actions, oldest first, sign-in left out."""
    rows = await console_of(system["console"]).audit_lines(user_id=user_id)
    return [(r.action, r.target) for r in reversed(rows) if r.action != "sign_in"]


async def words_of(http: httpx.AsyncClient, path: str) -> str:
    page = await http.get(path)
    assert page.status_code == 200, page.text
    return text_of(page.text)


async def test_a_carer_sees_their_visits_and_checks_in_and_out(
    console_system: System, client: BusClient, clock: SimulatedClock
) -> None:
    await shifts_made(client)
    async with signed_in(console_system, "carer-1", role="carer", caregiver_id="C1") as http:
        page = await http.get("/carer")
        assert page.status_code == 200
        words = text_of(page.text)
        for expected in (
            "今天的服务",
            "明天的服务",
            "五一路H1号",
            "09:00–11:00",
            "待服务",
            "未确认",
        ):
            assert expected in words
        assert 'hx-trigger="refresh from:body"' in page.text and 'data-live="1"' in page.text
        assert f"/carer/shifts/{TODAY_SHIFT}/check-in" in page.text
        assert f"/carer/shifts/{TOMORROW_SHIFT}/check-in" not in page.text  # only on its day
        assert f"/carer/shifts/{TOMORROW_SHIFT}/acknowledge" in page.text
        part = await http.get("/carer/shifts")
        assert part.status_code == 200 and "<html" not in part.text
        assert TOMORROW_SHIFT in part.text
        for path, title in (
            ("/carer/diary", "服务日记"),
            ("/carer/ledger", "家庭收支账"),
            ("/carer/leave", "我的请假"),
        ):
            assert title in await words_of(http, path)

        acknowledged = await http.post(f"/carer/shifts/{TOMORROW_SHIFT}/acknowledge")
        assert acknowledged.status_code == 303
        await eventually(shift_becomes(client, TOMORROW_SHIFT, acknowledged=True), "the ack")

        checked_in = await http.post(f"/carer/shifts/{TODAY_SHIFT}/check-in")
        assert (checked_in.status_code, checked_in.headers["location"]) == (303, "/carer?sent=1")
        await eventually(shift_becomes(client, TODAY_SHIFT, status="checked_in"), "check-in")
        page = await http.get("/carer?sent=1")
        assert "已提交" in text_of(page.text) and "服务中" in text_of(page.text)
        assert f"/carer/shifts/{TODAY_SHIFT}/check-out" in page.text
        assert f"/carer/shifts/{TODAY_SHIFT}/check-in" not in page.text
        again = await http.post(f"/carer/shifts/{TODAY_SHIFT}/check-in")
        assert again.headers["location"] == "/carer?refused=1"  # not offered, not sent

        clock.advance(timedelta(minutes=80))
        checked_out = await http.post(f"/carer/shifts/{TODAY_SHIFT}/check-out")
        assert checked_out.status_code == 303
        await eventually(shift_becomes(client, TODAY_SHIFT, status="done"), "the visit")
        words = await words_of(http, "/carer")
        assert "已完成" in words and "签到 08:00" in words and "签退 09:20" in words
    assert await actions_of(console_system, "carer-1") == [
        ("acknowledge_shift", TOMORROW_SHIFT),
        ("check_in", TODAY_SHIFT),
        ("check_out", TODAY_SHIFT),
    ]

    # another carer neither sees nor acts on C1's shift
    async with signed_in(console_system, "carer-2", role="carer", caregiver_id="C2") as http:
        refused = await http.post(f"/carer/shifts/{TOMORROW_SHIFT}/acknowledge")
        assert refused.status_code == 403
        page = await http.get("/carer")
        assert "没有安排" in text_of(page.text) and TODAY_SHIFT not in page.text
    assert await actions_of(console_system, "carer-2") == []
    for role, extra in OTHER_ROLES:
        async with signed_in(console_system, f"u-{role}", role=role, **extra) as http:
            for path in (
                "/carer",
                "/carer/shifts",
                "/carer/diary",
                "/carer/ledger",
                "/carer/leave",
            ):
                assert (await http.get(path)).status_code == 403, (role, path)
            posted = await http.post(f"/carer/shifts/{TOMORROW_SHIFT}/check-in")
            assert posted.status_code == 403
            posted = await http.post("/carer/leave", data={"first_day": "2026-11-10"})
            assert posted.status_code == 403
    line = await shift(client, TOMORROW_SHIFT)
    assert line is not None and line.status == "scheduled"


async def test_diary_ledger_and_leave_keep_what_was_typed_and_are_sent(
    console_system: System, client: BusClient
) -> None:
    await shifts_made(client)
    async with signed_in(
        console_system, "carer-1", lang="en", role="carer", caregiver_id="C1"
    ) as http:
        await diary_is_checked_and_sent(http, client)
        await ledger_is_checked_and_sent(http, client)
        await leave_is_checked_and_sent(http, client)
    assert [action for action, _ in await actions_of(console_system, "carer-1")] == [
        "record_diary",
        "record_ledger_entry",
        "record_ledger_entry",  # the same form twice: one entry
        "request_leave",
    ]


async def diary_is_checked_and_sent(http: httpx.AsyncClient, client: BusClient) -> None:
    words = await words_of(http, f"/carer/diary?household_id=H1&date={TODAY}")
    assert "Care diary" in words and "五一路H1号" in words and "Not eating" in words
    typed = {
        "household_id": "H1",
        "date": TODAY.isoformat(),
        "mood": "calm",
        "tasks": ["cooking", "medicine"],
        "other_tasks": "剪指甲",
        "health_signs": ["fever"],
        "notes": "Ate half a bowl of congee",
    }
    missing = await http.post("/carer/diary", data=typed)
    assert missing.status_code == 422
    appetite = re.search(r'data-field="appetite".*?</fieldset>', missing.text, re.S)
    assert appetite and "Required" in appetite.group(0)
    for kept in ('value="cooking" checked', 'value="medicine" checked', 'value="calm" checked'):
        assert kept in missing.text
    assert 'value="fever" checked' in missing.text and 'value="剪指甲"' in missing.text
    assert "Ate half a bowl of congee" in missing.text
    not_mine = await http.post(
        "/carer/diary", data=typed | {"appetite": "good", "household_id": "H9"}
    )
    assert not_mine.status_code == 422 and "Choose a household you serve" in not_mine.text

    sent = await http.post("/carer/diary", data=typed | {"appetite": "poor"})
    assert (sent.status_code, sent.headers["location"]) == (303, "/carer?sent=1")

    async def listed() -> bool:
        got = await diaries(client)
        return [(d.tasks, d.appetite, d.health_signs, d.notes) for d in got.diaries] == [
            (("做饭", "提醒服药", "剪指甲"), "poor", ("fever",), "Ate half a bowl of congee")
        ]

    await eventually(listed, "the diary")
    again = await http.get(f"/carer/diary?household_id=H1&date={TODAY}")
    assert "sending again replaces it" in text_of(again.text)
    assert 'value="poor" checked' in again.text and "Ate half a bowl of congee" in again.text


async def ledger_is_checked_and_sent(http: httpx.AsyncClient, client: BusClient) -> None:
    form = await http.get("/carer/ledger?household_id=H1")
    assert form.status_code == 200 and "Household ledger" in text_of(form.text)
    found = re.search(r'name="entry_id" value="([^"]+)"', form.text)
    assert found
    typed = {
        "entry_id": found.group(1),
        "household_id": "H1",
        "kind": "received",
        "amount": "12.345",
        "description": "Money for vegetables",
    }
    wrong = await http.post("/carer/ledger", data=typed)
    assert wrong.status_code == 422
    assert "at most 2 decimals" in wrong.text and "Money for vegetables" in wrong.text
    assert f'value="{typed["entry_id"]}"' in wrong.text and 'value="12.345"' in wrong.text
    for _ in range(2):  # a double tap sends the same entry twice
        sent = await http.post("/carer/ledger", data=typed | {"amount": "100.00"})
        assert sent.status_code == 303

    async def recorded() -> bool:
        got = await diaries(client)
        return [(e.kind, e.amount) for e in got.ledger] == [("received", Decimal("100.00"))]

    await eventually(recorded, "the ledger entry")
    assert "Cash held: 100.00 yuan" in await words_of(http, "/carer/ledger")


async def leave_is_checked_and_sent(http: httpx.AsyncClient, client: BusClient) -> None:
    assert "No leave asked for yet" in await words_of(http, "/carer/leave")
    typed = {"first_day": "2026-11-10", "last_day": "2026-11-08", "reason": "family wedding"}
    wrong = await http.post("/carer/leave", data=typed)
    assert wrong.status_code == 422
    assert "The last day cannot be before the first day" in wrong.text
    assert "family wedding" in wrong.text and 'value="2026-11-08"' in wrong.text
    sent = await http.post("/carer/leave", data=typed | {"last_day": "2026-11-12"})
    assert (sent.status_code, sent.headers["location"]) == (303, "/carer/leave?sent=1")

    async def pending() -> bool:
        words = await words_of(http, "/carer/leave")
        return "2026-11-10 to 2026-11-12 Pending" in words

    await eventually(pending, "the leave request on the page")
    got = await client.ask(subjects.RPC_LEAVE, LeaveQuery(status="pending"), LeaveList)
    assert [(lv.caregiver_id, lv.reason) for lv in got.leaves] == [("C1", "family wedding")]


async def diaries(client: BusClient) -> DiariesList:
    query = DiariesQuery(date_from=TODAY, date_to=TODAY, household_id="H1")
    return await client.ask(subjects.RPC_DIARIES, query, DiariesList)
