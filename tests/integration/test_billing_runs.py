"""Billing runs on billing's database (SQLite and PostgreSQL): a month's revision equals the
engine's result on the same inputs; the same inputs give the same revision; late corrections
give a new revision with adjustment lines; a closed month is never rewritten and its late
corrections go into the next month; of two workers one carries out a run. Then over the bus."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from conftest import SHANGHAI, eventually
from scheduling_helpers import apply, emitted

from contracts import subjects
from contracts.billing.runs_v1 import CloseMonth, RunBilling
from contracts.billing.v1 import MonthSummary, MonthSummaryQuery
from contracts.dispatch.v1 import CaregiverRegistered, HouseholdRegistered
from contracts.scheduling.v1 import VisitCompleted
from services.billing import app as billing_app
from services.billing import handlers, running
from services.billing.documents import NoRevision, write_documents
from services.billing.engine import DEFAULT_SCHEDULE, compute
from services.billing.model import CategoryFrom
from services.billing.store import (
    bill_adjustments,
    bill_households,
    billing_revisions,
    billing_runs,
)
from services.client import BusClient
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.system import System

NOV, DEC = "2026-11", "2026-12"


def registered(household_id: str, category: str, enrolled_on: date) -> HouseholdRegistered:
    return HouseholdRegistered(
        household_id=household_id,
        station_id="S1",
        street="中山公园街道",
        category=category,
        enrolled_on=enrolled_on,
    )


def visit(household_id: str, caregiver_id: str, day: date) -> VisitCompleted:
    at = datetime.combine(day, time(9), tzinfo=SHANGHAI)
    return VisitCompleted(
        visit_id=f"V-{household_id}-{caregiver_id}-{day:%Y%m%d}",
        shift_id=f"SH-{household_id}-{day:%Y%m%d}",
        household_id=household_id,
        caregiver_id=caregiver_id,
        date=day,
        checked_in_at=at,
        checked_out_at=at,
    )


def nov(day: int) -> date:
    return date(2026, 11, day)


@pytest.fixture
async def billing(settings: Settings, clock: SimulatedClock) -> AsyncIterator[Service]:
    svc = billing_app.build(settings, clock)
    await svc.migrate()
    yield svc
    await svc.engine.dispose()


async def seed(svc: Service) -> None:
    """H1 (B) all month, visited by C1 on 10 days and by C2 on the 5th too; H2 (A) from the
    16th, visited by C2 on 4 days."""
    await apply(svc, handlers.record_category, registered("H1", "B", nov(1)))
    await apply(svc, handlers.record_category, registered("H2", "A", nov(16)))
    visits = [visit("H1", "C1", nov(d)) for d in range(1, 11)]
    visits += [visit("H1", "C2", nov(5))]
    visits += [visit("H2", "C2", nov(d)) for d in (16, 17, 18, 20)]
    await apply(svc, handlers.record_visit, *visits)


async def run(svc: Service, month: str, who: str = "财务") -> dict[str, Any]:
    """Request a run, let a worker carry it out; the answer it emitted."""
    await apply(svc, running.request_run, RunBilling(month=month, requested_by=who))
    worker = running.RunWorker(svc.store, DEFAULT_SCHEDULE, "test")
    await worker.run_next()
    out = svc.store.tables.outbox
    [last] = await svc.store.read(
        sa.select(out.c.body)
        .where(out.c.subject.in_([subjects.BILLING_RUN_COMPLETED, subjects.BILLING_RUN_REJECTED]))
        .order_by(out.c.id.desc())
        .limit(1)
    )
    return dict(json.loads(last.body)["payload"])


async def households(svc: Service, month: str, revision: int) -> dict[str, tuple[str, ...]]:
    rows = await svc.store.read(
        sa.select(bill_households).where(
            bill_households.c.month == month, bill_households.c.revision == revision
        )
    )
    return {r.household_id: (r.served_days, r.charge, r.subsidy, r.family_share) for r in rows}


async def test_a_run_stores_the_engines_result_and_repeats_it(billing: Service) -> None:
    await seed(billing)
    first = await run(billing, NOV)
    expected = compute(
        NOV,
        [CategoryFrom("H1", nov(1), "B"), CategoryFrom("H2", nov(16), "A")],
        [("H1", "C1", nov(d)) for d in range(1, 11)]
        + [("H1", "C2", nov(5))]
        + [("H2", "C2", nov(d)) for d in (16, 17, 18, 20)],
        DEFAULT_SCHEDULE,
    ).to_json_dict()
    assert (first["revision"], first["new_revision"]) == (1, True)
    assert first["totals"] == expected["totals"]
    assert first["households"] == 2 and first["caregivers"] == 2 and first["visits"] == 15
    stored = await households(billing, NOV, 1)
    assert stored == {
        h["household_id"]: (h["served_days"], h["charge"], h["subsidy"], h["family_share"])
        for h in expected["households"]
    }
    # H1: 10 served days of 30 -> charge 500.00, subsidy 200 x 10/30 = 66.67
    assert stored["H1"] == (10, "500.00", "66.67", "433.33")
    again = await run(billing, NOV)
    assert (again["revision"], again["new_revision"], again["fingerprint"]) == (
        1,
        False,
        first["fingerprint"],
    )
    assert len(await billing.store.read(sa.select(billing_revisions))) == 1
    runs = await billing.store.read(sa.select(billing_runs.c.status, billing_runs.c.revision))
    assert sorted(tuple(r) for r in runs) == [("completed", 1), ("completed", 1)]


async def test_late_corrections_make_a_new_revision_with_adjustments(billing: Service) -> None:
    await seed(billing)
    await run(billing, NOV)
    await apply(billing, handlers.record_visit, visit("H2", "C1", nov(25)))
    second = await run(billing, NOV)
    assert (second["revision"], second["new_revision"], second["adjustments"]) == (2, True, 2)
    lines = await billing.store.read(
        sa.select(bill_adjustments).where(bill_adjustments.c.revision == 2)
    )
    got = {(r.kind, r.party, r.party_id): (r.charge, r.subsidy, r.family_share) for r in lines}
    # H2 one more served day: charge 1500/30 = 50.00, subsidy 300/30 = 10.00; all to C1
    assert got == {
        ("revision", "household", "H2"): ("50.00", "10.00", "40.00"),
        ("revision", "caregiver", "C1"): ("50.00", "10.00", "40.00"),
    }
    assert (await households(billing, NOV, 1))["H2"][0] == 4  # revision 1 stays as it was
    assert (await households(billing, NOV, 2))["H2"][0] == 5


async def test_a_closed_month_is_never_rewritten_and_corrections_move_on(
    billing: Service,
) -> None:
    await seed(billing)
    await run(billing, NOV)
    await apply(billing, running.close_month, CloseMonth(month=NOV, closed_by="财务主管"))
    [closed] = await emitted(billing, subjects.MONTH_CLOSED)
    assert (closed["month"], closed["revision"]) == (NOV, 1)
    refused = await run(billing, NOV)
    assert "closed at revision 1" in refused["reason"] and "结账" in refused["reason_zh"]
    await apply(billing, running.close_month, CloseMonth(month=NOV, closed_by="财务主管"))
    assert "already closed" in (await emitted(billing, subjects.BILLING_RUN_REJECTED))[-1]["reason"]

    # A visit of November arrives late: December carries the correction, November stays.
    await apply(billing, handlers.record_visit, visit("H2", "C1", nov(25)))
    await apply(billing, handlers.record_visit, visit("H1", "C1", date(2026, 12, 1)))
    december = await run(billing, DEC)
    assert (december["revision"], december["corrections"]) == (1, 2)
    lines = await billing.store.read(
        sa.select(bill_adjustments).where(bill_adjustments.c.month == DEC)
    )
    assert {(r.kind, r.of_month, r.party_id, r.charge) for r in lines} == {
        ("correction", NOV, "H2", "50.00"),
        ("correction", NOV, "C1", "50.00"),
    }
    assert len(await households(billing, NOV, 1)) == 2
    assert (
        len(
            await billing.store.read(
                sa.select(bill_households).where(bill_households.c.month == NOV)
            )
        )
        == 2
    )
    # Once December is closed, the correction is settled: January does not carry it again.
    await apply(billing, running.close_month, CloseMonth(month=DEC, closed_by="财务主管"))
    january = await run(billing, "2027-01")
    assert january["corrections"] == 0


async def test_close_needs_a_run_and_no_run_under_way(billing: Service) -> None:
    await apply(billing, running.close_month, CloseMonth(month=NOV, closed_by="财务主管"))
    await apply(billing, running.request_run, RunBilling(month=NOV, requested_by="财务"))
    await apply(billing, running.close_month, CloseMonth(month=NOV, closed_by="财务主管"))
    reasons = [r["reason"] for r in await emitted(billing, subjects.BILLING_RUN_REJECTED)]
    assert "no billing run yet" in reasons[0] and "under way" in reasons[1]


async def test_of_two_workers_one_carries_out_a_run(billing: Service) -> None:
    await seed(billing)
    await apply(billing, running.request_run, RunBilling(month=NOV, requested_by="财务"))
    first = running.RunWorker(billing.store, DEFAULT_SCHEDULE, "a")
    second = running.RunWorker(billing.store, DEFAULT_SCHEDULE, "b")
    done = [await first.run_next(), await second.run_next()]
    assert done == [True, False]
    assert len(await emitted(billing, subjects.BILLING_RUN_STARTED)) == 1
    assert len(await emitted(billing, subjects.BILLING_RUN_COMPLETED)) == 1


async def test_over_the_bus_a_run_reports_progress_and_totals(
    system: System, client: BusClient
) -> None:
    progress: list[bytes] = []

    async def note(msg: Any) -> None:
        progress.append(msg.data)

    sub = await client.nc.subscribe(subjects.BILLING_PROGRESS_PATTERN.format(run_id="*"), cb=note)
    await client.send(subjects.HOUSEHOLD_REGISTERED, registered("H1", "B", nov(1)))
    await client.send_many(
        [(subjects.VISIT_COMPLETED, visit("H1", "C1", nov(d))) for d in range(1, 4)]
    )
    await client.send(subjects.VISIT_COMPLETED, visit("H1", "C1", nov(1)))  # redelivered: once

    async def counted() -> bool:
        summary = await client.ask(
            subjects.RPC_MONTH_SUMMARY, MonthSummaryQuery(month=NOV), MonthSummary
        )
        return summary.served_days == 3

    await eventually(counted, "billing to count the visits")
    answer, payload = await client.command(
        subjects.RUN_BILLING,
        RunBilling(month=NOV, requested_by="财务"),
        [subjects.BILLING_RUN_COMPLETED, subjects.BILLING_RUN_REJECTED],
        timeout=30,
    )
    assert answer == subjects.BILLING_RUN_COMPLETED
    assert payload["totals"] == {
        "charge": "150.00",
        "subsidy": "20.00",
        "family_share": "130.00",
        "pay": "150.00",
    }
    assert payload["visits"] == 3
    await sub.unsubscribe()
    assert progress, "no progress message"
    assert Decimal(payload["totals"]["subsidy"]) + Decimal(
        payload["totals"]["family_share"]
    ) == Decimal(payload["totals"]["charge"])


async def test_over_the_bus_revisions_closing_and_corrections_of_a_closed_month(
    system: System, client: BusClient
) -> None:
    """Over the real bus: a re-run with nothing new keeps its revision; a late visit gives
    revision 2 with adjustment lines; after closing, a late November visit is carried by
    December's first run as a correction, and November is refused."""
    answers = [subjects.BILLING_RUN_COMPLETED, subjects.BILLING_RUN_REJECTED]

    async def run_over_bus(month: str) -> tuple[str, dict[str, Any]]:
        return await client.command(
            subjects.RUN_BILLING, RunBilling(month=month, requested_by="财务"), answers, timeout=30
        )

    async def served(month: str, days: int) -> None:
        async def counted() -> bool:
            summary = await client.ask(
                subjects.RPC_MONTH_SUMMARY, MonthSummaryQuery(month=month), MonthSummary
            )
            return summary.served_days == days

        await eventually(counted, f"billing to count {days} served days in {month}")

    await client.send(subjects.HOUSEHOLD_REGISTERED, registered("H1", "B", nov(1)))
    await client.send_many(
        [(subjects.VISIT_COMPLETED, visit("H1", "C1", nov(d))) for d in range(1, 7)]
    )
    await served(NOV, 6)
    first = (await run_over_bus(NOV))[1]
    again = (await run_over_bus(NOV))[1]
    assert (first["revision"], again["revision"], again["new_revision"]) == (1, 1, False)
    assert again["fingerprint"] == first["fingerprint"]

    await client.send(subjects.VISIT_COMPLETED, visit("H1", "C2", nov(7)))  # late
    await served(NOV, 7)
    second = (await run_over_bus(NOV))[1]
    assert (second["revision"], second["new_revision"]) == (2, True)
    assert second["adjustments"] > 0
    assert second["totals"]["charge"] == "350.00"  # 7 of 30 days of 1500.00

    got, closed = await client.command(
        subjects.CLOSE_MONTH,
        CloseMonth(month=NOV, closed_by="财务主管"),
        [subjects.MONTH_CLOSED, subjects.BILLING_RUN_REJECTED],
        timeout=30,
    )
    assert (got, closed["revision"]) == (subjects.MONTH_CLOSED, 2)

    await client.send(subjects.VISIT_COMPLETED, visit("H1", "C1", nov(8)))  # after closing
    await served(NOV, 8)
    got, refused = await run_over_bus(NOV)
    assert got == subjects.BILLING_RUN_REJECTED and "closed at revision 2" in refused["reason"]
    got, december = await run_over_bus(DEC)
    assert got == subjects.BILLING_RUN_COMPLETED
    # household H1 and caregiver C1: one 50.00 correction each, November as closed
    assert (december["revision"], december["corrections"]) == (1, 2)
    assert december["totals"]["charge"] == "0.00"  # nothing served in December itself


async def homecare(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "homecare"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_run_and_close_from_the_command_line(
    system: System, client: BusClient, settings: Settings
) -> None:
    await client.send(subjects.HOUSEHOLD_REGISTERED, registered("H1", "A", nov(1)))
    await client.send_many(
        [(subjects.VISIT_COMPLETED, visit("H1", "C1", nov(d))) for d in range(1, 7)]
    )

    async def counted() -> bool:
        summary = await client.ask(
            subjects.RPC_MONTH_SUMMARY, MonthSummaryQuery(month=NOV), MonthSummary
        )
        return summary.served_days == 6

    await eventually(counted, "billing to count the visits")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMECARE_")}
    env["HOMECARE_NATS_URL"] = str(settings.nats_url)
    env["COLUMNS"] = "200"
    code, out, err = await homecare("billing", "run", "--month", NOV, "--by", "王会计", env=env)
    assert code == 0, err
    # 6 of 30 days: charge 300.00, subsidy 300 x 6/30 = 60.00
    assert "第 1 版" in out and "new revision" in out and "300.00" in out and "60.00" in out
    code, out, _ = await homecare("billing", "run", "--month", NOV, env=env)
    assert code == 0 and "unchanged" in out and "第 1 版" in out
    code, out, _ = await homecare("billing", "close", "--month", NOV, "--by", "主管", env=env)
    assert code == 0 and "closed 已结账" in out, out
    code, out, _ = await homecare("billing", "run", "--month", NOV, env=env)
    assert code == 1 and "已于第 1 版结账" in out
    code, _, err = await homecare("billing", "run", "--month", "2026-13", env=env)
    assert code == 2 and "month" in err


async def test_documents_of_a_revision(billing: Service, tmp_path: Path) -> None:
    """Statements, payslips, the claim summary (draft until closed) and the tables."""
    await seed(billing)
    await apply(
        billing,
        handlers.record_category,
        registered("H1", "B", nov(1)).model_copy(update={"name": "王秀英", "address": "五一路1号"}),
    )
    await apply(
        billing,
        handlers.record_caregiver,
        CaregiverRegistered(caregiver_id="C1", station_id="S1", name="李春梅"),
    )
    await run(billing, NOV)
    written = await write_documents(billing.store, NOV, tmp_path, DEFAULT_SCHEDULE, "沙河口区")
    assert (written.revision, written.closed, written.statements, written.payslips) == (
        1,
        False,
        2,
        2,
    )
    folder = tmp_path / NOV / "r1"
    statement = (folder / "statements" / "statement_2026-11_H1_r1.html").read_text("utf-8")
    assert "王秀英" in statement and "李春梅" in statement and "433.33" in statement
    assert (folder / "statements" / "statement_2026-11_H1_r1.pdf").read_bytes()[:4] == b"%PDF"
    assert (folder / "payslips" / "payslip_2026-11_C1_r1.pdf").exists()
    claims = sorted(p.name for p in folder.glob("claim_*"))
    assert len(claims) == 2 and all("draft" in name for name in claims)
    book = openpyxl.load_workbook(folder / "tables" / "billing_2026-11_r1.xlsx")
    households_sheet = book["households"]
    assert [c.value for c in households_sheet[1]] == [
        "household_id",
        "served_days",
        "charge",
        "subsidy",
        "family_share",
    ]
    assert households_sheet["C2"].value == 500  # H1's charge, a number
    csv_text = (folder / "tables" / "billing_2026-11_r1_caregivers.csv").read_text("utf-8-sig")
    assert csv_text.splitlines()[0] == "caregiver_id,days,government_part,family_part,pay"

    await apply(billing, running.close_month, CloseMonth(month=NOV, closed_by="财务主管"))
    closed = await write_documents(
        billing.store, NOV, tmp_path / "closed", DEFAULT_SCHEDULE, "沙河口区", statements=False
    )
    assert closed.closed and closed.statements == 0
    assert not any("draft" in p.name for p in (tmp_path / "closed" / NOV / "r1").glob("claim_*"))
    with pytest.raises(NoRevision):
        await write_documents(billing.store, DEC, tmp_path, DEFAULT_SCHEDULE, "沙河口区")
