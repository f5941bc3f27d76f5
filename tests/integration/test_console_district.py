"""The district officer's console pages on the real services (SQLite and PostgreSQL): the
month's approval round with each application's category and rules, approving and refusing
(a refusal needs a reason), the public notice of a B2 own-child caregiver with an objection
and the confirmation of a quiet one, and the pages refused to other roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from builders import B2_ELDER, ELDER, application_form
from conftest import eventually
from console_web import signed_in, text_of

from contracts import subjects
from contracts.dispatch.eligibility_v1 import SubmitApplication
from services.client import BusClient
from services.console.app import console_of
from services.console.store import audit_log
from services.infra.clock import SimulatedClock
from services.system import System

pytestmark = pytest.mark.integration

ROUND = "2026-11"


async def audit(system: System, action: str) -> list[Any]:
    return await console_of(system["console"]).store.read(
        sa.select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id)
    )


async def submit(client: BusClient) -> None:
    """H1: B1 (one elder, income 500.00); H2 and H4: B2 with the elder's child as caregiver
    (a public notice); H3: C1 (income too high for B)."""
    await client.send_many(
        [
            (
                subjects.SUBMIT_APPLICATION,
                SubmitApplication(
                    application_id=f"AP-{hid}",
                    form=application_form(hid, elder, received="2026-11-03", income=income),
                    child_caregiver_id=child,
                ),
            )
            for hid, elder, income, child in (
                ("H1", ELDER, "500.00", None),
                ("H2", B2_ELDER, "5000.00", "C9"),
                ("H3", ELDER, "5000.00", None),
                ("H4", B2_ELDER, "5000.00", "C8"),
            )
        ]
    )


async def round_text(http: httpx.AsyncClient) -> str:
    response = await http.get("/district/round", params={"round": ROUND})
    assert response.status_code == 200, response.text
    return response.text


async def until_shown(http: httpx.AsyncClient, *parts: str) -> None:
    async def shown() -> bool:
        page = text_of(await round_text(http))
        return all(part in page for part in parts)

    await eventually(shown, f"the round to show {parts}")


async def decide(http: httpx.AsyncClient, app: str, decision: str, reason: str = "") -> Any:
    data = {"round": ROUND, "application_id": app, "decision": decision, "reason": reason}
    return await http.post("/district/decide", data=data)


async def test_district_officer_decides_the_round_and_its_notices(
    console_system: System, client: BusClient, clock: SimulatedClock
) -> None:
    await submit(client)
    async with signed_in(console_system, "off", role="district_officer") as http:
        await until_shown(http, "AP-H1", "AP-H2", "AP-H3", "AP-H4")
        page = await http.get("/district", params={"round": ROUND})
        assert page.status_code == 200
        rows = text_of(page.text)
        assert "AP-H1 H1 2026-11-03 B 类 B1 200.00 待审批" in rows
        assert "AP-H3 H3 2026-11-03 C 类 C1 100.00" in rows
        assert "家庭月收入不超过 600 元" in rows  # what B1 means

        refused = await decide(http, "AP-H3", "reject")
        assert refused.status_code == 422
        assert "不批准时必须填写理由" in text_of(refused.text)
        bad = await decide(http, "AP-H3", "maybe", reason="收入超过标准")
        assert bad.status_code == 422 and "请从列表中选择" in text_of(bad.text)
        assert 'value="收入超过标准"' in bad.text  # the typed reason is kept
        assert await audit(console_system, "application_reject") == []

        approved = await decide(http, "AP-H1", "approve")
        assert approved.status_code == 303
        assert approved.headers["location"] == f"/district?round={ROUND}&sent=decided"
        [line] = await audit(console_system, "application_approve")
        assert (line.user_id, line.target, line.details["decision"]) == ("off", "AP-H1", "approve")
        assert line.event_id
        assert (await decide(http, "AP-H3", "reject", "家庭收入超过标准")).status_code == 303
        assert (await decide(http, "AP-H2", "approve")).status_code == 303
        assert (await decide(http, "AP-H4", "approve")).status_code == 303
        await until_shown(http, "已批准 审批人 off", "未批准 审批人 off 家庭收入超过标准")
        # both approvals' notices posted (they arrive in either order)
        await until_shown(
            http,
            "H2 AP-H2 C9 2026-11-01 2026-11-03 公示中",
            "H4 AP-H4 C8 2026-11-01 2026-11-03 公示中",
        )

        empty = await http.post(
            "/district/object", data={"round": ROUND, "application_id": "AP-H2", "objection": ""}
        )
        assert empty.status_code == 422 and "必填" in text_of(empty.text)
        objected = await http.post(
            "/district/object",
            data={
                "round": ROUND,
                "application_id": "AP-H2",
                "objection": "护理员不是老人的子女",
                "raised_by": "邻居张先生",
            },
        )
        assert objected.status_code == 303
        [objection] = await audit(console_system, "notice_objection")
        assert objection.details["objection"] == "护理员不是老人的子女"
        await until_shown(http, "异议调查中", "有异议 护理员不是老人的子女")

        # H4's notice ends on the 3rd without objection: on the 5th it can be confirmed
        assert 'action="/district/close-notices"' not in await round_text(http)
        clock.advance(timedelta(days=4))
        assert 'action="/district/close-notices"' in await round_text(http)
        closed = await http.post("/district/close-notices", data={"round": ROUND})
        assert closed.status_code == 303
        [close_line] = await audit(console_system, "notices_close")
        assert close_line.details == {"on": "2026-11-05"}
        await until_shown(http, "H4 AP-H4 C8 2026-11-01 2026-11-03 已确认")
        assert "已批准" in text_of(await round_text(http)).split("AP-H4", 1)[1]


async def test_district_pages_refuse_other_roles(console_system: System) -> None:
    async with signed_in(console_system, "sup", role="supervisor", lang="en") as http:
        page = await http.get("/district", params={"round": ROUND})
        assert page.status_code == 200
        words = text_of(page.text)
        assert "Eligibility approval" in words and "No applications in this round" in words
        assert 'action="/district/decide"' not in page.text
        assert (await decide(http, "AP-H1", "approve")).status_code == 403
        bad = await http.get("/district", params={"round": "2026-13"})
        assert bad.status_code == 422 and 'value="2026-13"' in bad.text
    for role, extra in (
        ("finance", {}),
        ("carer", {"caregiver_id": "C1"}),
        ("station_manager", {"station_id": "S1"}),
    ):
        async with signed_in(console_system, f"u-{role}", role=role, **extra) as http:
            for path in ("/district", "/district/round"):
                assert (await http.get(path)).status_code == 403, (role, path)
            assert (await decide(http, "AP-H1", "approve")).status_code == 403
            closing = await http.post("/district/close-notices", data={"round": ROUND})
            assert closing.status_code == 403
    assert await audit(console_system, "application_approve") == []
