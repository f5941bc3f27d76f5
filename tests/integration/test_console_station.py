"""The station manager's pages on the real services: the live coverage board, asking for a
carer, confirming from the ranked shortlist, the roster with certificates about to expire,
replacing a caregiver, and who may see or do what."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from builders import SHANGHAI, caregiver, household, one_assignment, until_registered
from conftest import eventually
from console_web import signed_in, text_of

from contracts import subjects
from contracts.dispatch.v1 import RequestCare
from contracts.dispatch.values import Certificate
from contracts.envelope import Payload
from contracts.scheduling.v1 import CheckIn, GenerateShifts
from services.client import BusClient
from services.console.app import console_of
from services.console.store import audit_log
from services.demo.watch import BusWatcher
from services.system import System

pytestmark = pytest.mark.integration

TODAY = date(2026, 11, 1)  # the clock's day
OTHER_STREET = "西岗街道"


def row(html: str, kind: str, key: str) -> str:
    """The visible text of the board row / request card / roster row marked data-<kind>=key."""
    found = re.search(rf'<(tr|article)[^>]*data-{kind}="{key}".*?</\1>', html, re.S)
    assert found, f"no {kind} {key} on the page"
    return text_of(found.group(0))


def counts(html: str) -> dict[str, int]:
    return {k: int(n) for k, n in re.findall(r'data-count="(\w+)"><b>(\d+)</b>', html)}


async def audited(system: System, action: str) -> list[Any]:
    return await console_of(system["console"]).store.read(
        sa.select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id)
    )


async def register(client: BusClient, watcher: BusWatcher, *commands: Payload) -> None:
    """More caregivers and households on top of one_assignment's C1 and H1."""
    await client.send_many(
        [
            (
                subjects.REGISTER_CAREGIVER
                if cmd.TYPE == "dispatch.RegisterCaregiver"
                else subjects.REGISTER_HOUSEHOLD,
                cmd,
            )
            for cmd in commands
        ]
    )
    carers = sum(cmd.TYPE == "dispatch.RegisterCaregiver" for cmd in commands)
    await until_registered(watcher, 1 + carers, 1 + len(commands) - carers)


async def test_board_request_and_confirm_from_the_shortlist(
    console_system: System, client: BusClient
) -> None:
    watcher = await one_assignment(client)  # C1 serves H1 (C1 is then at capacity)
    await register(
        client,
        watcher,
        caregiver("C2"),
        household("H2"),  # nobody asked for a carer yet: uncovered
        household("H3"),
        household("H9", station="S2", street=OTHER_STREET),
    )
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=TODAY))

    async with signed_in(console_system, "mgr-s1", role="station_manager", station_id="S1") as http:

        def board_shows(status: str) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                part = await http.get("/station/board")
                return status in row(part.text, "household", "H1")

            return check

        await eventually(board_shows("待服务"), "H1's shift on the board")
        at = datetime(2026, 11, 1, 8, 30, tzinfo=SHANGHAI)
        await client.send(
            subjects.CHECK_IN, CheckIn(shift_id="SH-H1-20261101", caregiver_id="C1", at=at)
        )
        await eventually(board_shows("服务中"), "the board to show H1's check-in")
        page = await http.get("/station")
        assert page.status_code == 200
        assert 'hx-trigger="refresh from:body"' in page.text and "data-live" in page.text
        h1 = row(page.text, "household", "H1")
        assert "C1" in h1 and "服务中" in h1 and "08:30" in h1 and "09:00–11:00" in h1
        assert "无人负责" in row(page.text, "household", "H2")
        assert "未派护理员" in row(page.text, "household", "H2")
        assert "无人负责" in row(page.text, "household", "H3")
        assert 'data-household="H9"' not in page.text  # another station's
        assert counts(page.text) == {
            "covered": 1,
            "uncovered": 2,
            "missed": 0,
            "done": 0,
            "checked_in": 1,
        }
        tomorrow = await http.get("/station", params={"date": "2026-11-02"})
        assert counts(tomorrow.text)["covered"] == 0  # no shifts made for that day yet
        assert "无人负责" in row(tomorrow.text, "household", "H1")

        # the request form: errors in Chinese, what was typed kept
        blank = await http.post(
            "/station/request",
            data={"household_id": "", "start_date": "2026-11-02", "mode": "shortlist"},
        )
        assert blank.status_code == 422
        assert "必填" in blank.text
        assert 'value="2026-11-02"' in blank.text
        assert '<option value="shortlist" selected>' in blank.text
        for other, problem in (("H9", "本站没有这个家庭"), ("H1", "该家庭已有护理员")):
            refused = await http.post(
                "/station/request",
                data={"household_id": other, "start_date": "2026-11-02", "mode": "shortlist"},
            )
            assert refused.status_code == 422
            assert problem in refused.text and f'value="{other}"' in refused.text
        assert await audited(console_system, "request_care") == []

        sent = await http.post(
            "/station/request",
            data={"household_id": "H3", "start_date": "2026-11-02", "mode": "shortlist"},
        )
        assert sent.status_code == 303 and sent.headers["location"] == "/station?sent=request"
        assert "申请已提交" in (await http.get(sent.headers["location"])).text
        [line] = await audited(console_system, "request_care")
        assert (line.user_id, line.role, line.target) == ("mgr-s1", "station_manager", "H3")
        assert line.details["mode"] == "shortlist" and line.event_id
        request_id = line.details["request_id"]

        async def shortlisted() -> bool:
            return f'data-request="{request_id}"' in (await http.get("/station/requests")).text

        await eventually(shortlisted, "the shortlist on the requests page")
        page = await http.get("/station/requests")
        card = row(page.text, "request", request_id)
        assert "H3" in card and "候选名单" in card
        assert "已满额 × 1" in card  # C1 serves H1 already
        c2 = row(page.text, "candidate", "C2")
        assert c2.startswith("1 C2") and "未曾服务过该户" in c2 and "距离" in c2

        # an override needs a reason: refused, the choice kept
        unexplained = await http.post(
            f"/station/requests/{request_id}/confirm", data={"caregiver_id": "C1"}
        )
        assert unexplained.status_code == 422
        assert "不选排名第一的护理员时必须说明理由" in unexplained.text
        assert '<option value="C1" selected>' in unexplained.text
        assert await audited(console_system, "override_assignment") == []

        confirmed = await http.post(
            f"/station/requests/{request_id}/confirm", data={"caregiver_id": "C2"}
        )
        assert confirmed.status_code == 303
        [line] = await audited(console_system, "confirm_assignment")
        assert (line.user_id, line.target, line.details["caregiver_id"]) == (
            "mgr-s1",
            request_id,
            "C2",
        )

        async def assigned() -> bool:
            board = await http.get("/station/board")
            return "C2" in row(board.text, "household", "H3")

        await eventually(assigned, "H3 served by C2 on the board")
        assert "没有待处理的申请" in (await http.get("/station/requests")).text
        again = await http.post(
            f"/station/requests/{request_id}/confirm", data={"caregiver_id": "C2"}
        )
        assert again.status_code == 422 and "该申请已处理或不存在" in again.text
    await watcher.stop()


async def test_roster_replacement_and_who_may_do_what(
    console_system: System, client: BusClient
) -> None:
    watcher = await one_assignment(client)  # C1 serves H1
    expiring = (
        Certificate(module="daily_care", expires_on=date(2027, 12, 31)),
        Certificate(module="common_illness", expires_on=date(2027, 12, 31)),
        Certificate(module="first_aid", expires_on=date(2026, 11, 20)),
    )
    await register(
        client,
        watcher,
        caregiver("C2").model_copy(update={"certificates": expiring}),
        household("H2"),
    )
    shortlist = RequestCare(
        request_id="R-H2", household_id="H2", start_date=date(2026, 11, 2), mode="shortlist"
    )
    await client.send(subjects.REQUEST_CARE, shortlist)
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.ShortlistProposed"] == 1, "the shortlist", timeout=20
    )

    async with signed_in(
        console_system, "mgr-en", lang="en", role="station_manager", station_id="S1"
    ) as http:
        roster = await http.get("/station/roster")
        assert roster.status_code == 200
        text = text_of(roster.text)
        assert "Caregivers" in text and "1 caregiver(s) with a certificate" in text
        c2 = row(roster.text, "caregiver", "C2")
        assert "First aid 2026-11-20" in c2 and "Expires in 19 days" in c2
        assert '<span class="tag expiring">Expires in 19 days</span>' in roster.text
        assert roster.text.index('data-caregiver="C2"') < roster.text.index('data-caregiver="C1"')
        assert "1 / 1" in row(roster.text, "caregiver", "C1")  # C1 serves H1, capacity 1

        blank = await http.post(
            "/station/replace",
            data={"household_id": "H1", "start_date": "2026-11-02", "reason": " "},
        )
        assert blank.status_code == 422
        assert "Required" in blank.text and '<option value="H1" selected>' in blank.text
        unserved = await http.post(
            "/station/replace",
            data={"household_id": "H2", "start_date": "2026-11-02", "reason": "x"},
        )
        assert unserved.status_code == 422 and "has no caregiver" in unserved.text
        assert 'value="x"' in unserved.text or ">x</textarea>" in unserved.text

        sent = await http.post(
            "/station/replace",
            data={"household_id": "H1", "start_date": "2026-11-02", "reason": "老人要求换人"},
        )
        assert sent.status_code == 303
        assert "Replacement requested" in (await http.get(sent.headers["location"])).text
        [line] = await audited(console_system, "replace_caregiver")
        assert (line.user_id, line.target, line.details["reason"]) == (
            "mgr-en",
            "H1",
            "老人要求换人",
        )

        async def replaced() -> bool:
            board = await http.get("/station/board", params={"date": "2026-11-02"})
            return "C2" in row(board.text, "household", "H1")

        await eventually(replaced, "H1 served by C2 after the replacement")

    await refusals(console_system)
    await watcher.stop()


STATION_PAGES = (
    "/station",
    "/station/board",
    "/station/requests",
    "/station/requests/list",
    "/station/roster",
)
FORMS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/station/request", {"household_id": "H2", "start_date": "2026-11-02", "mode": "auto"}),
    ("/station/requests/R-H2/confirm", {"caregiver_id": "C2"}),
    ("/station/replace", {"household_id": "H1", "start_date": "2026-11-03", "reason": "x"}),
)


async def post_all(http: httpx.AsyncClient) -> list[int]:
    return [(await http.post(path, data=form)).status_code for path, form in FORMS]


async def refusals(system: System) -> None:
    """S1 has H1 (served), H2 (open shortlist R-H2); nothing here may act on them."""
    async with signed_in(system, "mgr-s2", role="station_manager", station_id="S2") as http:
        for path in STATION_PAGES:
            response = await http.get(path, params={"station_id": "S1"})
            assert response.status_code == 403, path
        assert "无权访问" in (await http.get("/station/roster?station_id=S1")).text
        assert (await http.get("/station")).status_code == 200  # its own station
        assert await post_all(http) == [422, 403, 422]  # S1's households are not S2's
        own = await http.post("/station/request", data=dict(FORMS[0][1]))
        assert "本站没有这个家庭" in own.text
    for role, extra in (("carer", {"caregiver_id": "C1"}), ("finance", {})):
        async with signed_in(system, f"u-{role}", role=role, **extra) as http:
            for path in STATION_PAGES:
                response = await http.get(path, params={"station_id": "S1"})
                assert response.status_code == 403, (role, path)
            assert await post_all(http) == [403, 403, 403]
    async with signed_in(system, "sup", role="supervisor") as http:
        choose = await http.get("/station")
        assert choose.status_code == 200 and 'href="/station?station_id=S1"' in choose.text
        for path in ("/station", "/station/requests", "/station/roster"):
            page = await http.get(path, params={"station_id": "S1"})
            assert page.status_code == 200 and "只读查看：S1 站" in page.text, path
            assert page.text.count('method="post"') == 1  # signing out only
        readable = await http.get("/station/requests", params={"station_id": "S1"})
        assert 'data-request="R-H2"' in readable.text
        assert await post_all(http) == [403, 403, 403]
    assert [r.user_id for r in await audited(system, "request_care")] == []
    assert [r.user_id for r in await audited(system, "replace_caregiver")] == ["mgr-en"]
