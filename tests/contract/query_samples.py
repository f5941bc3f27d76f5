"""Valid samples of the billing and scheduling console-query payloads and replies."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import BaseModel

from contracts.billing.queries_v1 import (
    BillingMonthState,
    BillingRunLine,
    BillingRunsList,
    BillingRunsQuery,
    DocumentQuery,
    DocumentReply,
    RevisionLine,
    RunAmounts,
)
from contracts.envelope import Payload
from contracts.scheduling.queries_v1 import (
    AppraisalLine,
    AppraisalScore,
    AppraisalsList,
    AppraisalsQuery,
    ComplaintEntry,
    DiariesList,
    DiariesQuery,
    DiaryLine,
    DiaryWarning,
    LeaveLine,
    LeaveList,
    LeaveQuery,
    LedgerBalance,
    LedgerLine,
    SatisfactionEntry,
    SubstituteLine,
)

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
AMOUNTS = RunAmounts(
    charge=Decimal("3000.00"),
    subsidy=Decimal("1100.00"),
    family_share=Decimal("1900.00"),
    pay=Decimal("2400.00"),
)
REVISION = RevisionLine(
    revision=1,
    run_id="5f0c6a3c2d0e4a45a3bb2f0b7b6c9d11",
    requested_by="finance-1",
    created_at=AT,
    fingerprint="ab" * 32,
    totals=AMOUNTS,
    households=2,
    caregivers=1,
    visits=60,
    adjustments=0,
    corrections=0,
    warnings=0,
)
RUN_LINE = BillingRunLine(
    run_id="5f0c6a3c2d0e4a45a3bb2f0b7b6c9d11",
    month="2026-11",
    state="completed",
    requested_by="finance-1",
    requested_at=AT,
    finished_at=AT,
    revision=1,
    new_revision=True,
    fingerprint="ab" * 32,
    totals=AMOUNTS,
)
MONTH_STATE = BillingMonthState(
    month="2026-11",
    latest_revision=1,
    closed=True,
    closed_revision=1,
    closed_by="finance-1",
    closed_at=AT,
    revisions=[REVISION],
)
SUBSTITUTE = SubstituteLine(
    household_id="H0001",
    caregiver_id="C0002",
    first_day=date(2026, 11, 10),
    last_day=date(2026, 11, 12),
    preferred_caregiver_id="C0003",
    preference_reason="C0003 is not free on every day of the leave",
)
LEAVE_LINE = LeaveLine(
    leave_id="L1",
    caregiver_id="C0001",
    station_id="S01",
    first_day=date(2026, 11, 10),
    last_day=date(2026, 11, 12),
    reason="家中有事",
    status="approved",
    decided_by="manager-1",
    households=1,
    affected_shifts=3,
    substitutes=[SUBSTITUTE],
)
WARNING = DiaryWarning(signs=("fall",), reason="Urgent signs: fall", reason_zh="紧急情况：跌倒")
DIARY = DiaryLine(
    household_id="H0001",
    caregiver_id="C0001",
    station_id="S01",
    date=date(2026, 11, 3),
    tasks=("做饭", "打扫"),
    appetite="good",
    mood="calm",
    health_signs=("fall",),
    notes="老人精神好",
    recorded_at=AT,
    warning=WARNING,
)
LEDGER_LINE = LedgerLine(
    entry_id="E1",
    household_id="H0001",
    caregiver_id="C0001",
    date=date(2026, 11, 3),
    kind="purchase",
    amount=Decimal("12.50"),
    description="蔬菜",
    balance=Decimal("87.50"),
)
BALANCE = LedgerBalance(
    household_id="H0001",
    caregiver_id="C0001",
    opening=Decimal("100.00"),
    closing=Decimal("87.50"),
    entries=1,
)
SATISFACTION = SatisfactionEntry(household_id="H0001", score=5, recorded_by="manager-1")
COMPLAINT = ComplaintEntry(
    complaint_id="K1",
    household_id="H0001",
    date=date(2026, 11, 4),
    text="迟到",
    recorded_by="manager-1",
)
SCORE = AppraisalScore(
    score=92.5,
    satisfaction=5.0,
    diary_completeness=1.0,
    punctuality=0.9,
    complaints=1,
    visits=30,
)
APPRAISAL = AppraisalLine(
    caregiver_id="C0001",
    station_id="S01",
    satisfaction=[SATISFACTION],
    complaints=[COMPLAINT],
    visits=30,
    satisfaction_average=5.0,
    diary_completeness=1.0,
    punctuality=0.9,
    provisional_score=92.5,
    appraisal=SCORE,
)

QUERY_SAMPLES: dict[type[Payload], Payload] = {
    BillingRunsQuery: BillingRunsQuery(month="2026-11", limit=20),
    DocumentQuery: DocumentQuery(
        month="2026-11", revision=1, kind="statement", party_id="H0001", format="pdf"
    ),
    LeaveQuery: LeaveQuery(station_id="S01", status="pending"),
    DiariesQuery: DiariesQuery(
        station_id="S01",
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 30),
        household_id="H0001",
    ),
    AppraisalsQuery: AppraisalsQuery(month="2026-11", station_id="S01"),
}

QUERY_REPLIES: dict[type[BaseModel], BaseModel] = {
    RunAmounts: AMOUNTS,
    RevisionLine: REVISION,
    BillingRunLine: RUN_LINE,
    BillingMonthState: MONTH_STATE,
    BillingRunsList: BillingRunsList(month="2026-11", runs=[RUN_LINE], months=[MONTH_STATE]),
    DocumentReply: DocumentReply(
        found=True,
        month="2026-11",
        revision=1,
        closed=True,
        file_name="statement-2026-11-H0001.pdf",
        media_type="application/pdf",
        size=4,
        content_base64="JVBERg==",
    ),
    SubstituteLine: SUBSTITUTE,
    LeaveLine: LEAVE_LINE,
    LeaveList: LeaveList(station_id="S01", status=None, leaves=[LEAVE_LINE]),
    DiaryWarning: WARNING,
    DiaryLine: DIARY,
    LedgerLine: LEDGER_LINE,
    LedgerBalance: BALANCE,
    DiariesList: DiariesList(
        station_id="S01",
        household_id=None,
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 30),
        diaries=[DIARY],
        ledger=[LEDGER_LINE],
        balances=[BALANCE],
    ),
    SatisfactionEntry: SATISFACTION,
    ComplaintEntry: COMPLAINT,
    AppraisalScore: SCORE,
    AppraisalLine: APPRAISAL,
    AppraisalsList: AppraisalsList(month="2026-11", station_id="S01", caregivers=[APPRAISAL]),
}
