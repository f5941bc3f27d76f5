"""The station manager's review pages on the real services: leave approval (and refusal
needing a reason), diaries and ledgers with their warnings, and the monthly appraisal inputs;
who may read them and who may change anything."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest
from builders import caregiver, one_assignment
from conftest import eventually
from console_web import signed_in, text_of

from contracts import subjects
from contracts.scheduling.diary_v1 import RecordDiary, RecordLedgerEntry
from contracts.scheduling.leave_v1 import RequestLeave
from contracts.scheduling.queries_v1 import (
    AppraisalsList,
    AppraisalsQuery,
    LeaveList,
    LeaveQuery,
)
from services.client import BusClient
from services.console.app import console_of
from services.system import System

pytestmark = pytest.mark.integration

TODAY = date(2026, 11, 1)  # the simulated clock's day


def leave(leave_id: str, first: int, last: int, reason: str) -> RequestLeave:
    return RequestLeave(
        leave_id=leave_id,
        caregiver_id="C1",
        first_day=date(2026, 11, first),
        last_day=date(2026, 11, last),
        reason=reason,
    )


async def audit_actions(system: System, action: str) -> list[tuple[str, str, dict[str, str]]]:
    lines = await console_of(system["console"]).audit_lines(action=action)
    return [(line.user_id, line.target, line.details) for line in lines]


def form_of(html: str, leave_id: str) -> str:
    return html.split(f'id="decide-{leave_id}"')[1].split("</form>")[0]


async def test_leave_is_listed_approved_and_refused_only_with_a_reason(
    console_system: System, client: BusClient
) -> None:
    """C1 (serving H1) asks for three leaves; C2 and C3 of the same street can stand in
    (dispatch's own choice is C2: equal scores, the lower id). The station chooses C3 for
    LV1; for LV3, a day longer, C3 is no longer free: dispatch takes C2."""
    watcher = await one_assignment(client)
    await client.send_many(
        [
            (subjects.REGISTER_CAREGIVER, caregiver("C2")),
            (subjects.REGISTER_CAREGIVER, caregiver("C3")),
        ]
    )
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.CaregiverRegistered"] >= 3, "C2 and C3 registered"
    )
    await client.send_many(
        [
            (subjects.REQUEST_LEAVE, leave("LV1", 8, 9, "回老家")),
            (subjects.REQUEST_LEAVE, leave("LV2", 20, 21, "看病")),
            (subjects.REQUEST_LEAVE, leave("LV3", 9, 10, "多住一天")),
        ]
    )

    async with signed_in(console_system, "mgr", role="station_manager", station_id="S1") as http:

        async def both_listed() -> bool:
            page = await http.get("/station/leave")
            return page.status_code == 200 and all(f"LV{n}" in page.text for n in (1, 2, 3))

        await eventually(both_listed, "the leave requests on the page")
        page = (await http.get("/station/leave")).text
        text = text_of(page)
        assert "请假审批 · S1" in text
        assert "C1 王秀兰 待审批" in text
        assert "2026-11-08 – 2026-11-09 · 共 2 天" in text and "回老家" in text
        assert "受影响的上门服务 2" in text and "服务户数 1" in text
        assert "批准后自动安排" in text
        # a substitute choice per household C1 serves: the street's caregivers but C1
        form = form_of(page, "LV1")
        assert "H1 李家 的替班" in text_of(form)
        assert '<select name="substitute.H1">' in form
        assert '<option value="" selected>自动（由系统选择）</option>' in form
        assert '<option value="C3">C3 王秀兰 · 现服务 0/1 户</option>' in form
        assert 'value="C2"' in form and 'value="C1"' not in form

        no_reason = await http.post(
            "/station/leave/LV1/decide",
            data={"decision": "reject", "reason": "", "substitute.H1": "C3"},
        )
        assert no_reason.status_code == 422 and "拒绝请假需要填写理由" in text_of(no_reason.text)
        kept = form_of(no_reason.text, "LV1")
        assert '<option value="C3" selected>' in kept and '<option value="reject" selected>' in kept
        on_leave = await http.post(
            "/station/leave/LV1/decide", data={"decision": "approve", "substitute.H1": "C1"}
        )
        assert on_leave.status_code == 422
        assert "该护理员不能为这一户替班" in text_of(form_of(on_leave.text, "LV1"))
        assert await audit_actions(console_system, "decide_leave") == []

        approved = await http.post(
            "/station/leave/LV1/decide",
            data={"decision": "approve", "reason": "", "substitute.H1": "C3"},
        )
        assert approved.status_code == 303
        assert approved.headers["location"] == "/station/leave?sent=1"
        assert await audit_actions(console_system, "decide_leave") == [
            (
                "mgr",
                "LV1",
                {
                    "decision": "approve",
                    "reason": "",
                    "caregiver_id": "C1",
                    "substitutes": {"H1": "C3"},
                },
            )
        ]

        async def substitutes_of(leave_id: str) -> list[str]:
            got = await client.ask(
                subjects.RPC_LEAVE, LeaveQuery(station_id="S1", status="approved"), LeaveList
            )
            return [
                s.caregiver_id
                for lv in got.leaves
                if lv.leave_id == leave_id and lv.decided_by == "mgr"
                for s in lv.substitutes
            ]

        async def lv1_approved() -> bool:
            return await substitutes_of("LV1") == ["C3"]

        await eventually(lv1_approved, "LV1 approved with the chosen substitute")
        text = text_of((await http.get("/station/leave?status=approved")).text)
        assert "已批准" in text and "LV2" not in text
        assert "H1 李家 → C3 王秀兰 2026-11-08 – 2026-11-09 按站长指定" in text
        assert "审批人 mgr" in text

        # C3 covers LV1's days now: for LV3 (overlapping) dispatch takes C2 instead
        extended = await http.post(
            "/station/leave/LV3/decide", data={"decision": "approve", "substitute.H1": "C3"}
        )
        assert extended.status_code == 303

        async def lv3_approved() -> bool:
            return await substitutes_of("LV3") == ["C2"]

        await eventually(lv3_approved, "LV3 approved with dispatch's substitute")
        text = text_of((await http.get("/station/leave?status=approved")).text)
        assert (
            "H1 李家 → C2 王秀兰 2026-11-09 – 2026-11-10 "
            "指定的 C3 王秀兰 未能安排（请假期间没有空余名额或不符合该户要求），已由系统另选 "
            "(C3 is not free on every day of the leave"
        ) in text
        assert text.count("按站长指定") == 1
        # pending first in the full list, though LV2 is the newer
        full_page = (await http.get("/station/leave")).text
        full = text_of(full_page)
        # what the live page asks for when the bus says something changed: the list only
        partial = (await http.get("/station/leave?partial=1&status=pending")).text
        assert partial.lstrip().startswith('<div id="leave-list"') and "<html" not in partial
        assert "看病" in partial and "回老家" not in partial
        assert full.index("看病") < full.index("回老家")

        again = await http.post("/station/leave/LV1/decide", data={"decision": "reject"})
        assert again.status_code == 409
        assert "该请假已处理（已批准）" in text_of(again.text)

        refused = await http.post(
            "/station/leave/LV2/decide", data={"decision": "reject", "reason": "  "}
        )
        assert refused.status_code == 422
        assert "拒绝请假需要填写理由" in text_of(refused.text)
        assert '<option value="reject" selected>' in form_of(refused.text, "LV2")
        too_long = await http.post(
            "/station/leave/LV2/decide", data={"decision": "reject", "reason": "忙" * 501}
        )
        assert too_long.status_code == 422
        assert "太长了" in text_of(too_long.text) and "忙" * 501 in too_long.text
        assert len(await audit_actions(console_system, "decide_leave")) == 2
        pending = await client.ask(
            subjects.RPC_LEAVE, LeaveQuery(station_id="S1", status="pending"), LeaveList
        )
        assert [lv.leave_id for lv in pending.leaves] == ["LV2"]

    async with signed_in(console_system, "sup", role="supervisor", lang="en") as http:
        page = await http.get("/station/leave?station_id=S1")
        assert page.status_code == 200
        assert "回老家" in page.text and "decide-LV2" not in page.text  # read-only
        text = html.unescape(text_of(page.text))
        assert "H1 李家 → C3 王秀兰 2026-11-08 – 2026-11-09 The station's choice" in text
        assert "C3 王秀兰, the station's choice, could not be taken" in text
        posted = await http.post("/station/leave/LV2/decide", data={"decision": "approve"})
        assert posted.status_code == 403
    async with signed_in(console_system, "mgr2", role="station_manager", station_id="S2") as http:
        assert (await http.get("/station/leave?station_id=S1")).status_code == 403
        assert "LV2" not in (await http.get("/station/leave")).text
        posted = await http.post("/station/leave/LV2/decide", data={"decision": "approve"})
        assert posted.status_code == 403
    async with signed_in(console_system, "carer", role="carer", caregiver_id="C1") as http:
        for page in ("/station/leave", "/station/diaries", "/station/appraisals"):
            assert (await http.get(page)).status_code == 403
    assert len(await audit_actions(console_system, "decide_leave")) == 2


async def test_diaries_show_warnings_and_ledgers_in_both_languages(
    console_system: System, client: BusClient
) -> None:
    await one_assignment(client)
    await client.send_many(
        [
            (
                subjects.RECORD_DIARY,
                RecordDiary(
                    household_id="H1",
                    caregiver_id="C1",
                    date=TODAY,
                    tasks=("做饭", "打扫"),
                    appetite="fair",
                    mood="calm",
                    health_signs=("fall", "pain"),
                    notes="在浴室滑倒",
                ),
            ),
            (
                subjects.RECORD_LEDGER_ENTRY,
                RecordLedgerEntry(
                    entry_id="L1",
                    household_id="H1",
                    caregiver_id="C1",
                    date=TODAY,
                    kind="received",
                    amount=Decimal("80"),
                    description="家属给的买菜钱",
                ),
            ),
        ]
    )
    async with signed_in(console_system, "mgr", role="station_manager", station_id="S1") as http:

        async def diary_shown() -> bool:
            page = await http.get("/station/diaries")
            return page.status_code == 200 and "在浴室滑倒" in page.text

        await eventually(diary_shown, "the diary on the page")

        async def ledger_shown() -> bool:
            return "80.00 元" in text_of((await http.get("/station/diaries")).text)

        await eventually(ledger_shown, "the ledger entry on the page")
        page = await http.get("/station/diaries")
        text = text_of(page.text)
        assert 'value="2026-10-26"' in page.text and 'value="2026-11-01"' in page.text
        assert "2026-11-01 H1 李家 C1 王秀兰 做饭、打扫 一般 平稳 摔倒 疼痛 在浴室滑倒" in text
        assert "⚠ 报告摔倒" in text
        assert '<tr class="warn">' in page.text
        assert "收到 +80.00 元 家属给的买菜钱 80.00 元" in text
        assert "H1 李家 C1 王秀兰 0.00 元 80.00 元 1" in text  # the household's balance
        # another household of the station: nothing
        other = text_of((await http.get("/station/diaries?household_id=H9")).text)
        assert "这段时间没有日记" in other and "在浴室滑倒" not in other

        backwards = await http.get("/station/diaries?date_from=2026-11-01&date_to=2026-10-01")
        assert backwards.status_code == 422
        assert "结束日期不能早于开始日期" in text_of(backwards.text)
        assert 'value="2026-10-01"' in backwards.text and "在浴室滑倒" not in backwards.text
        too_long = await http.get("/station/diaries?date_from=2026-01-01&date_to=2026-11-01")
        assert too_long.status_code == 422
        assert "一次最多查看 93 天" in text_of(too_long.text)
        not_a_date = await http.get("/station/diaries?date_from=2026-13-01")
        assert not_a_date.status_code == 422 and 'value="2026-13-01"' in not_a_date.text

    async with signed_in(console_system, "sup", role="supervisor", lang="en") as http:
        text = text_of((await http.get("/station/diaries?station_id=S1")).text)
        assert "Diaries and ledgers · S1" in text
        assert "⚠ reported fall" in text and "Fall Pain" in text
        assert "Received +¥80.00" in text and "Cash held per household" in text
    async with signed_in(console_system, "mgr2", role="station_manager", station_id="S2") as http:
        assert (await http.get("/station/diaries?station_id=S1")).status_code == 403
        assert "在浴室滑倒" not in (await http.get("/station/diaries")).text
    async with signed_in(console_system, "fin", role="finance") as http:
        assert (await http.get("/station/diaries?station_id=S1")).status_code == 403


async def test_satisfaction_and_complaints_are_recorded_for_the_month(
    console_system: System, client: BusClient
) -> None:
    await one_assignment(client)

    async def appraisals() -> AppraisalsList:
        return await client.ask(
            subjects.RPC_APPRAISALS,
            AppraisalsQuery(month="2026-11", station_id="S1"),
            AppraisalsList,
        )

    async with signed_in(console_system, "mgr", role="station_manager", station_id="S1") as http:
        page = await http.get("/station/appraisals")
        assert page.status_code == 200
        text = text_of(page.text)
        assert "月度考核 · 2026-11 · S1" in text and "本月还没有考核数据" in text
        assert '<option value="H1">H1 李家</option>' in page.text  # the station's households
        assert '<option value="C1">C1 王秀兰</option>' in page.text

        wrong = await http.post(
            "/station/appraisals/satisfaction",
            data={"household_id": "H1", "caregiver_id": "C1", "month": "2026-11", "score": "9"},
        )
        assert wrong.status_code == 422
        assert "不能大于 5" in text_of(wrong.text)
        assert 'name="score" type="number" value="9"' in wrong.text
        assert '<option value="H1" selected>' in wrong.text
        stranger = await http.post(
            "/station/appraisals/satisfaction",
            data={"household_id": "H7", "caregiver_id": "C1", "month": "2026-11", "score": "3"},
        )
        assert stranger.status_code == 422 and "不属于本服务站" in text_of(stranger.text)
        assert await audit_actions(console_system, "record_satisfaction") == []

        rated = await http.post(
            "/station/appraisals/satisfaction",
            data={"household_id": "H1", "caregiver_id": "C1", "month": "2026-11", "score": "4"},
        )
        assert rated.status_code == 303
        assert rated.headers["location"] == "/station/appraisals?month=2026-11&sent=1"
        assert await audit_actions(console_system, "record_satisfaction") == [
            (
                "mgr",
                "H1/C1",
                {"household_id": "H1", "caregiver_id": "C1", "month": "2026-11", "score": 4},
            )
        ]
        no_text = await http.post(
            "/station/appraisals/complaint",
            data={"household_id": "H1", "caregiver_id": "C1", "date": "2026-11-01", "text": ""},
        )
        assert no_text.status_code == 422 and "投诉内容 必填" in text_of(no_text.text)
        assert 'name="date" type="date" value="2026-11-01"' in no_text.text
        complained = await http.post(
            "/station/appraisals/complaint",
            data={
                "household_id": "H1",
                "caregiver_id": "C1",
                "date": "2026-11-01",
                "text": "忘记买药",
                "month": "2026-11",
            },
        )
        assert complained.status_code == 303
        [(user_id, target, details)] = await audit_actions(console_system, "record_complaint")
        assert (user_id, target, details["text"]) == ("mgr", "H1/C1", "忘记买药")
        assert details["complaint_id"].startswith("CP-")

        async def recorded() -> bool:
            got = await appraisals()
            return [
                (c.caregiver_id, [s.score for s in c.satisfaction], [x.text for x in c.complaints])
                for c in got.caregivers
            ] == [("C1", [4], ["忘记买药"])]

        await eventually(recorded, "the rating and the complaint")
        got_page = (await http.get("/station/appraisals?month=2026-11&sent=1")).text
        text = text_of(got_page)
        assert "已提交" in text
        assert "C1 王秀兰 4.0 H1 李家: 4 分 1 2026-11-01 · H1 李家: 忘记买药" in text
        assert "未考核" in text
        bad_month = await http.get("/station/appraisals?month=2026-13")
        assert bad_month.status_code == 422
        assert (
            "月份格式应为 年-月" in text_of(bad_month.text) and 'value="2026-13"' in bad_month.text
        )

    async with signed_in(console_system, "sup", role="supervisor") as http:
        page = await http.get("/station/appraisals?station_id=S1&month=2026-11")
        assert page.status_code == 200 and "忘记买药" in page.text
        assert 'action="/station/appraisals/satisfaction"' not in page.text
        posted = await http.post(
            "/station/appraisals/satisfaction",
            data={"household_id": "H1", "caregiver_id": "C1", "month": "2026-11", "score": "1"},
        )
        assert posted.status_code == 403
    async with signed_in(console_system, "mgr2", role="station_manager", station_id="S2") as http:
        assert (await http.get("/station/appraisals?station_id=S1")).status_code == 403
    async with signed_in(console_system, "officer", role="district_officer") as http:
        assert (await http.get("/station/appraisals?station_id=S1")).status_code == 403
    assert len(await audit_actions(console_system, "record_satisfaction")) == 1
