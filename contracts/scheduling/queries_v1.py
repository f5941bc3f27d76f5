"""Read queries scheduling answers for the station's console (request/reply, not stored),
version 1: leave requests, diaries and ledgers, and the month's appraisal inputs.

A reply is kept under NATS's 1 MB message limit: lines that would not fit are left off and
``truncated`` says so (ask again for fewer days, one household or one station)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from contracts.envelope import Payload
from contracts.money import Money
from contracts.scheduling.diary_v1 import Appetite, HealthSign, LedgerKind, Mood
from contracts.types import Id, Month

LeaveStatus = Literal["pending", "approved", "rejected"]
MAX_DIARY_DAYS = 93  # one query covers at most a quarter
TRUNCATED = "Some lines were left off to keep the reply under the message size limit"


# -- leave ---------------------------------------------------------------------------------


class LeaveQuery(Payload):
    """Request (rpc): caregivers' leave requests, newest first; of one station (the
    caregiver's, from their assignments) or all, with one status or any."""

    TYPE = "scheduling.LeaveQuery"
    station_id: Id | None = None
    status: LeaveStatus | None = None


class SubstituteLine(BaseModel):
    """A substitute dispatch assigned to cover one household during the leave."""

    household_id: str
    caregiver_id: str = Field(description="The substitute")
    first_day: date
    last_day: date
    preferred_caregiver_id: str | None = Field(
        default=None, description="The substitute the station chose, if it chose one"
    )
    preference_reason: str | None = Field(
        default=None, description="Why dispatch did not take the station's choice"
    )


class LeaveLine(BaseModel):
    leave_id: str
    caregiver_id: str
    station_id: str | None = Field(
        description="The caregiver's station (from their assignments); None: no assignment"
    )
    first_day: date
    last_day: date
    reason: str
    status: LeaveStatus
    decided_by: str | None = None
    decision_reason: str | None = None
    households: int = Field(ge=0, description="Households the caregiver serves (active)")
    affected_shifts: int = Field(
        ge=0,
        description="Visits the caregiver is due to make on the leave's days: each active "
        "household's days from its start, paused days excepted",
    )
    substitutes: list[SubstituteLine] = Field(
        description="Substitutes assigned so far (none while pending or not yet found)"
    )


class LeaveList(BaseModel):
    """Reply to LeaveQuery, newest first (first day, then caregiver and leave id)."""

    station_id: str | None
    status: LeaveStatus | None
    leaves: list[LeaveLine]
    truncated: bool = Field(default=False, description=TRUNCATED)


# -- diaries and ledgers -------------------------------------------------------------------


class DiariesQuery(Payload):
    """Request (rpc): the diaries and ledger entries of ``date_from`` to ``date_to`` (both
    included, at most 93 days), of one station or all, one household or all, for review."""

    TYPE = "scheduling.DiariesQuery"
    station_id: Id | None = None
    date_from: date
    date_to: date
    household_id: Id | None = None

    @model_validator(mode="after")
    def _span(self) -> DiariesQuery:
        if self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")
        if self.date_to - self.date_from >= timedelta(days=MAX_DIARY_DAYS):
            raise ValueError(f"at most {MAX_DIARY_DAYS} days at once")
        return self


class DiaryWarning(BaseModel):
    """The warning the diary raises for the family doctor and the station (HealthWarning)."""

    signs: tuple[str, ...]
    reason: str
    reason_zh: str


class DiaryLine(BaseModel):
    """One day's diary for a household, as the caregiver recorded it (RecordDiary)."""

    household_id: str
    caregiver_id: str
    station_id: str | None = Field(description="The household's station; None: not known")
    date: date
    tasks: tuple[str, ...]
    appetite: Appetite
    mood: Mood
    health_signs: tuple[HealthSign, ...]
    notes: str
    recorded_at: datetime
    warning: DiaryWarning | None = Field(
        default=None,
        description="Warning signs: urgent signs reported, or no appetite for three days",
    )


class LedgerLine(BaseModel):
    """A ledger entry and the household's cash the caregiver holds after it."""

    entry_id: str
    household_id: str
    caregiver_id: str
    date: date
    kind: LedgerKind
    amount: Money
    description: str
    balance: Money = Field(description="Held for the household after this entry")


class LedgerBalance(BaseModel):
    """A household's cash held by its caregiver over the period's entries."""

    household_id: str
    caregiver_id: str = Field(description="Who made the period's last entry")
    opening: Money = Field(description="Held before the period's first entry")
    closing: Money = Field(description="Held after the period's last entry")
    entries: int = Field(ge=1)


class DiariesList(BaseModel):
    """Reply to DiariesQuery: diaries newest first (date, then household); ledger entries by
    household in the order recorded; one balance per household with entries."""

    station_id: str | None
    household_id: str | None
    date_from: date
    date_to: date
    diaries: list[DiaryLine]
    ledger: list[LedgerLine]
    balances: list[LedgerBalance]
    truncated: bool = Field(default=False, description=TRUNCATED)


# -- appraisal -----------------------------------------------------------------------------


class AppraisalsQuery(Payload):
    """Request (rpc): each caregiver's appraisal inputs recorded so far for a month, and the
    score when the month has been appraised; of one station (the caregiver's, from their
    assignments) or all."""

    TYPE = "scheduling.AppraisalsQuery"
    month: Month
    station_id: Id | None = None


class SatisfactionEntry(BaseModel):
    """The elder's rating of the caregiver for the month, as the station recorded it
    (RecordSatisfaction)."""

    household_id: str
    score: int = Field(ge=1, le=5)
    recorded_by: str


class ComplaintEntry(BaseModel):
    """A complaint about the caregiver (RecordComplaint)."""

    complaint_id: str
    household_id: str
    date: date
    text: str
    recorded_by: str


class AppraisalScore(BaseModel):
    """The month's appraisal as it was made (CaregiverAppraised)."""

    score: float = Field(ge=0, le=100)
    satisfaction: float | None
    diary_completeness: float = Field(ge=0, le=1)
    punctuality: float = Field(ge=0, le=1)
    complaints: int = Field(ge=0)
    visits: int = Field(ge=0)


class AppraisalLine(BaseModel):
    """A caregiver's month: the inputs recorded so far, the score they give now, and the
    appraisal when the month has been appraised."""

    caregiver_id: str
    station_id: str | None = Field(
        description="The caregiver's station (from their assignments); None: no assignment"
    )
    satisfaction: list[SatisfactionEntry]
    complaints: list[ComplaintEntry]
    visits: int = Field(ge=0, description="Completed visits in the month")
    satisfaction_average: float | None = Field(description="None: no rating yet")
    diary_completeness: float = Field(
        ge=0, le=1, description="Visits with a diary that day (1 without visits)"
    )
    punctuality: float = Field(
        ge=0, le=1, description="Visits checked in on time (1 without visits)"
    )
    provisional_score: float = Field(
        ge=0, le=100, description="The score these inputs give (the appraisal's rules)"
    )
    appraisal: AppraisalScore | None = Field(description="None: the month is not appraised yet")


class AppraisalsList(BaseModel):
    """Reply to AppraisalsQuery, by caregiver."""

    month: str
    station_id: str | None
    caregivers: list[AppraisalLine]
    truncated: bool = Field(default=False, description=TRUNCATED)
