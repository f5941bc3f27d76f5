"""Caregivers' monthly appraisal (scheduling), version 1."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from contracts.envelope import Payload
from contracts.types import Id, Month, Ref


class RecordSatisfaction(Payload):
    """Command (station): the elder's satisfaction with their caregiver for a month, 1 to 5."""

    TYPE = "scheduling.RecordSatisfaction"
    household_id: Id
    caregiver_id: Id
    month: Month
    score: int = Field(ge=1, le=5)
    recorded_by: str = Field(min_length=1, max_length=80)


class RecordComplaint(Payload):
    """Command (station): a complaint about a caregiver."""

    TYPE = "scheduling.RecordComplaint"
    complaint_id: Ref
    household_id: Id
    caregiver_id: Id
    date: date
    text: str = Field(min_length=1, max_length=1000)
    recorded_by: str = Field(min_length=1, max_length=80)


class AppraiseMonth(Payload):
    """Command: appraise every caregiver for a month (also run on the 1st for the month past)."""

    TYPE = "scheduling.AppraiseMonth"
    month: Month


class CaregiverAppraised(Payload):
    """Event: a caregiver's monthly score (0-100) and what it is made of."""

    TYPE = "scheduling.CaregiverAppraised"
    caregiver_id: Id
    month: Month
    score: float = Field(ge=0, le=100)
    satisfaction: float | None = Field(ge=1, le=5, description="Average rating, None: none given")
    diary_completeness: float = Field(ge=0, le=1)
    punctuality: float = Field(ge=0, le=1)
    complaints: int = Field(ge=0)
    visits: int = Field(ge=0)


class AppraisalBelowThreshold(Payload):
    """Event for the station: a monthly score under the configured threshold."""

    TYPE = "scheduling.AppraisalBelowThreshold"
    caregiver_id: Id
    month: Month
    score: float
    threshold: float


class QuarterReviewed(Payload):
    """Event: the quarterly review from the quarter's monthly scores."""

    TYPE = "scheduling.QuarterReviewed"
    caregiver_id: Id
    quarter: str = Field(pattern=r"^[0-9]{4}-Q[1-4]$")
    score: float = Field(ge=0, le=100)
    months: dict[str, float]
