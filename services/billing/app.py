"""Billing composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts import subjects
from contracts.billing.queries_v1 import (
    BillingRunsList,
    BillingRunsQuery,
    DocumentQuery,
    DocumentReply,
)
from contracts.billing.runs_v1 import (
    BillingRunCompleted,
    BillingRunRejected,
    BillingRunStarted,
    CloseMonth,
    MonthClosed,
    RunBilling,
)
from contracts.billing.v1 import MonthSummary, MonthSummaryQuery
from contracts.dispatch.eligibility_v1 import CategoryApproved
from contracts.dispatch.v1 import CaregiverRegistered, HouseholdRegistered
from contracts.envelope import Envelope
from contracts.scheduling.v1 import VisitCompleted
from services.billing import handlers, queries, running
from services.billing.engine import PolicySchedule
from services.billing.policy_file import PolicyFileError, load_policy_schedule
from services.billing.store import metadata, plumbing
from services.infra.clock import Clock
from services.infra.runtime import Service
from services.infra.settings import Settings

NAME = "billing"


def policy_schedule(settings: Settings) -> PolicySchedule:
    """The monthly fee and subsidy table by effective date: the deployment's policy file,
    else domain.md §6's defaults. A file that cannot be used stops the start with what is
    wrong."""
    try:
        return load_policy_schedule(settings.billing_policy_file)
    except PolicyFileError as exc:
        raise ValueError(
            f"HOMECARE_BILLING_POLICY_FILE {settings.billing_policy_file}: {exc}"
        ) from exc


def build(settings: Settings, clock: Clock) -> Service:
    svc = Service(NAME, settings, clock, metadata, plumbing, Path(__file__).parent / "migrations")
    svc.consume(
        subjects.HOUSEHOLD_REGISTERED,
        HouseholdRegistered,
        svc.once("on_household_registered", handlers.record_category),
        durable="on_household_registered",
        description="Project household categories",
    )
    svc.consume(
        subjects.CAREGIVER_REGISTERED,
        CaregiverRegistered,
        svc.once("on_caregiver_registered", handlers.record_caregiver),
        durable="on_caregiver_registered",
        description="Caregivers' names for payslips",
    )
    svc.consume(
        subjects.CATEGORY_APPROVED,
        CategoryApproved,
        svc.once("on_category_approved", handlers.record_approved_category),
        durable="on_category_approved",
        description="Categories approved by the district office, from their round",
    )
    svc.consume(
        subjects.VISIT_COMPLETED,
        VisitCompleted,
        svc.once("on_visit_completed", handlers.record_visit),
        durable="on_visit_completed",
        description="Count each completed visit once",
    )

    svc.consume(
        subjects.RUN_BILLING,
        RunBilling,
        svc.once("run_billing", running.request_run),
        durable="run_billing",
        description="Finance asks for a month's billing run (carried out by the run worker)",
    )
    svc.consume(
        subjects.CLOSE_MONTH,
        CloseMonth,
        svc.once("close_month", running.close_month),
        durable="close_month",
        description="Close a month at its latest revision",
    )
    schedule = policy_schedule(settings)
    svc.background(running.RunWorker(svc.store, schedule, svc.instance, svc.publish_core))
    for subject, event, summary_text in (
        (subjects.BILLING_RUN_STARTED, BillingRunStarted, "A billing run began"),
        (
            subjects.BILLING_RUN_COMPLETED,
            BillingRunCompleted,
            "A billing run's revision and totals",
        ),
        (subjects.BILLING_RUN_REJECTED, BillingRunRejected, "A run or close refused, with why"),
        (subjects.MONTH_CLOSED, MonthClosed, "A month closed; never rewritten after"),
    ):
        svc.emits(subject, event, summary_text)

    async def summary(message: Envelope[Any]) -> MonthSummary:
        return await handlers.month_summary(svc.store, message.payload.month)

    svc.rpc(
        subjects.RPC_MONTH_SUMMARY,
        MonthSummaryQuery,
        MonthSummary,
        summary,
        "Served days counted so far for a month",
    )

    async def runs(message: Envelope[Any]) -> BillingRunsList:
        return await queries.billing_runs_list(svc.store, message.payload)

    svc.rpc(
        subjects.RPC_BILLING_RUNS,
        BillingRunsQuery,
        BillingRunsList,
        runs,
        "Billing runs, newest first, with their revisions' totals and whether months are closed",
    )

    async def document(message: Envelope[Any]) -> DocumentReply:
        return await queries.document(svc.store, schedule, settings.district, message.payload)

    svc.rpc(
        subjects.RPC_BILLING_DOCUMENT,
        DocumentQuery,
        DocumentReply,
        document,
        "One document of a revision (statement, payslip, claim summary, table), base64",
    )
    return svc
