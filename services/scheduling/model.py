"""Pure scheduling rules (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta


def shift_id_for(household_id: str, day: date) -> str:
    """Deterministic: generating a day twice (a restart, a second instance) finds the same id."""
    return f"SH-{household_id}-{day:%Y%m%d}"


def visit_id_for(shift_id: str) -> str:
    return "V-" + shift_id.removeprefix("SH-")


@dataclass(frozen=True)
class ShiftView:
    shift_id: str
    caregiver_id: str
    date: date
    visited: bool


def visit_problem(shift: ShiftView | None, caregiver_id: str, visit_day: date) -> str | None:
    """Why a check-in/out cannot be accepted, or None when it can."""
    if shift is None:
        return "unknown shift"
    if shift.caregiver_id != caregiver_id:
        return f"shift belongs to caregiver {shift.caregiver_id}"
    if shift.visited:
        return "visit already recorded"
    if visit_day != shift.date:
        return f"check-in on {visit_day}, shift is on {shift.date}"
    return None


def is_missed(day: date, window_end: time, grace: timedelta, now: datetime) -> bool:
    """No check-in by the end of the visit window plus the grace is a missed visit."""
    deadline = datetime.combine(day, window_end, tzinfo=now.tzinfo) + grace
    return now >= deadline
