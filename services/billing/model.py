"""Pure billing rules (no I/O): served days of a month, domain.md §6 step 1."""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class CategoryFrom:
    household_id: str
    from_date: date
    category: str | None  # None = not enrolled from that date


@dataclass(frozen=True)
class Visit:
    household_id: str
    caregiver_id: str
    date: date


@dataclass
class MonthCount:
    month: str
    served: dict[str, set[date]] = field(default_factory=dict)
    category_days: Counter[str] = field(default_factory=Counter)
    visits: int = 0
    caregivers: set[str] = field(default_factory=set)
    unenrolled_visits: int = 0

    @property
    def served_days(self) -> int:
        return sum(len(days) for days in self.served.values())


def month_bounds(month: str) -> tuple[date, date]:
    year, mon = (int(x) for x in month.split("-"))
    return date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])


def category_on(periods: list[CategoryFrom], day: date) -> str | None:
    """The category in force on ``day``; periods sorted by from_date; none before the first."""
    current = None
    for p in periods:
        if p.from_date > day:
            break
        current = p.category
    return current


def count_month(
    month: str, categories: Iterable[CategoryFrom], visits: Iterable[Visit]
) -> MonthCount:
    first, last = month_bounds(month)
    by_household: dict[str, list[CategoryFrom]] = defaultdict(list)
    for c in categories:
        by_household[c.household_id].append(c)
    for periods in by_household.values():
        periods.sort(key=lambda p: p.from_date)
    result = MonthCount(month)
    for v in visits:
        if not first <= v.date <= last:
            continue
        category = category_on(by_household.get(v.household_id, []), v.date)
        if category is None:
            result.unenrolled_visits += 1
            continue
        result.visits += 1
        result.caregivers.add(v.caregiver_id)
        days = result.served.setdefault(v.household_id, set())
        if v.date not in days:
            days.add(v.date)
            result.category_days[category] += 1
    return result
