"""Approval rounds and ages (domain.md §3.1): both are fixed to the first day of a month."""

from __future__ import annotations

from datetime import date

from services.dispatch.eligibility.policy import EligibilityPolicy


def round_for(received_on: date, policy: EligibilityPolicy) -> str:
    """The round ("YYYY-MM"): that month's if received before the cut-off day, else the next."""
    if received_on.day < policy.round_cutoff_day:
        return f"{received_on.year:04d}-{received_on.month:02d}"
    if received_on.month == 12:
        return f"{received_on.year + 1:04d}-01"
    return f"{received_on.year:04d}-{received_on.month + 1:02d}"


def round_start(round_month: str) -> date:
    return date(int(round_month[:4]), int(round_month[5:7]), 1)


def age_on(birth_date: date, day: date) -> int:
    """Whole years on `day`; the birthday itself counts as reached. A 29 February birthday is
    reached on 1 March in other years (comparing (month, day) pairs gives exactly that)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)
