"""Dispatch request/reply queries for the station manager's console, version 1.

Answered by dispatch from its own database over core NATS request/reply (not stored):
the open care requests with their ranked shortlists (OpenRequestsQuery -> OpenRequests),
the caregivers' roster with their certificates (RosterQuery -> Roster) and the households
with their current caregiver (HouseholdsQuery -> HouseholdsList). Each query covers one
station, or every station when ``station_id`` is null. For the district officer: the public
notices of a monthly round with their objections (RoundNoticesQuery -> RoundNotices).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from contracts.dispatch.values import Candidate
from contracts.envelope import Payload
from contracts.types import Category, CertificateModule, Id, Month, Sex, VisitWindow


class OpenRequestsQuery(Payload):
    """Request (rpc): care requests not yet answered by an assignment or an unmet outcome."""

    TYPE = "dispatch.OpenRequestsQuery"
    station_id: Id | None = Field(default=None, description="One station; null: every station.")


class OpenRequest(BaseModel):
    """One open care request, with the shortlist proposed for it (if any)."""

    request_id: str
    household_id: str
    household_name: str
    address: str
    station_id: str
    street: str
    start_date: date
    mode: str | None = Field(
        description="shortlist: waits for the station manager's ConfirmAssignment; batch: "
        "waits for the street's AssignStreet (no shortlist).",
        examples=["shortlist"],
    )
    requested_at: datetime = Field(description="When dispatch received the request.")
    proposed_at: datetime | None = Field(
        default=None, description="When the shortlist was proposed; null: no shortlist."
    )
    candidates: list[Candidate] = Field(
        default_factory=list,
        description="The ranked shortlist in rank order, each score with its components and "
        "their reasons (as in ShortlistProposed).",
    )
    blocked: dict[str, int] = Field(
        default_factory=dict,
        description="Caregivers ruled out when the shortlist was proposed, counted by hard "
        "constraint (empty for shortlists proposed before the counts were kept).",
    )


class OpenRequests(BaseModel):
    """Reply to OpenRequestsQuery, ordered by start date, then arrival, then request id."""

    station_id: str | None
    requests: list[OpenRequest]


class RosterQuery(Payload):
    """Request (rpc): the caregivers, with certificates expiring within
    ``expiring_within_days`` of ``on`` flagged. ``on`` is the asker's date (the console's
    clock): the answer never depends on the responder's wall clock."""

    TYPE = "dispatch.RosterQuery"
    on: date = Field(description="The day days_left and the flags are counted from.")
    station_id: Id | None = Field(default=None, description="One station; null: every station.")
    expiring_within_days: int = Field(default=30, ge=0, le=366)


class CertificateStatus(BaseModel):
    """One training certificate as registered, with its standing on the query's day. A
    certificate is valid through its expiry date."""

    module: CertificateModule
    expires_on: date
    days_left: int = Field(description="Days from the query's ``on`` to expires_on; < 0: expired.")
    expired: bool
    expiring: bool = Field(description="Still valid but expires within the query's window.")


class RosterEntry(BaseModel):
    caregiver_id: str
    name: str
    station_id: str
    street: str
    sex: Sex
    active: bool
    capacity: int
    assignments: int = Field(description="Households served now (active assignments).")
    substitute_duties: int = Field(description="Substitute duties covering the query's day.")
    on_leave: bool = Field(description="On leave on the query's day.")
    appraisal_score: float | None
    appraised_month: str | None = Field(
        default=None, description="Month of the latest appraisal; null: the registration's score."
    )
    certificates: list[CertificateStatus]
    missing_certificates: list[CertificateModule] = Field(
        description="Training modules without a certificate (all three are needed)."
    )
    certificates_valid: bool = Field(
        description="All three modules held and none expired on the query's day."
    )
    expiring_soon: bool = Field(description="A certificate expires within the query's window.")


class Roster(BaseModel):
    """Reply to RosterQuery, ordered by station, street and caregiver id."""

    station_id: str | None
    on: date
    expiring_within_days: int
    caregivers: list[RosterEntry]


class HouseholdsQuery(Payload):
    """Request (rpc): the households with their category, current caregiver and visit window."""

    TYPE = "dispatch.HouseholdsQuery"
    station_id: Id | None = Field(default=None, description="One station; null: every station.")


class HouseholdEntry(BaseModel):
    household_id: str
    name: str
    address: str
    station_id: str
    street: str
    category: Category | None
    enrolled_on: date
    visit_window: VisitWindow
    caregiver_id: str | None = Field(
        default=None, description="The caregiver of the active assignment; null: none."
    )
    caregiver_since: date | None = Field(
        default=None, description="Start date of the active assignment."
    )


class HouseholdsList(BaseModel):
    """Reply to HouseholdsQuery, ordered by station, street and household id."""

    station_id: str | None
    households: list[HouseholdEntry]


class RoundNoticesQuery(Payload):
    """Request (rpc): the public notices (B2 own-child caregiver, 张榜公布3天) of a monthly
    round's applications, with their objections, and why its refused applications were
    refused."""

    TYPE = "dispatch.RoundNoticesQuery"
    round: Month


class NoticeEntry(BaseModel):
    """One public notice. Objections are taken through ``last_day``; CloseNotices confirms a
    notice still ``posted`` once that day has ended."""

    application_id: str
    household_id: str
    child_caregiver_id: str | None
    posted_on: date
    last_day: date
    status: Literal["posted", "objected", "confirmed"]
    objection: str | None = Field(default=None, description="The objection that sent it back.")


class RoundNotices(BaseModel):
    """Reply to RoundNoticesQuery: notices in posting order, then application id."""

    round: str
    notices: list[NoticeEntry]
    refusals: dict[str, str] = Field(
        default_factory=dict, description="Application id -> the reason it was refused."
    )
