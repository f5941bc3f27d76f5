"""Billing runs: run a month, its revisions, close it (version 1)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from contracts.envelope import Payload
from contracts.types import Month

Money = str  # decimal yuan with 2 places, e.g. "1500.00" (exact; never a float)


class RunBilling(Payload):
    """Command (finance): compute a month from what billing has seen. The same inputs give the
    same result and the same revision; changed inputs give a new revision with adjustment
    lines against the previous one. Refused for a closed month."""

    TYPE = "billing.RunBilling"
    month: Month
    requested_by: str = Field(min_length=1, max_length=80)


class CloseMonth(Payload):
    """Command (finance): close a month at its latest revision; it is never rewritten after,
    and later corrections go into the next month as adjustments."""

    TYPE = "billing.CloseMonth"
    month: Month
    closed_by: str = Field(min_length=1, max_length=80)


class BillingTotals(BaseModel):
    charge: Money
    subsidy: Money
    family_share: Money
    pay: Money


class BillingRunStarted(Payload):
    """Event: a run began (progress follows on ``homecare.progress.billing.<run_id>``)."""

    TYPE = "billing.BillingRunStarted"
    run_id: str
    month: Month
    requested_by: str


class BillingRunCompleted(Payload):
    """Event: a run finished; ``new_revision`` false when the inputs were unchanged (the
    result is the existing revision's)."""

    TYPE = "billing.BillingRunCompleted"
    run_id: str
    month: Month
    revision: int = Field(ge=1)
    new_revision: bool
    requested_by: str
    fingerprint: str = Field(description="sha256 of the run's inputs (categories, visits, policy)")
    households: int = Field(ge=0)
    caregivers: int = Field(ge=0)
    visits: int = Field(ge=0)
    totals: BillingTotals
    adjustments: int = Field(ge=0, description="Adjustment lines against the previous revision")
    corrections: int = Field(ge=0, description="Corrections of closed months carried in")
    warnings: int = Field(ge=0)


class BillingRunRejected(Payload):
    """Event: a run or close that cannot be done, with the reason (English and Chinese)."""

    TYPE = "billing.BillingRunRejected"
    month: Month
    reason: str
    reason_zh: str


class MonthClosed(Payload):
    TYPE = "billing.MonthClosed"
    month: Month
    revision: int = Field(ge=1)
    closed_by: str
    totals: BillingTotals


class BillingProgress(BaseModel):
    """Core NATS message (not stored) while a run computes."""

    run_id: str
    month: str
    done: int
    total: int
    stage: str
