"""Pure rules for diaries and ledgers (no I/O): which diaries warn the family doctor, and
the cash a caregiver holds for a household."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

# Signs that warn at once (the family doctor should hear of a fall today, not next week).
URGENT_SIGNS = {
    "fall": "摔倒",
    "breathing": "呼吸困难",
    "confusion": "意识混乱",
    "injury": "受伤",
}
NO_APPETITE_DAYS = 3  # "no appetite for three days"


@dataclass(frozen=True)
class Warning:
    signs: tuple[str, ...]
    reason: str
    reason_zh: str


def diary_warning(
    day: date, health_signs: Sequence[str], appetite: str, earlier: dict[date, str]
) -> Warning | None:
    """The warning a diary raises, if any. ``earlier``: appetite by date from the household's
    previous diaries (any caregiver)."""
    urgent = tuple(sign for sign in health_signs if sign in URGENT_SIGNS)
    days = [day - timedelta(days=n) for n in range(NO_APPETITE_DAYS)]
    appetites = {day: appetite} | {d: earlier[d] for d in days[1:] if d in earlier}
    starving = all(appetites.get(d) == "none" for d in days)
    if not urgent and not starving:
        return None
    signs = urgent + (("no_appetite",) if starving else ())
    reasons = [f"reported {sign}" for sign in urgent]
    reasons_zh = [f"报告{URGENT_SIGNS[sign]}" for sign in urgent]
    if starving:
        reasons.append(f"no appetite for {NO_APPETITE_DAYS} days")
        reasons_zh.append(f"连续{NO_APPETITE_DAYS}天没有食欲")
    return Warning(signs, "; ".join(reasons), "；".join(reasons_zh))


class LedgerError(ValueError):
    """An entry the ledger cannot take (the reason is for the caregiver)."""


def balance_after(balance: Decimal, kind: str, amount: Decimal) -> Decimal:
    """The household's cash the caregiver holds after an entry: money received adds, a
    purchase or cash returned takes away; it never goes below zero."""
    if amount <= 0:
        raise LedgerError("the amount must be more than zero")
    after = balance + amount if kind == "received" else balance - amount
    if after < 0:
        raise LedgerError(f"{kind} of {amount} is more than the {balance} held for this household")
    return after
