"""The public-holiday calendar: the official days, a deployment's corrections, a bad file."""

from __future__ import annotations

from datetime import date

import pytest

from services.scheduling.holidays import OFFICIAL, HolidayCalendar, calendar_from_mapping


def test_official_holidays_have_their_chinese_names() -> None:
    assert OFFICIAL.holiday(date(2026, 10, 1)) == "国庆节"
    assert OFFICIAL.holiday(date(2026, 10, 4)) == "国庆节"  # a Sunday inside the holiday
    assert OFFICIAL.holiday(date(2026, 2, 17)) == "春节"
    assert OFFICIAL.holiday(date(2026, 1, 1)) == "元旦"


def test_ordinary_days_weekends_and_moved_workdays_are_not_holidays() -> None:
    assert OFFICIAL.holiday(date(2026, 10, 8)) is None  # back at work
    assert OFFICIAL.holiday(date(2026, 11, 21)) is None  # an ordinary Saturday
    assert OFFICIAL.holiday(date(2026, 10, 10)) is None  # a Saturday worked for National Day


def test_a_year_without_data_has_no_holidays_and_says_so() -> None:
    assert OFFICIAL.knows(2026)
    assert not OFFICIAL.knows(2099)
    assert OFFICIAL.holiday(date(2099, 10, 1)) is None
    assert OFFICIAL.holidays(2099) == []


def test_a_year_lists_every_holiday_in_order() -> None:
    days = OFFICIAL.holidays(2026)
    assert days == sorted(days)
    national = [d for d, name in days if name == "国庆节"]
    assert national == [date(2026, 10, n) for n in range(1, 8)]


def test_the_file_adds_a_year_and_corrects_days() -> None:
    calendar = calendar_from_mapping(
        {
            "holidays": {"2099-01-01": "元旦", date(2099, 1, 2): " 元旦 "},
            "workdays": ["2026-10-07"],
        }
    )
    assert calendar.knows(2099)
    assert calendar.holidays(2099) == [(date(2099, 1, 1), "元旦"), (date(2099, 1, 2), "元旦")]
    assert calendar.holiday(date(2026, 10, 7)) is None  # corrected to a working day
    assert calendar.holiday(date(2026, 10, 6)) == "国庆节"  # the rest stays official
    assert calendar_from_mapping(None) == HolidayCalendar()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (["2099-01-01"], "a mapping"),
        ({"holiday": {}}, "unknown keys ['holiday']"),
        ({"holidays": ["2099-01-01"]}, "'holidays' maps dates"),
        ({"holidays": {"2099-13-01": "元旦"}}, "'2099-13-01' is not a date"),
        ({"holidays": {"2099-01-01": ""}}, "2099-01-01: the name must be 1-40 characters"),
        ({"holidays": {"2099-01-01": 5}}, "the name must be"),
        ({"workdays": "2099-01-01"}, "'workdays' is a list"),
        ({"workdays": ["tomorrow"]}, "workdays: 'tomorrow' is not a date"),
        (
            {"holidays": {"2099-01-01": "元旦"}, "workdays": ["2099-01-01"]},
            "both a holiday and a workday",
        ),
    ],
)
def test_a_wrong_file_says_what_is_wrong(content: object, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        calendar_from_mapping(content)
    assert problem in str(caught.value)
