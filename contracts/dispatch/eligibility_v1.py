"""Dispatch wire contracts for eligibility applications and their approval, version 1.

Flow: SubmitApplication -> ApplicationAssessed; the district officer's DecideApplication ->
ApplicationDecided (approved, refused, or notice for the B2 own-child-caregiver case) ->
CategoryApproved. A notice is posted for three days (NoticePosted); an ObjectToNotice sends the
application back to investigation (NoticeObjected); CloseNotices confirms the notices whose
third day has passed without objection (CategoryApproved).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from contracts.dispatch.application import Application
from contracts.dispatch.values import RoundEntry
from contracts.envelope import Payload
from contracts.money import Money
from contracts.types import Category, Id, Month


class SubmitApplication(Payload):
    """Command from the street: an application, assessed at once and queued for its round."""

    TYPE = "dispatch.SubmitApplication"
    application_id: Id
    form: Application
    child_caregiver_id: Id | None = Field(
        default=None,
        description="B2 case: the elder's own child chosen as caregiver (needs a public notice).",
    )
    submitted_by: str = Field(default="street", max_length=80)


class ApplicationAssessed(Payload):
    TYPE = "dispatch.ApplicationAssessed"
    application_id: Id
    household_id: Id
    round: Month
    category: Category | None
    rules: tuple[str, ...]
    monthly_subsidy: Money = Field(description="Yuan, 2 decimals, as a string on the wire.")


class DecideApplication(Payload):
    """Command from the district officer."""

    TYPE = "dispatch.DecideApplication"
    application_id: Id
    approve: bool
    decided_by: str = Field(min_length=1, max_length=80)
    reason: str | None = Field(default=None, max_length=500, description="Required to refuse.")


class ApplicationDecided(Payload):
    TYPE = "dispatch.ApplicationDecided"
    application_id: Id
    household_id: Id
    round: Month
    outcome: Literal["approved", "refused", "notice"]
    category: Category | None
    decided_by: str
    reason: str | None = None


class NoticePosted(Payload):
    """The 3-day public notice (张榜公布3天) of a B2 own-child caregiver."""

    TYPE = "dispatch.NoticePosted"
    application_id: Id
    household_id: Id
    child_caregiver_id: Id
    posted_on: date
    last_day: date


class ObjectToNotice(Payload):
    TYPE = "dispatch.ObjectToNotice"
    application_id: Id
    objection: str = Field(min_length=1, max_length=1000)
    raised_by: str = Field(default="resident", max_length=80)


class NoticeObjected(Payload):
    TYPE = "dispatch.NoticeObjected"
    application_id: Id
    household_id: Id
    objection: str


class CloseNotices(Payload):
    """Command (daily): confirm every notice whose last day ended before ``on``."""

    TYPE = "dispatch.CloseNotices"
    on: date


class CategoryApproved(Payload):
    """Event: the household's category from ``effective_from`` (the round's first day)."""

    TYPE = "dispatch.CategoryApproved"
    application_id: Id
    household_id: Id
    category: Category | None
    monthly_subsidy: Money
    effective_from: date
    child_caregiver_id: Id | None = None


class RoundQuery(Payload):
    """Request (rpc): the applications of a monthly round (received day 1-9 of the month or
    from the 10th of the month before)."""

    TYPE = "dispatch.RoundQuery"
    round: Month


class RoundApplications(BaseModel):
    """Reply to RoundQuery, in the order the applications were received."""

    round: str
    applications: list[RoundEntry]
