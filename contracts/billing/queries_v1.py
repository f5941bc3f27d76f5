"""Billing queries for finance's console (request/reply, version 1): the runs and revisions
of the months, and one document of a revision (statement, payslip, claim summary, table).

Money is exact decimal yuan, written on the wire as a string with 2 decimals ("1500.00")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer

from contracts.envelope import Payload
from contracts.money import Money, money_text
from contracts.types import Id, Month

Amount = Annotated[Money, PlainSerializer(money_text, return_type=str)]
RunState = Literal["requested", "running", "completed", "rejected"]
DocumentKind = Literal["statement", "payslip", "claim", "table"]
DocumentFormat = Literal["pdf", "html", "csv", "xlsx"]

# A reply must fit NATS's max payload (1 MiB by default) with its other fields: a document
# whose base64 text would be longer is not sent (write it with `homecare billing documents`).
MAX_CONTENT_BASE64 = 900_000


class BillingRunsQuery(Payload):
    """Request (rpc): the latest billing runs, of one month or of all months."""

    TYPE = "billing.BillingRunsQuery"
    month: Month | None = Field(default=None, description="Only this month's runs; None: all.")
    limit: int = Field(default=50, ge=1, le=500, description="At most this many runs.")


class RunAmounts(BaseModel):
    """A revision's totals."""

    charge: Amount
    subsidy: Amount
    family_share: Amount
    pay: Amount


class BillingRunLine(BaseModel):
    """One run as finance asked for it, and what it gave."""

    run_id: str
    month: str
    state: RunState
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = Field(description="Completed or rejected at.")
    revision: int | None = Field(description="The revision the run produced or found.")
    new_revision: bool | None = Field(
        description="True: the run made its revision; false: the inputs were unchanged."
    )
    fingerprint: str | None = Field(description="sha256 of the revision's inputs.")
    totals: RunAmounts | None
    reason: str | None = Field(default=None, description="Why a rejected run was not done.")


class RevisionLine(BaseModel):
    """One distinct result of a month."""

    revision: int = Field(ge=1)
    run_id: str = Field(description="The run that made it.")
    requested_by: str
    created_at: datetime
    fingerprint: str
    totals: RunAmounts
    households: int = Field(ge=0)
    caregivers: int = Field(ge=0)
    visits: int = Field(ge=0)
    adjustments: int = Field(ge=0)
    corrections: int = Field(ge=0)
    warnings: int = Field(ge=0)


class BillingMonthState(BaseModel):
    """A month's revisions and whether it is closed (never rewritten after)."""

    month: str
    latest_revision: int | None
    closed: bool
    closed_revision: int | None = Field(description="The revision the month was closed at.")
    closed_by: str | None
    closed_at: datetime | None
    revisions: list[RevisionLine] = Field(description="Oldest first.")


class BillingRunsList(BaseModel):
    """Reply to BillingRunsQuery: runs newest first; each month they concern (the month asked
    for even without runs), newest month first."""

    month: str | None
    runs: list[BillingRunLine]
    months: list[BillingMonthState]


class DocumentQuery(Payload):
    """Request (rpc): one document of a revision, rendered on demand.

    ``kind`` and ``format``: statement (party_id: household id) and payslip (party_id:
    caregiver id) as pdf or html; claim (the subsidy claim summary, no party_id) as pdf or
    html; table as csv (party_id: households, shares, caregivers or adjustments) or xlsx
    (party_id: one of those, or None for the workbook of all four)."""

    TYPE = "billing.DocumentQuery"
    month: Month
    revision: int | None = Field(default=None, ge=1, description="None: the latest revision.")
    kind: DocumentKind
    party_id: Id | None = None
    format: DocumentFormat = "pdf"


class DocumentReply(BaseModel):
    """Reply to DocumentQuery: the file, or found=false and why (English and Chinese)."""

    found: bool
    reason: str | None = None
    reason_zh: str | None = None
    month: str
    revision: int | None = Field(default=None, description="The revision the document is of.")
    closed: bool | None = Field(default=None, description="Whether the month is closed.")
    file_name: str | None = None
    media_type: str | None = None
    size: int | None = Field(default=None, ge=0, description="Bytes of the file.")
    content_base64: str | None = Field(
        default=None, max_length=MAX_CONTENT_BASE64, description="The file, base64."
    )
