"""Scheduling composition root."""

from __future__ import annotations

from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from contracts import subjects
from contracts.dispatch.v1 import AssignmentEnded, CaregiverAssigned
from contracts.scheduling.v1 import (
    CompleteVisit,
    GenerateShifts,
    ShiftScheduled,
    ShiftsGenerated,
    VisitCompleted,
    VisitRejected,
)
from services.infra.clock import Clock
from services.infra.jobs import Job
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling import handlers
from services.scheduling.store import job_runs, metadata, plumbing

NAME = "scheduling"


def build(settings: Settings, clock: Clock) -> Service:
    svc = Service(NAME, settings, clock, metadata, plumbing, Path(__file__).parent / "migrations")
    svc.consume(
        subjects.CAREGIVER_ASSIGNED,
        CaregiverAssigned,
        svc.once("on_caregiver_assigned", handlers.record_assignment),
        durable="on_caregiver_assigned",
        description="Keep the active assignments",
    )
    svc.consume(
        subjects.ASSIGNMENT_ENDED,
        AssignmentEnded,
        svc.once("on_assignment_ended", handlers.end_assignment),
        durable="on_assignment_ended",
        description="Stop making shifts for an ended assignment",
    )
    svc.consume(
        subjects.GENERATE_SHIFTS,
        GenerateShifts,
        svc.once("generate_shifts", handlers.generate_shifts),
        durable="generate_shifts",
        description="Create a day's shifts and shift messages",
    )
    svc.consume(
        subjects.COMPLETE_VISIT,
        CompleteVisit,
        svc.once("complete_visit", handlers.complete_visit),
        durable="complete_visit",
        description="Check-in and check-out of a shift",
    )
    hour, minute = (int(part) for part in settings.shifts_at.split(":"))
    svc.schedule(
        Job(
            "evening_shifts",
            CronTrigger(hour=hour, minute=minute, timezone=settings.tz),
            handlers.evening_shifts,
            description="Generate tomorrow's shifts and send the shift messages",
        ),
        job_runs,
    )
    svc.emits(
        subjects.CARER_SHIFT_PATTERN, ShiftScheduled, "Shift message on the caregiver's own subject"
    )
    svc.emits(subjects.SHIFTS_GENERATED, ShiftsGenerated, "A day's shifts were generated")
    svc.emits(subjects.VISIT_COMPLETED, VisitCompleted, "A verified visit")
    svc.emits(subjects.VISIT_REJECTED, VisitRejected, "A check-in/out that was refused")
    return svc
