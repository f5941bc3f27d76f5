"""Properties over any valid application and any policy book built from valid policies."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contracts.dispatch.application import Application
from services.dispatch.eligibility.assess_file import assess_document
from services.dispatch.eligibility.policy import (
    DEFAULT_POLICY_BOOK,
    EligibilityPolicy,
    PolicyBook,
)
from services.dispatch.eligibility.rules import assess, round_for

FIRST_POLICY_DAY = date(2002, 9, 1)
RANK = {"A": 0, "B": 1, "C": 2, "D": 3}

money = st.decimals(min_value=0, max_value=3000, places=2).map(lambda d: f"{d:.2f}")
mostly_true = st.sampled_from([True, True, True, False])  # else most households are gated out
days = st.dates(min_value=FIRST_POLICY_DAY, max_value=date(2100, 12, 31))


@st.composite
def elder_data(draw: st.DrawFn, received_on: date) -> dict[str, Any]:
    # Mostly elders (60 to 95), sometimes any age, including born after the round.
    elderly = st.integers(min_value=60 * 366, max_value=95 * 366)
    anywhere = st.integers(min_value=-400, max_value=110 * 366)
    age_days = draw(st.one_of(elderly, elderly, elderly, anywhere))
    bools = st.booleans()
    return {
        "sex": draw(st.sampled_from(["F", "M"])),
        "birth_date": (received_on - timedelta(days=age_days)).isoformat(),
        "self_care": draw(st.sampled_from(["independent", "needs_help", "unable"])),
        "can_work": draw(bools),
        "has_income": draw(bools),
        "has_legal_supporter": draw(bools),
        "has_children": draw(bools),
        "seriously_ill_certified": draw(bools),
        "unemployed": draw(bools),
    }


@st.composite
def application_data(draw: st.DrawFn) -> dict[str, Any]:
    received_on = draw(days)
    fewest_elders = draw(st.sampled_from([1, 1, 1, 0]))  # empty lists would dominate otherwise
    return {
        "household_id": draw(st.from_regex(r"H[0-9]{1,4}", fullmatch=True)),
        "received_on": received_on.isoformat(),
        "hukou_local": draw(mostly_true),
        "resides_locally": draw(mostly_true),
        "on_dibao": draw(st.booleans()),
        "monthly_income": draw(money),
        "wants_service": draw(mostly_true),
        "elders": draw(st.lists(elder_data(received_on), min_size=fewest_elders, max_size=4)),
    }


@st.composite
def policies(draw: st.DrawFn, effective_from: date) -> EligibilityPolicy:
    ages = st.integers(min_value=50, max_value=95)
    return EligibilityPolicy(
        effective_from=effective_from,
        elder_min_age=draw(ages),
        a_min_age=draw(ages),
        b_male_min_age=draw(ages),
        b_female_min_age=draw(ages),
        b2_min_age=draw(ages),
        income_limit_two_elders=Decimal(draw(money)),
        income_limit_one_elder=Decimal(draw(money)),
        subsidy={c: Decimal(draw(money)) for c in "ABCD"},
        round_cutoff_day=draw(st.integers(min_value=1, max_value=28)),
    )


@st.composite
def books(draw: st.DrawFn) -> PolicyBook:
    # The first policy starts with the programme, so every generated application is covered.
    later = draw(st.lists(days.filter(lambda d: d != FIRST_POLICY_DAY), max_size=3, unique=True))
    return PolicyBook(draw(policies(d)) for d in [FIRST_POLICY_DAY, *later])


@given(application_data(), st.one_of(st.just(DEFAULT_POLICY_BOOK), books()))
def test_assess_never_raises_and_is_consistent(data: dict[str, Any], book: PolicyBook) -> None:
    app = Application.model_validate(data)
    result = assess(app, book)
    assert (result.category is None) == (result.rules == [])
    assert result.rules == sorted(set(result.rules))
    assert all(rule_id[0] == result.category for rule_id in result.rules)
    policy = book.policy_on(date(int(result.round[:4]), int(result.round[5:]), 1))
    expected = Decimal("0.00") if result.category is None else policy.subsidy[result.category]
    assert result.monthly_subsidy == expected
    assert result.monthly_subsidy.as_tuple().exponent == -2
    if not (app.resides_locally and app.wants_service):
        assert result.category is None
    if not app.hukou_local:
        assert result.category in (None, "D")


@given(application_data(), money)
def test_less_income_never_lowers_the_category(data: dict[str, Any], other: str) -> None:
    low, high = sorted([Decimal(data["monthly_income"]), Decimal(other)])
    poorer = assess(
        Application.model_validate({**data, "monthly_income": str(low)}), DEFAULT_POLICY_BOOK
    )
    richer = assess(
        Application.model_validate({**data, "monthly_income": str(high)}), DEFAULT_POLICY_BOOK
    )
    assert (poorer.category is None) == (richer.category is None)
    if poorer.category is not None and richer.category is not None:
        assert RANK[poorer.category] <= RANK[richer.category]


@given(days, st.integers(min_value=1, max_value=28))
def test_round_is_the_same_month_iff_before_the_cutoff(day: date, cutoff: int) -> None:
    policy = EligibilityPolicy(effective_from=FIRST_POLICY_DAY, round_cutoff_day=cutoff)
    round_month = round_for(day, policy)
    same = f"{day.year:04d}-{day.month:02d}"
    next_month = (day.replace(day=28) + timedelta(days=4)).strftime("%Y-%m")
    assert round_month == (same if day.day < cutoff else next_month)


@given(st.lists(application_data(), max_size=5))
def test_document_keeps_order_and_never_errs_on_valid_items(items: list[dict[str, Any]]) -> None:
    results = assess_document(json.dumps(items))
    assert [r["household_id"] for r in results] == [i["household_id"] for i in items]
    assert all("error" not in r for r in results)
