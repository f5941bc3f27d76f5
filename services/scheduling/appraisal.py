"""The monthly appraisal of a caregiver, as pure rules (no I/O).

score = 40 x satisfaction + 30 x diary completeness + 30 x punctuality - 10 per complaint,
within 0..100, to one decimal:
- satisfaction: the month's average rating (1-5) mapped to 0..1; no rating counts as 0.5;
- diary completeness: visits with a diary for that household and day, over visits;
- punctuality: visits checked in no later than PUNCTUAL_MINUTES after the window opened;
with no visits in the month, both count as 1 (nothing to hold against anyone)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

PUNCTUAL_MINUTES = 15
UNRATED = 0.5


@dataclass(frozen=True)
class VisitFacts:
    household_id: str
    date: date
    window_start: time
    checked_in_at: datetime  # in the service's time zone
    has_diary: bool


@dataclass(frozen=True)
class Appraisal:
    score: float
    satisfaction: float | None
    diary_completeness: float
    punctuality: float
    complaints: int
    visits: int


def punctual(visit: VisitFacts) -> bool:
    opened = datetime.combine(visit.date, visit.window_start, tzinfo=visit.checked_in_at.tzinfo)
    return visit.checked_in_at <= opened + timedelta(minutes=PUNCTUAL_MINUTES)


def appraise(visits: Sequence[VisitFacts], ratings: Sequence[int], complaints: int) -> Appraisal:
    satisfaction = sum(ratings) / len(ratings) if ratings else None
    rated = (satisfaction - 1) / 4 if satisfaction is not None else UNRATED
    if visits:
        diaries = sum(v.has_diary for v in visits) / len(visits)
        on_time = sum(punctual(v) for v in visits) / len(visits)
    else:
        diaries = on_time = 1.0
    raw = 40 * rated + 30 * diaries + 30 * on_time - 10 * complaints
    return Appraisal(
        score=round(min(100.0, max(0.0, raw)), 1),
        satisfaction=round(satisfaction, 2) if satisfaction is not None else None,
        diary_completeness=round(diaries, 3),
        punctuality=round(on_time, 3),
        complaints=complaints,
        visits=len(visits),
    )


def quarter_of(month: str) -> tuple[str, list[str]]:
    """("2026-Q4", ["2026-10", "2026-11", "2026-12"]) for "2026-11"."""
    year, number = int(month[:4]), int(month[5:7])
    q = (number - 1) // 3
    return f"{year}-Q{q + 1}", [f"{year}-{m:02d}" for m in range(3 * q + 1, 3 * q + 4)]
