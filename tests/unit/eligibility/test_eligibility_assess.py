"""Whole assessments: gates, precedence between categories, the round and its ages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from eligibility_builders import application, assess_data, elder, three_nos

ILL: dict[str, Any] = {"seriously_ill_certified": True, "self_care": "unable"}
NEEDY: dict[str, Any] = {"self_care": "needs_help"}
RICH: dict[str, Any] = {"monthly_income": "5000.00"}

CASES: list[tuple[str, dict[str, Any], str | None, list[str]]] = [
    # Gates.
    ("not resident", application(three_nos(90), resides_locally=False), None, []),
    ("does not want the service", application(three_nos(90), wants_service=False), None, []),
    ("no elder: 59, birthday on the 2nd", application(elder(60, birthday=2, **NEEDY)), None, []),
    ("no elder: empty list", application(elders=[]), None, []),
    ("elder exactly 60", application(elder(60)), "D", ["D"]),
    ("no local hukou: at most D", application(three_nos(90), hukou_local=False), "D", ["D"]),
    ("well-off resident", application(elder(70), **RICH), "D", ["D"]),
    # A.
    ("A1 only", application(three_nos(80), **RICH), "A", ["A1"]),
    ("A1 beats B1", application(three_nos(80)), "A", ["A1"]),
    ("A2 only", application(elder(62, **NEEDY, has_children=False), on_dibao=True), "A", ["A2"]),
    (
        "A1 and A2",
        application(three_nos(85, has_children=False), on_dibao=True),
        "A",
        ["A1", "A2"],
    ),
    (
        "A1 and A2 from different elders",
        application(three_nos(85), elder(62, **NEEDY, has_children=False), on_dibao=True),
        "A",
        ["A1", "A2"],
    ),
    # B.
    ("B1 beats C1", application(elder(65, **NEEDY)), "B", ["B1"]),
    ("B2 only", application(elder(70, **ILL), **RICH), "B", ["B2"]),
    ("B1 and B2", application(elder(70, **ILL)), "B", ["B1", "B2"]),
    ("79 unable with income: B not A", application(three_nos(80, birthday=2)), "B", ["B1"]),
    # C.
    ("C1: needs care, over the income limit", application(elder(70, **NEEDY), **RICH), "C", ["C1"]),
    ("C1: male 69 needing care", application(elder(70, birthday=2, sex="M", **NEEDY)), "C", ["C1"]),
    (
        "C1 and C2",
        application(elder(66, sex="M", **ILL), elder(64, unemployed=True), on_dibao=True, **RICH),
        "C",
        ["C1", "C2"],
    ),
    (
        "C2 household also matching B2 gets B",
        application(elder(75, sex="M", **ILL), elder(64, unemployed=True), on_dibao=True, **RICH),
        "B",
        ["B2"],
    ),
]


@pytest.mark.parametrize(
    ("data", "category", "rules"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_assess(data: dict[str, Any], category: str | None, rules: list[str]) -> None:
    result = assess_data(data)
    assert (result.category, result.rules) == (category, rules)
    assert result.household_id == "H1"
    assert result.round == "2026-11"


@pytest.mark.parametrize(
    ("data", "subsidy"),
    [
        (application(three_nos(80)), "300.00"),
        (application(elder(65, **NEEDY)), "200.00"),
        (application(elder(65, **NEEDY), **RICH), "100.00"),
        (application(elder(65)), "0.00"),
        (application(elder(65), resides_locally=False), "0.00"),
    ],
)
def test_monthly_subsidy_is_the_policy_amount(data: dict[str, Any], subsidy: str) -> None:
    amount = assess_data(data).monthly_subsidy
    assert amount == Decimal(subsidy)
    assert str(amount) == subsidy  # always 2 places


@pytest.mark.parametrize(
    ("received_on", "round_month", "category"),
    [
        # Born 1946-12-01: 79 on 2026-11-01, 80 on 2026-12-01.
        ("2026-11-09", "2026-11", "B"),
        ("2026-11-10", "2026-12", "A"),
        ("2026-11-30", "2026-12", "A"),
    ],
)
def test_received_day_decides_the_round_and_the_age(
    received_on: str, round_month: str, category: str
) -> None:
    data = application(three_nos(birth_date="1946-12-01"), received_on=received_on)
    result = assess_data(data)
    assert (result.round, result.category) == (round_month, category)


def test_received_on_31_december_goes_to_next_januarys_round() -> None:
    # Born 1947-01-01: 79 in the 2026-12 round, 80 on 2027-01-01.
    data = application(three_nos(birth_date="1947-01-01"), received_on="2026-12-31")
    result = assess_data(data)
    assert (result.round, result.category, result.rules) == ("2027-01", "A", ["A1"])


def test_becoming_an_elder_with_the_round() -> None:
    # Born 1966-12-01: 59 in the 2026-11 round, 60 in 2026-12.
    data = application(elder(birth_date="1966-12-01", **NEEDY), **RICH)
    assert assess_data({**data, "received_on": "2026-11-09"}).category is None
    assert assess_data({**data, "received_on": "2026-11-10"}).category == "C"
