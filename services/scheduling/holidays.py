"""Chinese public holidays (法定节假日): which days a household's holiday visit window applies.

The official calendar (the State Council's yearly notice, with its weekend days moved into a
holiday period) comes from the ``chinesecalendar`` package; a deployment can add or correct
days, for example a year the package does not know yet, in a holidays file
(HOMECARE_HOLIDAYS_FILE, see ``calendar_from_mapping``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import chinese_calendar

# The package names holidays in English; people here read them in Chinese.
ZH_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


@dataclass(frozen=True)
class HolidayCalendar:
    """``overrides`` map a day to its holiday name, or to None for a day that is not a
    holiday whatever the package says; days in neither follow the official calendar."""

    overrides: Mapping[date, str | None] = field(default_factory=dict)

    def holiday(self, day: date) -> str | None:
        """The public holiday ``day`` falls in (its Chinese name), or None. Ordinary
        weekends are not public holidays; weekend days inside a holiday period are."""
        if day in self.overrides:
            return self.overrides[day]
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:  # a year the package has no data for
            return None
        if not on_holiday or name is None:
            return None
        return ZH_NAMES.get(name, name)

    def knows(self, year: int) -> bool:
        """Whether the calendar has data for ``year`` (else no day of it is a holiday)."""
        if any(day.year == year for day in self.overrides):
            return True
        try:
            chinese_calendar.get_holiday_detail(date(year, 1, 1))
        except NotImplementedError:
            return False
        return True

    def holidays(self, year: int) -> list[tuple[date, str]]:
        """Every public holiday of ``year``, in date order."""
        first = date(year, 1, 1).toordinal()
        days = (date.fromordinal(n) for n in range(first, date(year, 12, 31).toordinal() + 1))
        return [(day, name) for day in days if (name := self.holiday(day))]


OFFICIAL = HolidayCalendar()


def calendar_from_mapping(data: Any) -> HolidayCalendar:
    """The calendar of a holidays file's content: ``{"holidays": {"2027-01-01": "元旦", ...},
    "workdays": ["2027-02-20", ...]}`` (both optional). Raises ValueError saying what is wrong."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValueError("a holidays file holds a mapping with 'holidays' and/or 'workdays'")
    unknown = set(data) - {"holidays", "workdays"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(map(str, unknown))}: use 'holidays' and 'workdays'")
    overrides: dict[date, str | None] = {}
    named = data.get("holidays") or {}
    if not isinstance(named, Mapping):
        raise ValueError("'holidays' maps dates (YYYY-MM-DD) to holiday names")
    for key, name in named.items():
        day = _day(key, "holidays")
        if not isinstance(name, str) or not name.strip() or len(name) > 40:
            raise ValueError(f"holidays: {day}: the name must be 1-40 characters")
        overrides[day] = name.strip()
    workdays = data.get("workdays") or []
    if not isinstance(workdays, list):
        raise ValueError("'workdays' is a list of dates (YYYY-MM-DD)")
    for key in workdays:
        day = _day(key, "workdays")
        if day in overrides:
            raise ValueError(f"{day} is both a holiday and a workday")
        overrides[day] = None
    return HolidayCalendar(overrides)


def _day(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None
