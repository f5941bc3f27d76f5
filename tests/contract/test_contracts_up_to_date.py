"""The committed contract files (JSON Schemas, AsyncAPI) match the code that defines them."""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
from dispatch_samples import DISPATCH_REPLIES, DISPATCH_SAMPLES
from pydantic import BaseModel
from query_samples import QUERY_REPLIES, QUERY_SAMPLES

from contracts import subjects
from contracts.billing.runs_v1 import (
    BillingProgress,
    BillingRunCompleted,
    BillingRunRejected,
    BillingRunStarted,
    BillingTotals,
    CloseMonth,
    MonthClosed,
    RunBilling,
)
from contracts.billing.v1 import MonthSummary, MonthSummaryQuery
from contracts.dispatch.eligibility_v1 import RoundApplications, SubmitApplication
from contracts.dispatch.v1 import (
    CaregiverAssigned,
    CaregiverRegistered,
    CareRequestUnmet,
    HouseholdRegistered,
    RegisterCaregiver,
    RegisterHousehold,
    RequestCare,
)
from contracts.dispatch.values import RoundEntry
from contracts.envelope import Envelope, Payload, envelope_of
from contracts.export import (
    asyncapi_files,
    check_contracts,
    documented_brokers,
    payload_classes,
    reply_models,
    schema_name,
)
from contracts.scheduling.appraisal_v1 import (
    AppraisalBelowThreshold,
    AppraiseMonth,
    CaregiverAppraised,
    QuarterReviewed,
    RecordComplaint,
    RecordSatisfaction,
)
from contracts.scheduling.diary_v1 import (
    DiaryRecorded,
    HealthWarning,
    LedgerEntryRecorded,
    LedgerEntryRejected,
    RecordDiary,
    RecordLedgerEntry,
)
from contracts.scheduling.leave_v1 import (
    DecideLeave,
    LeaveDecided,
    LeaveRejected,
    LeaveRequested,
    RequestLeave,
)
from contracts.scheduling.v1 import (
    AcknowledgeShift,
    CheckIn,
    CheckOut,
    CompleteVisit,
    GenerateShifts,
    HolidayWindowSet,
    PauseVisits,
    SetHolidayWindow,
    ShiftAcknowledged,
    ShiftCancelled,
    ShiftLine,
    ShiftReminder,
    ShiftScheduled,
    ShiftsGenerated,
    ShiftsOfDay,
    ShiftsQuery,
    VisitCheckedIn,
    VisitCompleted,
    VisitMissed,
    VisitRejected,
    VisitsPaused,
)
from contracts.system.v1 import DeadLettered, HealthQuery, HealthReport

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = REPO_ROOT / "contracts"
ENVELOPE_FIELDS = {"event_id", "type", "version", "occurred_at", "correlation_id", "producer"}

AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
WINDOW = (time(9), time(11))

BILLING_TOTALS = BillingTotals(
    charge="170400.00", subsidy="22720.00", family_share="147680.00", pay="170400.00"
)
SAMPLE_PAYLOADS: dict[type[Payload], Payload] = {
    RegisterCaregiver: RegisterCaregiver(
        caregiver_id="C0001", name="王秀兰", station_id="S01", street="中山公园街道"
    ),
    RegisterHousehold: RegisterHousehold(
        household_id="H0001",
        name="李家",
        address="中山区长江路 1 号",
        station_id="S01",
        street="中山公园街道",
        category="B",
        enrolled_on=date(2026, 11, 1),
        visit_window=WINDOW,
    ),
    RequestCare: RequestCare(request_id="R1", household_id="H0001", start_date=date(2026, 11, 2)),
    CaregiverRegistered: CaregiverRegistered(caregiver_id="C0001", station_id="S01", name="王"),
    HouseholdRegistered: HouseholdRegistered(
        household_id="H0001",
        station_id="S01",
        street="中山公园街道",
        category=None,
        enrolled_on=date(2026, 11, 1),
    ),
    CaregiverAssigned: CaregiverAssigned(
        assignment_id="A1",
        request_id="R1",
        household_id="H0001",
        caregiver_id="C0001",
        station_id="S01",
        address="中山区长江路 1 号",
        start_date=date(2026, 11, 2),
        visit_window=WINDOW,
    ),
    CareRequestUnmet: CareRequestUnmet(
        request_id="R2", household_id="H0002", reason="no caregiver with capacity"
    ),
    GenerateShifts: GenerateShifts(date=date(2026, 11, 3)),
    CompleteVisit: CompleteVisit(
        shift_id="SH1",
        caregiver_id="C0001",
        checked_in_at=AT,
        checked_out_at=AT.replace(hour=10),
        latitude=38.91,
        longitude=121.6,
    ),
    ShiftScheduled: ShiftScheduled(
        shift_id="SH1",
        caregiver_id="C0001",
        household_id="H0001",
        address="中山区长江路 1 号",
        date=date(2026, 11, 3),
        visit_window=WINDOW,
    ),
    ShiftsGenerated: ShiftsGenerated(date=date(2026, 11, 3), created=3, already_present=0),
    VisitCompleted: VisitCompleted(
        visit_id="V1",
        shift_id="SH1",
        household_id="H0001",
        caregiver_id="C0001",
        date=date(2026, 11, 3),
        checked_in_at=AT,
        checked_out_at=AT.replace(hour=10),
    ),
    VisitRejected: VisitRejected(shift_id="SH1", caregiver_id="C0001", reason="not your shift"),
    SetHolidayWindow: SetHolidayWindow(
        household_id="H0001", visit_window=(time(14), time(16)), requested_by="王站长"
    ),
    HolidayWindowSet: HolidayWindowSet(
        household_id="H0001", visit_window=(time(14), time(16)), requested_by="王站长"
    ),
    PauseVisits: PauseVisits(
        household_id="H0001",
        first_day=date(2026, 11, 3),
        last_day=date(2026, 11, 9),
        reason="hospital",
        note="中心医院",
    ),
    VisitsPaused: VisitsPaused(
        household_id="H0001",
        first_day=date(2026, 11, 3),
        last_day=date(2026, 11, 9),
        reason="hospital",
        cancelled_shifts=1,
    ),
    ShiftCancelled: ShiftCancelled(
        shift_id="SH1",
        caregiver_id="C0001",
        household_id="H0001",
        date=date(2026, 11, 3),
        reason="hospital",
    ),
    ShiftReminder: ShiftReminder(
        shift_id="SH1",
        caregiver_id="C0001",
        household_id="H0001",
        address="中山区长江路 1 号",
        date=date(2026, 11, 3),
        visit_window=WINDOW,
    ),
    AcknowledgeShift: AcknowledgeShift(shift_id="SH1", caregiver_id="C0001", at=AT),
    ShiftAcknowledged: ShiftAcknowledged(
        shift_id="SH1", caregiver_id="C0001", date=date(2026, 11, 3), at=AT
    ),
    ShiftsQuery: ShiftsQuery(date=date(2026, 11, 3), station_id="S01"),
    RecordSatisfaction: RecordSatisfaction(
        household_id="H0001", caregiver_id="C0001", month="2026-11", score=5, recorded_by="站长"
    ),
    RecordComplaint: RecordComplaint(
        complaint_id="CP1",
        household_id="H0001",
        caregiver_id="C0001",
        date=date(2026, 11, 3),
        text="迟到半小时",
        recorded_by="站长",
    ),
    AppraiseMonth: AppraiseMonth(month="2026-11"),
    CaregiverAppraised: CaregiverAppraised(
        caregiver_id="C0001",
        month="2026-11",
        score=86.5,
        satisfaction=4.5,
        diary_completeness=0.9,
        punctuality=0.95,
        complaints=0,
        visits=30,
    ),
    AppraisalBelowThreshold: AppraisalBelowThreshold(
        caregiver_id="C0001", month="2026-11", score=55.0, threshold=60.0
    ),
    QuarterReviewed: QuarterReviewed(
        caregiver_id="C0001",
        quarter="2026-Q4",
        score=80.0,
        months={"2026-10": 75.0, "2026-11": 80.0, "2026-12": 85.0},
    ),
    RequestLeave: RequestLeave(
        leave_id="LV1",
        caregiver_id="C0001",
        first_day=date(2026, 11, 10),
        last_day=date(2026, 11, 12),
        reason="回老家",
    ),
    DecideLeave: DecideLeave(
        leave_id="LV1", approve=True, decided_by="站长", substitutes={"H0001": "C0002"}
    ),
    LeaveRequested: LeaveRequested(
        leave_id="LV1",
        caregiver_id="C0001",
        first_day=date(2026, 11, 10),
        last_day=date(2026, 11, 12),
        reason="回老家",
        households=2,
    ),
    LeaveDecided: LeaveDecided(
        leave_id="LV1",
        caregiver_id="C0001",
        first_day=date(2026, 11, 10),
        last_day=date(2026, 11, 12),
        approved=True,
        decided_by="站长",
        substitutes_requested=2,
    ),
    LeaveRejected: LeaveRejected(leave_id="LV1", reason="a refusal needs a reason"),
    RecordDiary: RecordDiary(
        household_id="H0001",
        caregiver_id="C0001",
        date=date(2026, 11, 3),
        tasks=("做饭", "打扫"),
        appetite="poor",
        mood="calm",
        health_signs=("fall",),
        notes="下午在卫生间滑倒，无明显外伤",
    ),
    DiaryRecorded: DiaryRecorded(
        household_id="H0001",
        caregiver_id="C0001",
        date=date(2026, 11, 3),
        appetite="poor",
        mood="calm",
        health_signs=("fall",),
    ),
    HealthWarning: HealthWarning(
        household_id="H0001",
        caregiver_id="C0001",
        date=date(2026, 11, 3),
        signs=("fall",),
        reason="reported fall",
        reason_zh="报告摔倒",
    ),
    RecordLedgerEntry: RecordLedgerEntry(
        entry_id="L1",
        household_id="H0001",
        caregiver_id="C0001",
        date=date(2026, 11, 3),
        kind="purchase",
        amount=Decimal("23.50"),
        description="蔬菜和鸡蛋",
    ),
    LedgerEntryRecorded: LedgerEntryRecorded(
        entry_id="L1",
        household_id="H0001",
        caregiver_id="C0001",
        date=date(2026, 11, 3),
        kind="purchase",
        amount=Decimal("23.50"),
        description="蔬菜和鸡蛋",
        balance=Decimal("76.50"),
    ),
    LedgerEntryRejected: LedgerEntryRejected(
        entry_id="L2",
        household_id="H0001",
        caregiver_id="C0001",
        reason="purchase of 200.00 is more than the 76.50 held for this household",
    ),
    CheckIn: CheckIn(shift_id="SH1", caregiver_id="C0001", at=AT, latitude=38.91, longitude=121.6),
    CheckOut: CheckOut(shift_id="SH1", caregiver_id="C0001", at=AT.replace(hour=10)),
    VisitCheckedIn: VisitCheckedIn(
        shift_id="SH1", household_id="H0001", caregiver_id="C0001", date=date(2026, 11, 3), at=AT
    ),
    VisitMissed: VisitMissed(
        shift_id="SH1",
        household_id="H0001",
        caregiver_id="C0001",
        station_id="S01",
        date=date(2026, 11, 3),
        visit_window=WINDOW,
        grace_minutes=30,
    ),
    MonthSummaryQuery: MonthSummaryQuery(month="2026-11"),
    RunBilling: RunBilling(month="2026-11", requested_by="王会计"),
    CloseMonth: CloseMonth(month="2026-11", closed_by="财务主管"),
    BillingRunStarted: BillingRunStarted(
        run_id="5f0c6a3c2d0e4a45a3bb2f0b7b6c9d11", month="2026-11", requested_by="王会计"
    ),
    BillingRunCompleted: BillingRunCompleted(
        run_id="5f0c6a3c2d0e4a45a3bb2f0b7b6c9d11",
        month="2026-11",
        revision=2,
        new_revision=True,
        requested_by="王会计",
        fingerprint="9f2c" * 16,
        households=120,
        caregivers=80,
        visits=3408,
        totals=BILLING_TOTALS,
        adjustments=2,
        corrections=0,
        warnings=1,
    ),
    BillingRunRejected: BillingRunRejected(
        month="2026-11",
        reason="2026-11 was closed at revision 2; corrections go into the next month",
        reason_zh="2026-11 已于第 2 版结账，更正计入下月",
    ),
    MonthClosed: MonthClosed(
        month="2026-11", revision=2, closed_by="财务主管", totals=BILLING_TOTALS
    ),
    HealthQuery: HealthQuery(),
    DeadLettered: DeadLettered(
        dead_letter_id=1,
        service="billing",
        consumer="billing_on_visit_completed",
        subject=subjects.VISIT_COMPLETED,
        reason="validation error",
        deliveries=5,
        original_event_id=None,
        data_preview="{not json",
    ),
    **DISPATCH_SAMPLES,
    **QUERY_SAMPLES,
}

SAMPLE_REPLIES: dict[type[BaseModel], BaseModel] = {
    BillingTotals: BILLING_TOTALS,
    BillingProgress: BillingProgress(
        run_id="5f0c6a3c2d0e4a45a3bb2f0b7b6c9d11",
        month="2026-11",
        done=2000,
        total=100000,
        stage="households",
    ),
    RoundApplications: RoundApplications(
        round="2026-11",
        applications=[
            RoundEntry(
                application_id="AP1",
                household_id="H0001",
                received_on=date(2026, 11, 5),
                category="B",
                rules=("B1",),
                monthly_subsidy="200.00",
                status="assessed",
            )
        ],
    ),
    ShiftLine: ShiftLine(
        shift_id="SH1",
        household_id="H0001",
        caregiver_id="C0001",
        station_id="S01",
        address="中山区长江路 1 号",
        visit_window=WINDOW,
        status="checked_in",
        acknowledged=True,
    ),
    ShiftsOfDay: ShiftsOfDay(
        date=date(2026, 11, 3),
        station_id="S01",
        shifts=[
            ShiftLine(
                shift_id="SH1",
                household_id="H0001",
                caregiver_id="C0001",
                station_id="S01",
                address="中山区长江路 1 号",
                visit_window=WINDOW,
                status="done",
                acknowledged=True,
            )
        ],
    ),
    MonthSummary: MonthSummary(
        month="2026-11",
        households_served=2,
        served_days=40,
        visits=41,
        caregivers=1,
        unenrolled_visits=0,
        served_days_by_category={"A": 20, "B": 20},
    ),
    HealthReport: HealthReport(
        service="billing",
        instance="host-1-billing",
        status="ok",
        started_at=AT,
        uptime_seconds=12.5,
        database="ok",
        outbox_backlog=0,
        dead_letters=0,
        consumers=["billing_on_visit_completed"],
    ),
    **DISPATCH_REPLIES,
    **QUERY_REPLIES,
}


# -- up to date ------------------------------------------------------------------------------


def test_committed_contracts_are_up_to_date() -> None:
    stale = check_contracts(CONTRACTS)
    if stale:
        listing = "\n".join(f"  {Path(path).relative_to(REPO_ROOT)}" for path in stale)
        pytest.fail(
            f"contract files are stale (run `homecare contracts export`):\n{listing}",
            pytrace=False,
        )


def test_generation_is_deterministic_and_leaks_nothing_local() -> None:
    first, second = asyncapi_files(), asyncapi_files()
    assert first == second
    text = first["asyncapi.yaml"]
    assert f"{socket.gethostname()}-{os.getpid()}" not in text  # Service.instance
    assert str(REPO_ROOT) not in text
    assert "nats://" not in text and "127.0.0.1:4222" in text  # only the placeholder host


def test_documenting_the_services_creates_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert documented_brokers()
    assert list(tmp_path.iterdir()) == []  # no var/ folder, no SQLite file


# -- subjects ------------------------------------------------------------------------------


def _known_subjects() -> set[str]:
    """Every subject contracts/subjects.py names: its constants and per-service subjects."""
    constants = {
        value
        for name, value in vars(subjects).items()
        if name.isupper() and isinstance(value, str) and value.startswith(f"{subjects.ROOT}.")
    }
    per_service = {
        make(service)
        for service in subjects.SERVICES
        for make in (subjects.health_subject, subjects.dlq_subject)
    }
    return constants | per_service


def _documented_addresses() -> set[str]:
    document = json.loads((CONTRACTS / "asyncapi.json").read_text(encoding="utf-8"))
    return {channel["address"] for channel in document["channels"].values()}


def _template(address: Any) -> str:
    return str(getattr(address, "template", address))


def test_every_subscribed_subject_is_documented() -> None:
    known, documented = _known_subjects(), _documented_addresses()
    subscribed = {
        _template(getattr(sub, "subject", None))
        for broker in documented_brokers()
        for sub in broker.subscribers
    }
    assert subscribed, "the services subscribe to nothing?"
    assert subscribed <= known, f"not declared in contracts/subjects.py: {subscribed - known}"
    assert subscribed <= documented, f"missing from asyncapi.json: {subscribed - documented}"


def test_every_emitted_subject_is_documented() -> None:
    known, documented = _known_subjects(), _documented_addresses()
    emitted = {
        _template(getattr(pub.specification, "subject", None))
        for broker in documented_brokers()
        for pub in broker.publishers
    }
    assert subjects.CARER_SHIFT_PATTERN in emitted
    assert emitted <= known, f"not declared in contracts/subjects.py: {emitted - known}"
    assert emitted <= documented, f"missing from asyncapi.json: {emitted - documented}"


def test_path_parameters_are_declared() -> None:
    document = json.loads((CONTRACTS / "asyncapi.json").read_text(encoding="utf-8"))
    for channel in document["channels"].values():
        names = set(re.findall(r"\{(\w+)\}", channel["address"]))
        assert names == set(channel.get("parameters", {})), channel["address"]


def test_component_keys_are_valid_asyncapi_names() -> None:
    document = json.loads((CONTRACTS / "asyncapi.json").read_text(encoding="utf-8"))
    keys = [
        *document["channels"],
        *document["operations"],
        *document["components"]["schemas"],
        *document["components"]["messages"],
    ]
    for key in keys:
        assert re.fullmatch(r"[A-Za-z0-9.\-_]+", key), key


def test_every_reference_resolves() -> None:
    document = json.loads((CONTRACTS / "asyncapi.json").read_text(encoding="utf-8"))
    refs: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                refs.append(value) if key == "$ref" else collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(document)
    assert refs
    for ref in refs:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            assert part in node, f"dangling reference {ref}"
            node = node[part]


# -- JSON Schemas --------------------------------------------------------------------------


def _load_schema(model: type[BaseModel]) -> dict[str, Any]:
    path = CONTRACTS / "schemas" / f"{schema_name(model)}.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _validate(instance: Any, schema: dict[str, Any]) -> None:
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)


def test_every_exported_model_has_a_sample() -> None:
    assert set(payload_classes()) == set(SAMPLE_PAYLOADS)
    assert set(reply_models()) == set(SAMPLE_REPLIES)


@pytest.mark.parametrize("payload_cls", list(SAMPLE_PAYLOADS), ids=lambda cls: cls.TYPE)
def test_schema_accepts_a_wrapped_sample(payload_cls: type[Payload]) -> None:
    schema = _load_schema(payload_cls)
    assert ENVELOPE_FIELDS | {"payload"} <= set(schema["required"])
    assert schema["properties"]["type"]["const"] == payload_cls.TYPE
    assert schema["properties"]["version"]["const"] == payload_cls.VERSION

    envelope = Envelope.wrap(SAMPLE_PAYLOADS[payload_cls], producer="contract-test", occurred_at=AT)
    wire = json.loads(envelope.to_json())
    _validate(wire, schema)
    assert envelope_of(payload_cls).model_validate(wire) == envelope  # pydantic round trip

    wrong_type = wire | {"type": "dispatch.SomethingElse"}
    with pytest.raises(jsonschema.ValidationError):
        _validate(wrong_type, schema)


@pytest.mark.parametrize("model", list(SAMPLE_REPLIES), ids=lambda cls: cls.__name__)
def test_reply_schema_accepts_a_sample(model: type[BaseModel]) -> None:
    schema = _load_schema(model)
    wire = json.loads(SAMPLE_REPLIES[model].model_dump_json())
    _validate(wire, schema)
    assert model.model_validate(wire) == SAMPLE_REPLIES[model]


def test_money_is_a_decimal_string_on_the_wire() -> None:
    schema = _load_schema(SubmitApplication)
    wire = json.loads(
        Envelope.wrap(DISPATCH_SAMPLES[SubmitApplication], producer="t", occurred_at=AT).to_json()
    )
    assert wire["payload"]["form"]["monthly_income"] == "500.00"
    _validate(wire, schema)
    wire["payload"]["form"]["monthly_income"] = 500.0
    with pytest.raises(jsonschema.ValidationError):
        _validate(wire, schema)
