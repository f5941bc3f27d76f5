"""Billing composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts import subjects
from contracts.billing.v1 import MonthSummary, MonthSummaryQuery
from contracts.dispatch.eligibility_v1 import CategoryApproved
from contracts.dispatch.v1 import HouseholdRegistered
from contracts.envelope import Envelope
from contracts.scheduling.v1 import VisitCompleted
from services.billing import handlers
from services.billing.store import metadata, plumbing
from services.infra.clock import Clock
from services.infra.runtime import Service
from services.infra.settings import Settings

NAME = "billing"


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

    async def summary(message: Envelope[Any]) -> MonthSummary:
        return await handlers.month_summary(svc.store, message.payload.month)

    svc.rpc(
        subjects.RPC_MONTH_SUMMARY,
        MonthSummaryQuery,
        MonthSummary,
        summary,
        "Served days counted so far for a month",
    )
    return svc
