"""A command a service refuses after the console sent it is shown to the user who sent it
(and only to them), in their language when the service gave one, until dismissed."""

from __future__ import annotations

import re

import pytest
from conftest import eventually
from console_web import signed_in, text_of

from contracts import subjects
from contracts.billing.runs_v1 import CloseMonth
from contracts.scheduling.v1 import CheckIn
from services.console.app import console_of
from services.console.auth import User
from services.infra.clock import SimulatedClock
from services.system import System

pytestmark = pytest.mark.integration


async def test_a_refused_command_is_told_to_its_sender_until_dismissed(
    console_system: System, clock: SimulatedClock
) -> None:
    console = console_of(console_system["console"])
    carer = User("carer-1", "carer", "carer", caregiver_id="C1")
    async with (
        signed_in(console_system, "carer-1", role="carer", caregiver_id="C1") as http,
        signed_in(console_system, "fin", role="finance") as finance,
        signed_in(console_system, "other", role="carer", caregiver_id="C2") as other,
    ):
        # what a stale page could send: scheduling refuses a check-in for no such shift
        await console.act(
            carer,
            "check_in",
            "SH-none",
            {},
            command=(
                subjects.CHECK_IN,
                CheckIn(shift_id="SH-none", caregiver_id="C1", at=clock.now()),
            ),
        )

        async def told() -> bool:
            return "未办成" in (await http.get("/refusals")).text

        await eventually(told, "the refusal to reach the console")
        shown = text_of((await http.get("/refusals")).text)
        assert "到岗签到（SH-none）未办成" in shown
        assert "SH-none" in shown and "知道了" in shown
        # not news for anyone else
        assert "未办成" not in (await other.get("/refusals")).text
        # billing gives its reason in Chinese too: closing a month that has no revision
        await console.act(
            User("fin", "fin", "finance"),
            "billing_close",
            "2026-10",
            {},
            command=(subjects.CLOSE_MONTH, CloseMonth(month="2026-10", closed_by="fin")),
        )

        async def finance_told() -> bool:
            return "未办成" in (await finance.get("/refusals")).text

        await eventually(finance_told, "billing's refusal")
        assert re.search(
            r"结账（2026-10）未办成：[^A-Za-z]+", text_of((await finance.get("/refusals")).text)
        )
        # dismissed: gone, for its user only; someone else cannot dismiss it
        refusal_id = re.search(r"/refusals/([^/]+)/dismiss", (await http.get("/refusals")).text)
        assert refusal_id
        await other.post(f"/refusals/{refusal_id[1]}/dismiss")
        assert "未办成" in (await http.get("/refusals")).text
        after = await http.post(f"/refusals/{refusal_id[1]}/dismiss")
        assert after.status_code == 200 and "未办成" not in after.text
        assert "未办成" not in (await http.get("/refusals")).text
