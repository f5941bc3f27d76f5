"""Formatting of money, days and counts for documents and exports (domain.md §6).

Amounts are :class:`~decimal.Decimal` yuan and are never turned into floats: formatting goes
straight from the Decimal, rounded half-up (四舍五入) to the fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_fen(value: Decimal | int) -> Decimal:
    """``value`` rounded half-up to 2 places (a negative zero becomes zero)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"expected a Decimal, not {type(value).__name__}")
    quantized = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return quantized if quantized else abs(quantized)


def format_money(value: Decimal | int) -> str:
    """For documents: 2 decimals and thousands separators, ``Decimal("1500") -> "1,500.00"``."""
    return f"{to_fen(value):,.2f}"


def plain_money(value: Decimal | int) -> str:
    """For exports: 2 decimals, no separators, ``Decimal("1500") -> "1500.00"``."""
    return f"{to_fen(value):.2f}"


def format_days(value: Decimal | int) -> str:
    """A caregiver's weighted days (domain.md §6 step 5), 2 places: ``"14.50"``."""
    return f"{to_fen(value):,.2f}"


def format_count(value: int) -> str:
    """Households, served days: ``3408 -> "3,408"``."""
    return f"{value:,d}"
