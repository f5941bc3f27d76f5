"""Diary warnings and the household ledger's balance (pure rules)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.scheduling.diary import LedgerError, balance_after, diary_warning

DAY = date(2026, 11, 10)


def before(n: int) -> date:
    return DAY - timedelta(days=n)


@pytest.mark.parametrize(
    ("signs", "appetite", "earlier", "expected"),
    [
        ((), "good", {}, None),
        (("pain", "fever"), "fair", {}, None),  # noted, not urgent
        (("fall",), "good", {}, ("fall",)),
        (("pain", "breathing", "fall"), "good", {}, ("breathing", "fall")),
        ((), "none", {before(1): "none", before(2): "none"}, ("no_appetite",)),
        ((), "none", {before(1): "none"}, None),  # two days only
        ((), "none", {before(1): "none", before(3): "none"}, None),  # a gap breaks the run
        ((), "none", {before(1): "poor", before(2): "none"}, None),
        ((), "poor", {before(1): "none", before(2): "none"}, None),  # today ate a little
        (("injury",), "none", {before(1): "none", before(2): "none"}, ("injury", "no_appetite")),
    ],
)
def test_which_diaries_warn(
    signs: tuple[str, ...],
    appetite: str,
    earlier: dict[date, str],
    expected: tuple[str, ...] | None,
) -> None:
    warning = diary_warning(DAY, signs, appetite, earlier)
    assert (warning.signs if warning else None) == expected


def test_a_warning_says_why_in_both_languages() -> None:
    warning = diary_warning(DAY, ("fall",), "none", {before(1): "none", before(2): "none"})
    assert warning is not None
    assert warning.reason == "reported fall; no appetite for 3 days"
    assert warning.reason_zh == "报告摔倒；连续3天没有食欲"


def test_the_ledger_never_holds_less_than_nothing() -> None:
    assert balance_after(Decimal("0.00"), "received", Decimal("100.00")) == Decimal("100.00")
    assert balance_after(Decimal("100.00"), "purchase", Decimal("100.00")) == Decimal("0.00")
    with pytest.raises(LedgerError, match=r"more than the 100\.00 held"):
        balance_after(Decimal("100.00"), "returned", Decimal("100.01"))
    with pytest.raises(LedgerError, match="more than zero"):
        balance_after(Decimal("5.00"), "received", Decimal("0.00"))


entries = st.lists(
    st.tuples(
        st.sampled_from(["received", "purchase", "returned"]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2),
    ),
    max_size=30,
)


@given(entries)
def test_the_balance_is_what_came_in_minus_what_went_out(
    ledger: list[tuple[str, Decimal]],
) -> None:
    balance, accepted = Decimal("0.00"), []
    for kind, amount in ledger:
        try:
            balance = balance_after(balance, kind, amount)
        except LedgerError:
            continue  # refused: nothing changes
        accepted.append((kind, amount))
        assert balance >= 0
        assert balance == balance.quantize(Decimal("0.01"))  # exact to the fen
    received = sum((a for k, a in accepted if k == "received"), Decimal("0"))
    spent = sum((a for k, a in accepted if k != "received"), Decimal("0"))
    assert balance == received - spent
