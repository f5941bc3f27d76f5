"""Billing: served days of a month."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.billing.model import CategoryFrom, Visit, category_on, count_month, month_bounds


@pytest.mark.parametrize(
    ("month", "last_day"),
    [("2026-02", 28), ("2028-02", 29), ("2026-11", 30), ("2026-12", 31), ("2100-02", 28)],
)
def test_month_bounds(month: str, last_day: int) -> None:
    year, mon = int(month[:4]), int(month[5:])
    assert month_bounds(month) == (date(year, mon, 1), date(year, mon, last_day))


def test_category_on() -> None:
    periods = [
        CategoryFrom("H1", date(2026, 11, 5), "B"),
        CategoryFrom("H1", date(2026, 11, 10), None),
        CategoryFrom("H1", date(2026, 11, 20), "A"),
    ]
    assert category_on(periods, date(2026, 11, 4)) is None  # before the first entry
    assert category_on(periods, date(2026, 11, 5)) == "B"  # in force from its own date
    assert category_on(periods, date(2026, 11, 9)) == "B"
    assert category_on(periods, date(2026, 11, 10)) is None  # null entry: not enrolled
    assert category_on(periods, date(2026, 11, 19)) is None
    assert category_on(periods, date(2026, 11, 20)) == "A"  # later entry overrides
    assert category_on(periods, date(2027, 1, 1)) == "A"
    assert category_on([], date(2026, 11, 1)) is None


def visit(household: str, day: int, caregiver: str = "C1", month: int = 11) -> Visit:
    return Visit(household, caregiver, date(2026, month, day))


ENROLLED = [CategoryFrom("H1", date(2026, 1, 1), "C"), CategoryFrom("H2", date(2026, 1, 1), "A")]


def test_visits_outside_the_month_are_ignored() -> None:
    visits = [visit("H1", 31, month=10), visit("H1", 1), visit("H1", 30), visit("H1", 1, month=12)]
    count = count_month("2026-11", ENROLLED, visits)
    assert (count.visits, count.served_days, count.unenrolled_visits) == (2, 2, 0)
    assert count.served == {"H1": {date(2026, 11, 1), date(2026, 11, 30)}}


def test_visits_on_unenrolled_days_are_counted_apart() -> None:
    categories = [CategoryFrom("H1", date(2026, 11, 10), "B")]
    visits = [visit("H1", 9), visit("H1", 10), visit("H9", 10, caregiver="C9")]  # H9 never enrolled
    count = count_month("2026-11", categories, visits)
    assert count.unenrolled_visits == 2
    assert (count.visits, count.served_days) == (1, 1)
    assert count.caregivers == {"C1"}


def test_two_visits_same_household_same_day_is_one_served_day() -> None:
    count = count_month(
        "2026-11", ENROLLED, [visit("H1", 3), visit("H1", 3, caregiver="C2"), visit("H2", 3)]
    )
    assert count.visits == 3
    assert count.served_days == 2
    assert count.caregivers == {"C1", "C2"}
    assert dict(count.category_days) == {"C": 1, "A": 1}


def test_category_days_follow_mid_month_changes() -> None:
    # given out of order on purpose: count_month sorts each household's periods
    categories = [
        CategoryFrom("H1", date(2026, 11, 16), "A"),
        CategoryFrom("H1", date(2026, 10, 1), "D"),
        CategoryFrom("H1", date(2026, 11, 25), None),
    ]
    visits = [visit("H1", d) for d in range(1, 31)]
    count = count_month("2026-11", categories, visits)
    assert dict(count.category_days) == {"D": 15, "A": 9}
    assert count.served_days == 24
    assert count.unenrolled_visits == 6


HOUSEHOLDS = ["H1", "H2", "H3"]
categories_st = st.lists(
    st.builds(
        CategoryFrom,
        household_id=st.sampled_from(HOUSEHOLDS),
        from_date=st.dates(date(2026, 10, 1), date(2026, 12, 31)),
        category=st.sampled_from(["A", "B", "C", "D", None]),
    ),
    max_size=8,
    unique_by=lambda c: (c.household_id, c.from_date),
)
visits_st = st.lists(
    st.builds(
        Visit,
        household_id=st.sampled_from([*HOUSEHOLDS, "H4"]),
        caregiver_id=st.sampled_from(["C1", "C2"]),
        date=st.dates(date(2026, 10, 25), date(2026, 12, 5)),
    ),
    max_size=40,
)


def _enrolled_brute_force(categories: list[CategoryFrom], household: str, day: date) -> str | None:
    """Latest entry on or before ``day``, found without sorting or early exit."""
    applicable = [c for c in categories if c.household_id == household and c.from_date <= day]
    if not applicable:
        return None
    return max(applicable, key=lambda c: c.from_date).category


@given(categories_st, visits_st)
def test_served_days_are_distinct_enrolled_household_days(
    categories: list[CategoryFrom], visits: list[Visit]
) -> None:
    first, last = date(2026, 11, 1), date(2026, 11, 30)
    in_month = [v for v in visits if first <= v.date <= last]
    enrolled = [v for v in in_month if _enrolled_brute_force(categories, v.household_id, v.date)]
    pairs = {(v.household_id, v.date) for v in enrolled}

    count = count_month("2026-11", categories, visits)

    assert count.served_days == len(pairs)
    assert count.visits == len(enrolled)
    assert count.unenrolled_visits == len(in_month) - len(enrolled)
    assert count.caregivers == {v.caregiver_id for v in enrolled}
    assert {(h, d) for h, days in count.served.items() for d in days} == pairs
    by_category = Counter(_enrolled_brute_force(categories, h, d) for h, d in pairs)
    assert count.category_days == by_category
