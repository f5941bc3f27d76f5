"""Finance's console queries answered by billing (SQLite and PostgreSQL): the runs with their
revisions' totals and months' closing, and one document of a revision made in memory (PDF,
HTML, CSV, XLSX), or found=false with the reason in English and Chinese. On the service and
over the real bus."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import eventually
from pypdf import PdfReader
from scheduling_helpers import apply
from test_billing_runs import DEC, NOV, nov, registered, run, seed, visit

from contracts import subjects
from contracts.billing.queries_v1 import (
    MAX_CONTENT_BASE64,
    BillingRunsList,
    BillingRunsQuery,
    DocumentQuery,
    DocumentReply,
)
from contracts.billing.runs_v1 import CloseMonth, RunBilling
from contracts.billing.v1 import MonthSummary, MonthSummaryQuery
from contracts.dispatch.v1 import CaregiverRegistered
from contracts.envelope import headers_for
from services.billing import app as billing_app
from services.billing import handlers, queries, running
from services.billing.engine import DEFAULT_SCHEDULE
from services.client import BusClient
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.system import System

DISTRICT = "沙河口区"


@pytest.fixture
async def billing_db(settings: Settings, clock: SimulatedClock) -> AsyncIterator[Service]:
    """Billing's database, migrated; its use cases and queries called directly."""
    svc = billing_app.build(settings, clock)
    await svc.migrate()
    try:
        yield svc
    finally:
        await svc.engine.dispose()


async def named_month(svc: Service) -> None:
    """seed() with names: H1 王秀英 (B, 10 served days: 500.00, subsidy 66.67, family 433.33),
    caregiver C1 李春梅."""
    await seed(svc)
    await apply(
        svc,
        handlers.record_category,
        registered("H1", "B", nov(1)).model_copy(update={"name": "王秀英", "address": "五一路1号"}),
    )
    await apply(
        svc,
        handlers.record_caregiver,
        CaregiverRegistered(caregiver_id="C1", station_id="S1", name="李春梅"),
    )


async def ask_document(svc: Service, **query: object) -> DocumentReply:
    return await queries.document(
        svc.store, DEFAULT_SCHEDULE, DISTRICT, DocumentQuery.model_validate(query)
    )


def content(reply: DocumentReply) -> bytes:
    assert reply.found, reply.reason
    assert reply.content_base64 is not None
    body = base64.b64decode(reply.content_base64, validate=True)
    assert len(body) == reply.size
    return body


def pdf_text(body: bytes) -> str:
    assert body[:5] == b"%PDF-"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


# -- runs -------------------------------------------------------------------------------------


async def test_runs_newest_first_with_totals_revisions_and_closing(
    billing_db: Service, clock: SimulatedClock
) -> None:
    await seed(billing_db)
    first = await run(billing_db, NOV, "王会计")
    clock.advance(timedelta(minutes=5))
    again = await run(billing_db, NOV)  # nothing new: the same revision
    clock.advance(timedelta(minutes=5))
    await apply(billing_db, handlers.record_visit, visit("H2", "C1", nov(25)))
    second = await run(billing_db, NOV)
    clock.advance(timedelta(minutes=5))
    await apply(billing_db, running.close_month, CloseMonth(month=NOV, closed_by="财务主管"))
    clock.advance(timedelta(minutes=5))
    await apply(billing_db, running.request_run, RunBilling(month=DEC, requested_by="财务"))

    listed = await queries.billing_runs_list(billing_db.store, BillingRunsQuery(month=NOV))
    assert listed.month == NOV
    assert [(r.run_id, r.state, r.revision, r.new_revision) for r in listed.runs] == [
        (second["run_id"], "completed", 2, True),
        (again["run_id"], "completed", 1, False),
        (first["run_id"], "completed", 1, True),
    ]
    newest, _, oldest = listed.runs
    assert oldest.requested_by == "王会计" and oldest.fingerprint == first["fingerprint"]
    assert oldest.requested_at.utcoffset() == timedelta(hours=8)  # the service's zone
    assert oldest.finished_at is not None and oldest.finished_at >= oldest.requested_at
    assert newest.totals is not None
    assert newest.totals.charge == Decimal(second["totals"]["charge"])
    assert oldest.totals is not None and oldest.totals.family_share == Decimal(
        first["totals"]["family_share"]
    )
    [month] = listed.months
    assert (month.month, month.closed, month.closed_revision, month.latest_revision) == (
        NOV,
        True,
        2,
        2,
    )
    assert month.closed_by == "财务主管" and month.closed_at is not None
    assert [(r.revision, r.run_id, r.households, r.visits) for r in month.revisions] == [
        (1, first["run_id"], 2, 15),
        (2, second["run_id"], 2, 16),
    ]
    assert month.revisions[1].adjustments == 2
    # on the wire money is a string with 2 decimals, never a number
    wire = json.loads(listed.model_dump_json())
    assert wire["runs"][2]["totals"] == first["totals"]
    assert wire["months"][0]["revisions"][0]["totals"]["subsidy"] == first["totals"]["subsidy"]
    assert BillingRunsList.model_validate(wire) == listed

    everything = await queries.billing_runs_list(billing_db.store, BillingRunsQuery(limit=2))
    assert everything.month is None
    assert [(r.month, r.state, r.revision, r.totals) for r in everything.runs] == [
        (DEC, "requested", None, None),
        (NOV, "completed", 2, newest.totals),
    ]
    assert [(m.month, m.closed, m.latest_revision) for m in everything.months] == [
        (DEC, False, None),
        (NOV, True, 2),
    ]


async def test_runs_of_a_month_without_any(billing_db: Service) -> None:
    listed = await queries.billing_runs_list(billing_db.store, BillingRunsQuery(month="2027-01"))
    assert listed.runs == []
    [month] = listed.months
    assert (month.month, month.closed, month.latest_revision, month.revisions) == (
        "2027-01",
        False,
        None,
        [],
    )
    nothing = await queries.billing_runs_list(billing_db.store, BillingRunsQuery())
    assert (nothing.runs, nothing.months) == ([], [])


# -- documents --------------------------------------------------------------------------------


async def test_a_statement_and_a_payslip_made_in_memory(
    billing_db: Service, settings: Settings
) -> None:
    await named_month(billing_db)
    await run(billing_db, NOV)

    reply = await ask_document(billing_db, month=NOV, kind="statement", party_id="H1")
    assert (reply.revision, reply.closed) == (1, False)
    assert (reply.file_name, reply.media_type) == ("statement_2026-11_H1_r1.pdf", "application/pdf")
    text = pdf_text(content(reply))
    for shown in ("王秀英", "李春梅", "500.00", "66.67", "433.33", "五一路1号"):
        assert shown in text, shown

    html = await ask_document(billing_db, month=NOV, kind="statement", party_id="H1", format="html")
    assert html.media_type == "text/html; charset=utf-8"
    page = content(html).decode("utf-8")
    assert "王秀英" in page and "433.33" in page and "李春梅" in page

    payslip = await ask_document(billing_db, month=NOV, kind="payslip", party_id="C1")
    assert payslip.file_name == "payslip_2026-11_C1_r1.pdf"
    slip = pdf_text(content(payslip))
    assert "李春梅" in slip and "王秀英" in slip  # the households it served, by name
    # nothing is written for a download: no documents folder under var
    assert not (Path(settings.var_dir) / "billing").exists()


async def test_the_claim_and_the_tables(billing_db: Service) -> None:
    await named_month(billing_db)
    await run(billing_db, NOV)

    draft = await ask_document(billing_db, month=NOV, kind="claim", format="html")
    assert draft.file_name is not None and draft.file_name.endswith("_r1_draft.html")
    assert DISTRICT in content(draft).decode("utf-8")

    caregivers = await ask_document(
        billing_db, month=NOV, kind="table", party_id="caregivers", format="csv"
    )
    assert caregivers.file_name == "billing_2026-11_r1_caregivers.csv"
    assert caregivers.media_type == "text/csv; charset=utf-8"
    lines = content(caregivers).decode("utf-8-sig").splitlines()
    assert lines[0] == "caregiver_id,days,government_part,family_part,pay"
    assert len(lines) == 3

    book = await ask_document(billing_db, month=NOV, kind="table", format="xlsx")
    assert book.file_name == "billing_2026-11_r1.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(content(book)))
    assert workbook.sheetnames == ["households", "shares", "caregivers", "adjustments"]
    assert workbook["households"]["C2"].value == 500  # H1's charge, a number

    one = await ask_document(
        billing_db, month=NOV, kind="table", party_id="households", format="xlsx"
    )
    assert one.file_name == "billing_2026-11_r1_households.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(content(one))).sheetnames == ["households"]

    await apply(billing_db, running.close_month, CloseMonth(month=NOV, closed_by="财务主管"))
    final = await ask_document(billing_db, month=NOV, kind="claim")
    assert final.closed and final.file_name == f"claim_2026-11_{DISTRICT}_r1.pdf"
    assert DISTRICT in pdf_text(content(final))


async def test_an_earlier_revision_keeps_its_amounts(billing_db: Service) -> None:
    await named_month(billing_db)
    await run(billing_db, NOV)
    await apply(billing_db, handlers.record_visit, visit("H1", "C1", nov(20)))
    await run(billing_db, NOV)
    latest = await ask_document(billing_db, month=NOV, kind="statement", party_id="H1")
    earlier = await ask_document(billing_db, month=NOV, revision=1, kind="statement", party_id="H1")
    assert (latest.revision, earlier.revision) == (2, 1)
    # 11 served days: 1500.00 x 11/30 = 550.00, subsidy 200 x 11/30 = 73.33
    assert "476.67" in pdf_text(content(latest))
    assert "433.33" in pdf_text(content(earlier))


async def test_what_is_not_there_is_found_false_with_a_reason(billing_db: Service) -> None:
    async def refused(**query: object) -> DocumentReply:
        reply = await ask_document(billing_db, **query)
        assert not reply.found and reply.content_base64 is None and reply.file_name is None
        assert reply.reason and reply.reason_zh
        return reply

    empty = await refused(month=NOV, kind="claim")
    assert "no billing run" in (empty.reason or "") and "尚无结算" in (empty.reason_zh or "")

    await named_month(billing_db)
    await run(billing_db, NOV)
    no_revision = await refused(month=NOV, revision=3, kind="statement", party_id="H1")
    assert "revision 3 of 2026-11" in (no_revision.reason or "")
    assert "第 3 版" in (no_revision.reason_zh or "")
    await refused(month=DEC, kind="table", format="xlsx")
    household = await refused(month=NOV, kind="statement", party_id="H9")
    assert "household H9" in (household.reason or "") and "H9" in (household.reason_zh or "")
    caregiver = await refused(month=NOV, kind="payslip", party_id="C9", format="html")
    assert "caregiver C9" in (caregiver.reason or "") and "养护员" in (caregiver.reason_zh or "")
    table = await refused(month=NOV, kind="table", party_id="visits", format="csv")
    assert "households, shares, caregivers, adjustments" in (table.reason or "")
    await refused(month=NOV, kind="table", format="csv")  # a CSV is one table: which?
    await refused(month=NOV, kind="statement")  # whose?
    wrong = await refused(month=NOV, kind="statement", party_id="H1", format="xlsx")
    assert "pdf or html" in (wrong.reason or "")
    await refused(month=NOV, kind="claim", format="csv")


async def test_a_document_too_large_for_the_bus_is_refused(
    billing_db: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    await named_month(billing_db)
    await run(billing_db, NOV)
    assert queries.MAX_DOCUMENT_BYTES * 4 // 3 <= MAX_CONTENT_BASE64
    monkeypatch.setattr(queries, "MAX_DOCUMENT_BYTES", 60)
    for query in (
        {"kind": "statement", "party_id": "H1"},
        {"kind": "table", "party_id": "shares", "format": "csv"},
    ):
        reply = await ask_document(billing_db, month=NOV, **query)
        assert not reply.found and reply.content_base64 is None
        assert "too large" in (reply.reason or "") and "homecare billing documents" in (
            reply.reason or ""
        )
        assert "字节" in (reply.reason_zh or "")


# -- over the bus -----------------------------------------------------------------------------


async def test_over_the_bus_runs_and_a_statement_pdf(system: System, client: BusClient) -> None:
    await client.send(
        subjects.HOUSEHOLD_REGISTERED,
        registered("H1", "B", nov(1)).model_copy(update={"name": "王秀英"}),
    )
    await client.send_many(
        [(subjects.VISIT_COMPLETED, visit("H1", "C1", nov(d))) for d in range(1, 4)]
    )

    async def counted() -> bool:
        summary = await client.ask(
            subjects.RPC_MONTH_SUMMARY, MonthSummaryQuery(month=NOV), MonthSummary
        )
        return summary.served_days == 3

    await eventually(counted, "billing to count the visits")
    answer, completed = await client.command(
        subjects.RUN_BILLING,
        RunBilling(month=NOV, requested_by="财务"),
        [subjects.BILLING_RUN_COMPLETED, subjects.BILLING_RUN_REJECTED],
        timeout=30,
    )
    assert answer == subjects.BILLING_RUN_COMPLETED

    # the reply as it travels: money as strings with 2 decimals
    query = client.envelope(BillingRunsQuery(month=NOV))
    raw = await client.nc.request(
        subjects.RPC_BILLING_RUNS, query.to_json(), timeout=5, headers=headers_for(query)
    )
    wire = json.loads(raw.data)
    [line] = wire["runs"]
    assert (line["run_id"], line["state"], line["revision"]) == (
        completed["run_id"],
        "completed",
        1,
    )
    # 3 of 30 days of B: charge 150.00, subsidy 20.00
    assert line["totals"] == {
        "charge": "150.00",
        "subsidy": "20.00",
        "family_share": "130.00",
        "pay": "150.00",
    }
    listed = await client.ask(
        subjects.RPC_BILLING_RUNS, BillingRunsQuery(month=NOV), BillingRunsList
    )
    assert listed.months[0].closed is False and listed.months[0].latest_revision == 1

    reply = await client.ask(
        subjects.RPC_BILLING_DOCUMENT,
        DocumentQuery(month=NOV, kind="statement", party_id="H1", format="pdf"),
        DocumentReply,
        timeout=15,
    )
    assert reply.file_name == "statement_2026-11_H1_r1.pdf"
    text = pdf_text(content(reply))
    assert "王秀英" in text and "150.00" in text and "130.00" in text

    missing = await client.ask(
        subjects.RPC_BILLING_DOCUMENT,
        DocumentQuery(month=DEC, kind="claim"),
        DocumentReply,
        timeout=15,
    )
    assert not missing.found and "2026-12" in (missing.reason or "")
    assert "尚无结算" in (missing.reason_zh or "")
