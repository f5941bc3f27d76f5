"""Billing wire contracts, version 1."""

from __future__ import annotations

from pydantic import BaseModel, Field

from contracts.envelope import Payload
from contracts.types import Month


class MonthSummaryQuery(Payload):
    """Request (rpc): served days counted so far for a month."""

    TYPE = "billing.MonthSummaryQuery"
    month: Month


class MonthSummary(BaseModel):
    """Reply to MonthSummaryQuery."""

    month: str
    households_served: int = Field(ge=0)
    served_days: int = Field(ge=0, description="Household-days with at least one completed visit.")
    visits: int = Field(ge=0, description="Completed visits counted (each once).")
    caregivers: int = Field(ge=0)
    unenrolled_visits: int = Field(
        ge=0, description="Visits on days the household was not enrolled."
    )
    served_days_by_category: dict[str, int]
