"""The policy as data: defaults, effective dates, loading from JSON (amounts as strings)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eligibility_builders import application, assess_data, elder

from services.dispatch.eligibility.policy import (
    DEFAULT_POLICY_BOOK,
    EligibilityPolicy,
    PolicyBook,
    PolicyError,
    load_policy_book,
    policy_from_dict,
)

NEEDY: dict[str, Any] = {"self_care": "needs_help"}


def test_default_policy_holds_the_section_3_1_numbers() -> None:
    policy = DEFAULT_POLICY_BOOK.policy_on(date(2002, 9, 1))
    assert policy.effective_from == date(2002, 9, 1)
    ages = (
        policy.elder_min_age,
        policy.a_min_age,
        policy.b_male_min_age,
        policy.b_female_min_age,
        policy.b2_min_age,
    )
    assert ages == (60, 80, 70, 65, 70)
    assert policy.income_limit_two_elders == Decimal("1000.00")
    assert policy.income_limit_one_elder == Decimal("600.00")
    assert policy.subsidy == {
        "A": Decimal("300.00"),
        "B": Decimal("200.00"),
        "C": Decimal("100.00"),
        "D": Decimal("0.00"),
    }
    assert policy.round_cutoff_day == 10


def test_no_policy_before_the_first() -> None:
    with pytest.raises(PolicyError, match=r"2002-08-31.*2002-09-01"):
        DEFAULT_POLICY_BOOK.policy_on(date(2002, 8, 31))


LATER = {
    "effective_from": "2027-01-01",
    "b_female_min_age": 70,
    "income_limit_one_elder": "800.00",
    "subsidy": {"A": "350.00", "B": "250.00", "C": "120.00", "D": "0.00"},
}
BOOK = PolicyBook([*DEFAULT_POLICY_BOOK.policies, policy_from_dict(LATER)])


def test_policy_on_picks_the_latest_started() -> None:
    assert BOOK.policy_on(date(2026, 12, 31)).subsidy["B"] == Decimal("200.00")
    assert BOOK.policy_on(date(2027, 1, 1)).subsidy["B"] == Decimal("250.00")
    assert BOOK.policy_on(date(2099, 1, 1)).effective_from == date(2027, 1, 1)


def test_later_policy_applies_from_its_round() -> None:
    # F 72 needing care, income 700.00: over 600.00 (old) but within 800.00 (new).
    data = application(elder(72, **NEEDY), monthly_income="700.00")
    before = assess_data({**data, "received_on": "2026-12-09"}, BOOK)
    after = assess_data({**data, "received_on": "2026-12-10"}, BOOK)
    assert (before.round, before.category, before.monthly_subsidy) == (
        "2026-12",
        "C",
        Decimal("100.00"),
    )
    assert (after.round, after.category, after.monthly_subsidy) == (
        "2027-01",
        "B",
        Decimal("250.00"),
    )


def test_later_policy_ages_apply() -> None:
    # F 66 needing care: B under the old policy (65), C under the new one (70).
    data = application(elder(66, **NEEDY), received_on="2027-01-05")
    assert assess_data(data).category == "B"
    assert assess_data(data, BOOK).category == "C"


def test_amounts_are_decimals_from_strings() -> None:
    policy = policy_from_dict({"effective_from": "2026-01-01", "income_limit_one_elder": "600.1"})
    assert policy.income_limit_one_elder == Decimal("600.10")
    assert policy.income_limit_one_elder.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"effective_from": "2026-01-01", "income_limit_one_elder": 600.0}, "never a float"),
        ({"effective_from": "2026-01-01", "income_limit_two_elders": 1000}, "not a JSON number"),
        (
            {"effective_from": "2026-01-01", "subsidy": {"A": 300.5, "B": "1", "C": "1", "D": "0"}},
            r"subsidy\.A: money must be a decimal string",
        ),
        ({"effective_from": "2026-01-01", "subsidy": {"A": "300.00"}}, "missing amount"),
        ({"effective_from": "2026-01-01", "a_min_age": "80"}, "a_min_age"),
        ({"effective_from": "2026-01-01", "round_cutoff_day": 31}, "round_cutoff_day"),
        ({"effective_from": "2026-01-01", "cutoff": 10}, "cutoff"),
        ({"effective_from": "2026-13-01"}, "effective_from: invalid date"),
        ({}, "effective_from"),
    ],
)
def test_bad_policy_is_refused_clearly(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        policy_from_dict(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "at least one policy"),
        ('{"effective_from": "2026-01-01"}', "JSON list"),
        ('[{"effective_from": "2026-01-01"}, {"effective_from": "2026-01-01"}]', "same day"),
        ("[", "not valid JSON"),
    ],
)
def test_bad_policy_book_is_refused(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        PolicyBook.from_json(text)


def test_load_policy_book(tmp_path: Path) -> None:
    path = tmp_path / "policies.json"
    path.write_text(json.dumps([LATER, {"effective_from": "2002-09-01"}]), encoding="utf-8")
    book = load_policy_book(path)
    assert [p.effective_from for p in book.policies] == [date(2002, 9, 1), date(2027, 1, 1)]
    assert book.policy_on(date(2027, 1, 1)) == BOOK.policy_on(date(2027, 1, 1))


def test_policy_is_frozen() -> None:
    policy = EligibilityPolicy(effective_from=date(2026, 1, 1))
    with pytest.raises(ValueError, match="frozen"):
        policy.a_min_age = 75  # type: ignore[misc]
