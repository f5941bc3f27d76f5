"""Money and date field types shared by the wire formats (policies, applications, billing).

Money is exact decimal yuan with at most 2 places (fen). It is only ever read from a decimal
string: a JSON number has already been through a binary float, so it is refused rather than
silently rounded. Dates are plain ISO dates (YYYY-MM-DD); nothing else is guessed at.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

FEN = Decimal("0.01")
_MONEY = re.compile(r"([0-9]+)(\.[0-9]{1,2})?")
# Far above any household income or subsidy, and keeps quantize() within Decimal's precision.
_MAX_WHOLE_DIGITS = 15
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_money(value: object) -> Decimal:
    """A non-negative amount from a decimal string such as "500.00" (or a Decimal in code)."""
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool | int | float):
        raise PydanticCustomError(
            "money_not_string",
            'money must be a decimal string such as "500.00", not a JSON number '
            "(money is never a float)",
        )
    else:
        raise PydanticCustomError("money_type", 'money must be a decimal string such as "500.00"')
    if text.startswith("-"):
        raise PydanticCustomError("money_negative", "money must not be negative")
    match = _MONEY.fullmatch(text)
    if not match:
        raise PydanticCustomError(
            "money_format", 'money must be digits with at most 2 decimals, such as "500.00"'
        )
    if len(match.group(1)) > _MAX_WHOLE_DIGITS:
        raise PydanticCustomError("money_too_large", "money amount is too large")
    return Decimal(text).quantize(FEN)


def parse_iso_date(value: object) -> date:
    """A calendar date from "YYYY-MM-DD" (or a date in code)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass  # e.g. 2026-02-30: same message as any other bad date
    raise PydanticCustomError("invalid_date", "invalid date (expected YYYY-MM-DD)")


def money_text(amount: Decimal) -> str:
    """Money as it is written in files: always 2 decimals."""
    return str(amount.quantize(FEN))


# On the wire money is a decimal string only; the schema says so (a number is refused).
MONEY_JSON_SCHEMA = {
    "type": "string",
    "pattern": r"^[0-9]{1,15}(\.[0-9]{1,2})?$",
    "examples": ["500.00"],
}
Money = Annotated[Decimal, BeforeValidator(parse_money), WithJsonSchema(MONEY_JSON_SCHEMA)]
IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
