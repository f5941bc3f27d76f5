"""Scheduling composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from apscheduler.triggers.cron import CronTrigger

from contracts import subjects
from contracts.dispatch.v1 import (
    AssignmentEnded,
    CaregiverAssigned,
    RequestSubstitute,
    SubstituteAssigned,
)
from contracts.envelope import Envelope, Payload
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
from contracts.scheduling.queries_v1 import (
    AppraisalsList,
    AppraisalsQuery,
    DiariesList,
    DiariesQuery,
    LeaveList,
    LeaveQuery,
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
from services.infra.bus.poison import PoisonMessage
from services.infra.clock import Clock
from services.infra.jobs import Job
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling import appraising, diaries, handlers, leave, queries
from services.scheduling.holidays import OFFICIAL, HolidayCalendar, calendar_from_mapping
from services.scheduling.store import job_runs, metadata, plumbing

NAME = "scheduling"

# (subject, payload, use case, consumer name, description)
COMMANDS: tuple[tuple[str, type[Payload], Any, str, str], ...] = (
    (
        subjects.CAREGIVER_ASSIGNED,
        CaregiverAssigned,
        handlers.record_assignment,
        "on_caregiver_assigned",
        "Keep the active assignments",
    ),
    (
        subjects.ASSIGNMENT_ENDED,
        AssignmentEnded,
        handlers.end_assignment,
        "on_assignment_ended",
        "Stop making shifts for an ended assignment",
    ),
    (
        subjects.GENERATE_SHIFTS,
        GenerateShifts,
        handlers.generate_shifts,
        "generate_shifts",
        "Create a day's shifts and shift messages",
    ),
    (
        subjects.COMPLETE_VISIT,
        CompleteVisit,
        handlers.complete_visit,
        "complete_visit",
        "Check-in and check-out of a shift",
    ),
    (
        subjects.PAUSE_VISITS,
        PauseVisits,
        handlers.pause_visits,
        "pause_visits",
        "No visits to a household for some days (hospital, away)",
    ),
    (
        subjects.ACKNOWLEDGE_SHIFT,
        AcknowledgeShift,
        handlers.acknowledge_shift,
        "acknowledge_shift",
        "A caregiver's phone received a shift message",
    ),
    (
        subjects.SUBSTITUTE_ASSIGNED,
        SubstituteAssigned,
        leave.record_substitute,
        "on_substitute_assigned",
        "A substitute covers a household during its caregiver's leave",
    ),
    (
        subjects.REQUEST_LEAVE,
        RequestLeave,
        leave.request_leave,
        "request_leave",
        "A caregiver asks for leave",
    ),
    (
        subjects.DECIDE_LEAVE,
        DecideLeave,
        leave.decide_leave,
        "decide_leave",
        "The station approves or refuses leave",
    ),
    (
        subjects.RECORD_SATISFACTION,
        RecordSatisfaction,
        appraising.record_satisfaction,
        "record_satisfaction",
        "The elder's monthly satisfaction with their caregiver",
    ),
    (
        subjects.RECORD_COMPLAINT,
        RecordComplaint,
        appraising.record_complaint,
        "record_complaint",
        "A complaint about a caregiver",
    ),
    (
        subjects.RECORD_DIARY,
        RecordDiary,
        diaries.record_diary,
        "record_diary",
        "A caregiver's daily diary for a household",
    ),
    (
        subjects.RECORD_LEDGER_ENTRY,
        RecordLedgerEntry,
        diaries.record_ledger_entry,
        "record_ledger_entry",
        "Money received, spent or returned for a household",
    ),
    (
        subjects.SET_HOLIDAY_WINDOW,
        SetHolidayWindow,
        handlers.set_holiday_window,
        "set_holiday_window",
        "A household's visit window on public holidays",
    ),
    (subjects.CHECK_IN, CheckIn, handlers.check_in, "check_in", "A caregiver arrived for a shift"),
    (
        subjects.CHECK_OUT,
        CheckOut,
        handlers.check_out,
        "check_out",
        "A caregiver left: the visit is complete",
    ),
)

# A caregiver's phone sends these on its own subject (homecare.carer.<id>.cmd.<name>.v1, the
# only command subjects a caregiver's NATS user may publish): (that subject pattern, the
# scheduling command it stands for, whose payload, use case and description it shares). The
# scheduling.cmd subjects stay for trusted senders (console, command line).
CARER_COMMANDS: tuple[tuple[str, str], ...] = (
    (subjects.CARER_CHECK_IN, subjects.CHECK_IN),
    (subjects.CARER_CHECK_OUT, subjects.CHECK_OUT),
    (subjects.CARER_COMPLETE_VISIT, subjects.COMPLETE_VISIT),
    (subjects.CARER_ACKNOWLEDGE_SHIFT, subjects.ACKNOWLEDGE_SHIFT),
    (subjects.CARER_RECORD_DIARY, subjects.RECORD_DIARY),
    (subjects.CARER_RECORD_LEDGER_ENTRY, subjects.RECORD_LEDGER_ENTRY),
    (subjects.CARER_REQUEST_LEAVE, subjects.REQUEST_LEAVE),
)


def own_caregiver_only(
    run: Callable[[Envelope[Any]], Awaitable[None]],
) -> Callable[[Envelope[Any], str], Awaitable[None]]:
    """Run a caregiver's command only when the caregiver id in its subject (which NATS
    binds to the sender's user) is the payload's; anything else is dead-lettered at once."""

    async def checked(message: Envelope[Any], subject: str) -> None:
        sender = subjects.carer_of_command(subject)
        named = message.payload.caregiver_id
        if sender != named:
            raise PoisonMessage(
                f"caregiver command for caregiver {named!r} sent on {subject}, the subject of "
                f"caregiver {sender!r}: a caregiver may send commands only in their own name"
            )
        await run(message)

    return checked


EVENTS: tuple[tuple[str, type[Payload], str], ...] = (
    (subjects.CARER_SHIFT_PATTERN, ShiftScheduled, "Shift message on the caregiver's own subject"),
    (subjects.SHIFTS_GENERATED, ShiftsGenerated, "A day's shifts were generated"),
    (subjects.VISIT_COMPLETED, VisitCompleted, "A verified visit"),
    (subjects.VISIT_REJECTED, VisitRejected, "A check-in/out that was refused"),
    (
        subjects.CARER_CANCEL_PATTERN,
        ShiftCancelled,
        "A shift cancelled, on the caregiver's subject",
    ),
    (subjects.CARER_REMINDER_PATTERN, ShiftReminder, "Morning reminder on the caregiver's subject"),
    (subjects.SHIFT_ACKNOWLEDGED, ShiftAcknowledged, "A caregiver has seen a shift"),
    (subjects.LEAVE_REQUESTED, LeaveRequested, "A caregiver asked for leave"),
    (subjects.LEAVE_DECIDED, LeaveDecided, "The station's decision on a leave"),
    (subjects.LEAVE_REJECTED, LeaveRejected, "A leave command that cannot be applied"),
    (subjects.REQUEST_SUBSTITUTE, RequestSubstitute, "Ask dispatch to cover a household"),
    (subjects.CAREGIVER_APPRAISED, CaregiverAppraised, "A caregiver's monthly score"),
    (
        subjects.APPRAISAL_BELOW_THRESHOLD,
        AppraisalBelowThreshold,
        "A monthly score below the threshold, for the station",
    ),
    (subjects.QUARTER_REVIEWED, QuarterReviewed, "The quarterly review of a caregiver"),
    (subjects.DIARY_RECORDED, DiaryRecorded, "A caregiver's diary for a day"),
    (subjects.HEALTH_WARNING, HealthWarning, "Warning signs for the family doctor"),
    (subjects.LEDGER_ENTRY_RECORDED, LedgerEntryRecorded, "A ledger entry and balance"),
    (subjects.LEDGER_ENTRY_REJECTED, LedgerEntryRejected, "A refused ledger entry"),
    (subjects.VISITS_PAUSED, VisitsPaused, "A household's visits are paused"),
    (subjects.HOLIDAY_WINDOW_SET, HolidayWindowSet, "A household's holiday visit window"),
    (subjects.VISIT_CHECKED_IN, VisitCheckedIn, "A caregiver is at the household"),
    (subjects.VISIT_MISSED, VisitMissed, "No check-in by the end of the window + grace"),
)


def daily_at(hh_mm: str, settings: Settings) -> CronTrigger:
    """Every day at HH:MM in the service's time zone (settings validate the format)."""
    hour, minute = (int(part) for part in hh_mm.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=settings.tz)


def holiday_calendar(settings: Settings) -> HolidayCalendar:
    """The official calendar, with the deployment's holidays file when it names one; a
    missing or wrong file stops the start with what is wrong."""
    path = settings.holidays_file
    if path is None:
        return OFFICIAL
    try:
        return calendar_from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"HOMECARE_HOLIDAYS_FILE {path}: {exc}") from exc


def build(settings: Settings, clock: Clock) -> Service:
    svc = Service(NAME, settings, clock, metadata, plumbing, Path(__file__).parent / "migrations")
    calendar = holiday_calendar(settings)
    # The use cases that make shifts need the holiday calendar (holiday visit windows).
    with_calendar = {
        use_case: partial(use_case, calendar=calendar)
        for use_case in (
            handlers.record_assignment,
            handlers.generate_shifts,
            leave.record_substitute,
        )
    }
    threshold = settings.appraisal_threshold
    svc.consume(
        subjects.APPRAISE_MONTH,
        AppraiseMonth,
        svc.once("appraise_month", partial(appraising.appraise_month, threshold=threshold)),
        durable="appraise_month",
        description="Appraise every caregiver for a month",
    )
    svc.schedule(
        Job(
            "monthly_appraisal",
            CronTrigger(day=1, hour=6, timezone=settings.tz),
            partial(appraising.monthly_appraisal, threshold=threshold),
            misfire_grace=timedelta(days=10),
            description="Appraise the month that ended",
        ),
        job_runs,
    )
    for subject, payload, use_case, consumer, description in COMMANDS:
        svc.consume(
            subject,
            payload,
            svc.once(consumer, with_calendar.get(use_case, use_case)),
            durable=consumer,
            description=description,
        )
    commands = {command[0]: command for command in COMMANDS}
    for carer_subject, command_subject in CARER_COMMANDS:
        _, payload, use_case, consumer, description = commands[command_subject]
        svc.consume(
            carer_subject,
            payload,
            own_caregiver_only(
                svc.once(f"carer_{consumer}", with_calendar.get(use_case, use_case))
            ),
            durable=f"carer_{consumer}",
            description=f"{description} (from the caregiver's phone, on their own subject)",
            with_subject=True,
        )
    svc.schedule(
        Job(
            "evening_shifts",
            daily_at(settings.shifts_at, settings),
            partial(handlers.evening_shifts, calendar=calendar),
            description="Generate tomorrow's shifts and send the shift messages",
        ),
        job_runs,
    )
    svc.schedule(
        Job(
            "morning_reminders",
            daily_at(settings.reminders_at, settings),
            handlers.morning_reminders,
            misfire_grace=timedelta(hours=3),  # a reminder at noon is no reminder
            description="Remind each caregiver of today's shifts",
        ),
        job_runs,
    )
    grace = timedelta(minutes=settings.missed_visit_grace_minutes)
    svc.schedule(
        Job(
            "missed_visits",
            CronTrigger(minute="*/5", timezone=settings.tz),
            partial(handlers.missed_visits, grace=grace),
            misfire_grace=timedelta(hours=1),  # the latest run finds every missed visit anyway
            description="Alert the station about shifts without check-in",
        ),
        job_runs,
    )

    async def answer_shifts(message: Envelope[Any]) -> ShiftsOfDay:
        return await queries.shifts_of_day(svc.store, message.payload, grace)

    svc.rpc(
        subjects.RPC_SHIFTS,
        ShiftsQuery,
        ShiftsOfDay,
        answer_shifts,
        "A day's shifts with their status, for the station's board (or one caregiver's day)",
    )

    async def answer_leave(message: Envelope[Any]) -> LeaveList:
        return await queries.leave_list(svc.store, message.payload)

    async def answer_diaries(message: Envelope[Any]) -> DiariesList:
        return await queries.diaries_list(svc.store, message.payload)

    async def answer_appraisals(message: Envelope[Any]) -> AppraisalsList:
        return await queries.appraisals_list(svc.store, message.payload)

    svc.rpc(
        subjects.RPC_LEAVE,
        LeaveQuery,
        LeaveList,
        answer_leave,
        "Leave requests with their affected visits and substitutes, for the station",
    )
    svc.rpc(
        subjects.RPC_DIARIES,
        DiariesQuery,
        DiariesList,
        answer_diaries,
        "Diaries (with warning signs) and ledger entries with balances, for review",
    )
    svc.rpc(
        subjects.RPC_APPRAISALS,
        AppraisalsQuery,
        AppraisalsList,
        answer_appraisals,
        "A month's appraisal inputs per caregiver and the score once appraised",
    )
    for event_subject, event, summary in EVENTS:
        svc.emits(event_subject, event, summary)
    return svc
