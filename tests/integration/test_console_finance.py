"""Finance's console pages on the real services (SQLite and PostgreSQL): running a month with
its progress and totals, downloading its documents (audited), closing it, a refused re-run,
form errors kept, and the pages refused to other roles."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from conftest import eventually
from console_web import signed_in, text_of
from test_billing_runs import NOV, nov, registered, visit

from contracts import subjects
from contracts.billing.v1 import MonthSummary, MonthSummaryQuery
from services.client import BusClient
from services.console.app import console_of
from services.console.store import audit_log
from services.system import System

pytestmark = pytest.mark.integration


async def audit(system: System, action: str) -> list[Any]:
    return await console_of(system["console"]).store.read(
        sa.select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id)
    )


async def one_served_day(client: BusClient) -> None:
    """Billing knows H1 (category B from 1 November) and one completed visit on the 2nd."""
    await client.send(
        subjects.HOUSEHOLD_REGISTERED,
        registered("H1", "B", nov(1)).model_copy(update={"name": "王秀英"}),
    )
    await client.send(subjects.VISIT_COMPLETED, visit("H1", "C1", nov(2)))

    async def counted() -> bool:
        summary = await client.ask(
            subjects.RPC_MONTH_SUMMARY, MonthSummaryQuery(month=NOV), MonthSummary
        )
        return summary.served_days == 1

    await eventually(counted, "billing to count the visit")


async def month_state(http: httpx.AsyncClient, run: str = "") -> str:
    response = await http.get("/finance/runs", params={"month": NOV, "run": run})
    assert response.status_code == 200, response.text
    return response.text


async def test_finance_runs_downloads_and_closes_a_month(
    console_system: System, client: BusClient
) -> None:
    await one_served_day(client)
    async with signed_in(console_system, "fin", role="finance") as http:
        page = await http.get("/finance", params={"month": NOV})
        assert page.status_code == 200
        assert "本月尚未结算" in text_of(page.text) and 'action="/finance/run"' in page.text

        bad = await http.post("/finance/run", data={"month": "2026-13"})
        assert bad.status_code == 422
        assert 'value="2026-13"' in bad.text and "填写有误" in text_of(bad.text)
        assert await audit(console_system, "billing_run") == []

        sent = await http.post("/finance/run", data={"month": NOV})
        assert sent.status_code == 303
        [run_id] = parse_qs(urlparse(sent.headers["location"]).query)["run"]
        [line] = await audit(console_system, "billing_run")
        assert (line.user_id, line.target, line.event_id) == ("fin", NOV, run_id)

        progress = await http.get(sent.headers["location"])
        assert f'data-run="{run_id}"' in progress.text and "<progress" in progress.text
        assert "已提交结算" in text_of(progress.text)

        async def completed() -> bool:
            state = await month_state(http, run_id)
            return f'data-run-id="{run_id}" data-finished' in state

        await eventually(completed, "the run to show as completed")
        # 1 of 30 days of 1500.00; B: 200.00 / 30 = 6.67 subsidy, 43.33 the family's
        shown = text_of(await month_state(http, run_id))
        assert "已完成" in shown and "生成第 1 版" in shown
        assert all(amount in shown for amount in ("50.00", "6.67", "43.33"))
        assert "未结账" in shown

        statement = await http.get(
            "/finance/download",
            params={"month": NOV, "kind": "statement", "party_id": "H1", "format": "pdf"},
        )
        assert statement.status_code == 200
        assert statement.content[:5] == b"%PDF-"
        assert statement.headers["content-type"] == "application/pdf"
        disposition = statement.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "statement_2026-11_H1_r1.pdf" in disposition
        claim = await http.get(
            "/finance/download", params={"month": NOV, "kind": "claim", "format": "pdf"}
        )
        assert claim.status_code == 200 and claim.content[:5] == b"%PDF-"
        assert "claim_2026-11_" in claim.headers["content-disposition"]
        downloads = await audit(console_system, "billing_download")
        assert [(d.user_id, d.target) for d in downloads] == [
            ("fin", "2026-11 statement H1"),
            ("fin", "2026-11 claim"),
        ]
        assert downloads[0].details["file_name"] == "statement_2026-11_H1_r1.pdf"

        missing = await http.get(
            "/finance/download",
            params={"month": NOV, "kind": "statement", "party_id": "H9", "format": "pdf"},
        )
        assert missing.status_code == 404 and "家庭 H9 没有结算" in text_of(missing.text)
        nobody = await http.get(
            "/finance/download", params={"month": NOV, "kind": "payslip", "format": "html"}
        )
        assert nobody.status_code == 422 and "必填" in text_of(nobody.text)
        assert len(await audit(console_system, "billing_download")) == 2

        unconfirmed = await http.post("/finance/close", data={"month": NOV})
        assert unconfirmed.status_code == 422
        assert "请勾选确认后再结账" in text_of(unconfirmed.text)
        closing = await http.post("/finance/close", data={"month": NOV, "confirm": "yes"})
        assert closing.status_code == 303
        [closed] = await audit(console_system, "billing_close")
        assert closed.details == {"month": NOV, "confirm": "yes"} and closed.event_id

        async def closed_shown() -> bool:
            return "由 fin 结账（第 1 版）" in text_of(await month_state(http))

        await eventually(closed_shown, "the month to show as closed")

        # a closed month is never rewritten: billing refuses the run, the page says why
        again = await http.post("/finance/run", data={"month": NOV})
        [refused_id] = parse_qs(urlparse(again.headers["location"]).query)["run"]

        async def refusal_shown() -> bool:
            return f'data-run-id="{refused_id}" data-finished' in await month_state(http)

        await eventually(refusal_shown, "the refused run to be listed")
        shown = text_of(await month_state(http))
        assert "被拒绝" in shown and "已于第 1 版结账" in shown
        page = await http.get("/finance", params={"month": NOV})
        assert 'action="/finance/close"' not in page.text  # nothing left to close


async def test_finance_pages_refuse_other_roles_and_speak_english(
    console_system: System,
) -> None:
    async with signed_in(console_system, "sup", role="supervisor", lang="en") as http:
        page = await http.get("/finance", params={"month": NOV})
        assert page.status_code == 200
        words = text_of(page.text)
        assert "Monthly billing" in words and "This month has not been billed yet" in words
        assert 'action="/finance/run"' not in page.text
        assert (await http.post("/finance/run", data={"month": NOV})).status_code == 403
        closing = await http.post("/finance/close", data={"month": NOV, "confirm": "yes"})
        assert closing.status_code == 403
        bad = await http.get("/finance", params={"month": "November"})
        assert bad.status_code == 422 and 'value="November"' in bad.text
    for role, extra in (
        ("district_officer", {}),
        ("carer", {"caregiver_id": "C1"}),
        ("station_manager", {"station_id": "S1"}),
    ):
        async with signed_in(console_system, f"u-{role}", role=role, **extra) as http:
            for path in ("/finance", "/finance/runs", "/finance/download?month=2026-11&kind=claim"):
                assert (await http.get(path)).status_code == 403, (role, path)
            assert (await http.post("/finance/run", data={"month": NOV})).status_code == 403
    assert await audit(console_system, "billing_run") == []
