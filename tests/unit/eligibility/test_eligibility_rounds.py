"""Rounds (cut-off day) and ages on the round's first day, including 29 February."""

from __future__ import annotations

from datetime import date

import pytest

from services.dispatch.eligibility.policy import DEFAULT_POLICY_BOOK, EligibilityPolicy
from services.dispatch.eligibility.rounds import age_on, round_for, round_start

POLICY = DEFAULT_POLICY_BOOK.policy_on(date(2026, 1, 1))


@pytest.mark.parametrize(
    ("received_on", "expected"),
    [
        (date(2026, 11, 1), "2026-11"),
        (date(2026, 11, 9), "2026-11"),
        (date(2026, 11, 10), "2026-12"),
        (date(2026, 11, 30), "2026-12"),
        (date(2026, 12, 9), "2026-12"),
        (date(2026, 12, 10), "2027-01"),
        (date(2026, 12, 31), "2027-01"),
        (date(2028, 2, 29), "2028-03"),
    ],
)
def test_round_for(received_on: date, expected: str) -> None:
    assert round_for(received_on, POLICY) == expected


def test_round_follows_the_policys_cutoff_day() -> None:
    late = EligibilityPolicy(effective_from=date(2026, 1, 1), round_cutoff_day=15)
    assert round_for(date(2026, 11, 14), late) == "2026-11"
    assert round_for(date(2026, 11, 15), late) == "2026-12"


def test_round_start() -> None:
    assert round_start("2027-01") == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("birth_date", "day", "age"),
    [
        (date(1946, 11, 1), date(2026, 11, 1), 80),  # birthday on the day: reached
        (date(1946, 11, 2), date(2026, 11, 1), 79),
        (date(1946, 10, 31), date(2026, 11, 1), 80),
        (date(1944, 2, 29), date(2024, 2, 1), 79),  # leap year, before the birthday
        (date(1944, 2, 29), date(2024, 3, 1), 80),
        (date(1948, 2, 29), date(2026, 3, 1), 78),  # non-leap year: reached on 1 March
        (date(1948, 2, 29), date(2026, 2, 1), 77),
        (date(1948, 2, 29), date(2027, 2, 28), 78),  # not yet on 28 February
        (date(1948, 2, 29), date(2028, 2, 29), 80),
        (date(2030, 1, 1), date(2026, 11, 1), -4),  # born after the day: not an elder
    ],
)
def test_age_on(birth_date: date, day: date, age: int) -> None:
    assert age_on(birth_date, day) == age
