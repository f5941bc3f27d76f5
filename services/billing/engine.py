"""The monthly billing engine (domain.md §6): pure, exact, streaming per household.

No I/O, no database, no bus: the billing service reads a month's categories and visits and
hands them over household by household; ``homecare billing compute`` does the same from a
scenario file.

Money is exact. Amounts are ``Decimal`` yuan with 2 places (fen); inside, every sum is an
``int`` of fen and every quotient a ``Fraction``, rounded once, half-up (四舍五入, Decimal's
``ROUND_HALF_UP``) to a whole fen. No float is ever involved.

Policy with effective dates. A ``PolicySchedule`` says which ``Policy`` (monthly fee and
subsidy table) is in force on each day, so §6 is applied per day. For household h in a month
of N days, with served days S_h:

    charge_h  = round_half_up( Σ_{d ∈ S_h} fee(d) / N )
    subsidy_h = min( charge_h, round_half_up( Σ_{d ∈ S_h} subsidy_d(category_h(d)) / N ) )
    family_h  = charge_h − subsidy_h

When one policy holds all month, Σ_{d ∈ S_h} fee(d) = monthly_fee × |S_h| and this is §6 steps
2 to 4 word for word; when the policy changes mid-month each day is charged at the fee and
subsidy in force that day, and still rounded only once.

Caregivers (§6 steps 5 and 6). On each served day d, each of the k_d distinct caregivers who
visited h earns weight 1/k_d (several visits by one caregiver on one day count once); w_hc is
the exact sum (a ``Fraction``). ``subsidy_h`` and ``family_h`` are each split in proportion to
the weights by the largest-remainder method in whole fen: everyone gets the floor of their
exact quota, and the fen left over go one each to the largest remainders, equal remainders to
the smaller caregiver id (plain string order, so "C10" < "C2").

Streaming. ``bill_household`` needs one household's category periods and visits;
``MonthBilling`` adds up the outcomes. Memory is proportional to households and caregivers
(plus the warnings), never to the visits, so a city month (100,000 households, 3,000,000
visits) can be billed from a cursor ordered by household. ``compute`` is the in-memory
convenience used by scenario files and tests.

Warnings, not errors: a visit on a day the household was not enrolled (including a household
with no category on record at all) and a visit outside the month are not billed; each distinct
(household, caregiver, date) gives one warning.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
from types import MappingProxyType
from typing import Any

from services.billing.model import CategoryFrom, Visit, month_bounds

CATEGORIES: tuple[str, ...] = ("A", "B", "C", "D")
FEN = Decimal("0.01")
# Far above any fee or subsidy; keeps every amount well inside Decimal's 28 digits.
_MAX_FEN = 10**17


class PolicyError(ValueError):
    """A policy or policy schedule that cannot be used."""


# -- exact money ---------------------------------------------------------------------------


def round_half_up(value: Fraction) -> int:
    """The nearest integer, halves away from zero (四舍五入; Decimal's ROUND_HALF_UP)."""
    whole, rest = divmod(abs(value.numerator), value.denominator)
    if 2 * rest >= value.denominator:
        whole += 1
    return whole if value.numerator >= 0 else -whole


def to_fen(amount: Decimal) -> int:
    """A Decimal amount with at most 2 places as an int of fen (exact, or ValueError)."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"{amount!r} is not a finite Decimal amount")
    try:
        exact = amount.quantize(FEN) == amount
    except InvalidOperation:  # more digits than Decimal's precision
        raise ValueError(f"{amount} is too large") from None
    if not exact:
        raise ValueError(f"{amount} has more than 2 decimal places (fen)")
    return int(amount.scaleb(2))


def yuan(fen: int) -> Decimal:
    """An int of fen as Decimal yuan with exactly 2 places: 150000 -> Decimal('1500.00')."""
    return Decimal(fen).scaleb(-2)


def money_text(amount: Decimal) -> str:
    """An amount as written in the result JSON: always 2 decimals."""
    return str(amount.quantize(FEN))


def days_text(days: Fraction) -> str:
    """A caregiver's exact weight sum as a 2-place decimal string, rounded half-up."""
    return str(yuan(round_half_up(days * 100)))


# -- policy --------------------------------------------------------------------------------


def _policy_fen(amount: object, what: str) -> int:
    if not isinstance(amount, Decimal):
        raise PolicyError(f"{what} must be a Decimal, not {type(amount).__name__}")
    try:
        fen = to_fen(amount)
    except ValueError as exc:
        raise PolicyError(f"{what}: {exc}") from None
    if fen < 0:
        raise PolicyError(f"{what} must not be negative")
    if fen >= _MAX_FEN:
        raise PolicyError(f"{what} is too large")
    return fen


@dataclass(frozen=True)
class Policy:
    """The monthly service fee per household and the monthly subsidy per category, in yuan.

    ``subsidy`` must name exactly the categories A, B, C and D. Amounts are non-negative
    Decimals with at most 2 places. A subsidy above the fee is allowed (the subsidy is then
    capped at the charge, §6 step 3)."""

    monthly_fee: Decimal
    subsidy: Mapping[str, Decimal]
    _fen: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fee = _policy_fen(self.monthly_fee, "monthly_fee")
        keys = set(self.subsidy)
        if keys != set(CATEGORIES):
            missing = sorted(set(CATEGORIES) - keys)
            unknown = sorted(str(k) for k in keys - set(CATEGORIES))
            problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown {', '.join(unknown)}"] if unknown else []
            )
            raise PolicyError(
                f"subsidy must give an amount for each of A, B, C, D ({'; '.join(problems)})"
            )
        fens = [_policy_fen(self.subsidy[c], f"subsidy {c}") for c in CATEGORIES]
        object.__setattr__(
            self, "subsidy", MappingProxyType({c: self.subsidy[c] for c in CATEGORIES})
        )
        object.__setattr__(self, "_fen", (fee, *fens))

    def __hash__(self) -> int:
        return hash(self._fen)

    @property
    def fee_fen(self) -> int:
        return self._fen[0]

    def subsidy_fen(self, category: str) -> int:
        return self._fen[1 + CATEGORIES.index(category)]


DEFAULT_POLICY = Policy(
    monthly_fee=Decimal("1500.00"),
    subsidy={
        "A": Decimal("300.00"),
        "B": Decimal("200.00"),
        "C": Decimal("100.00"),
        "D": Decimal("0.00"),
    },
)


@dataclass(frozen=True)
class PolicySchedule:
    """Policies by effective date: ``entries`` are (first day in force, policy), dates
    strictly increasing. The policy on a day is the last entry that has started; before the
    first entry's date, the first entry applies."""

    entries: tuple[tuple[date, Policy], ...]
    _starts: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        entries = tuple((start, policy) for start, policy in self.entries)
        if not entries:
            raise PolicyError("a policy schedule needs at least one policy")
        for start, policy in entries:
            if not isinstance(start, date) or not isinstance(policy, Policy):
                raise PolicyError("policy schedule entries are (date, Policy) pairs")
        starts = tuple(start for start, _ in entries)
        if any(a >= b for a, b in pairwise(starts)):
            raise PolicyError("policy schedule dates must be strictly increasing")
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "_starts", starts)

    @classmethod
    def single(cls, policy: Policy) -> PolicySchedule:
        """One policy for all time."""
        return cls(((date.min, policy),))

    def on(self, day: date) -> Policy:
        """The policy in force on ``day``."""
        index = bisect_right(self._starts, day) - 1
        return self.entries[max(index, 0)][1]


DEFAULT_SCHEDULE = PolicySchedule.single(DEFAULT_POLICY)


@dataclass(frozen=True)
class _MonthTable:
    """A month's days with the fee and subsidies (fen) in force on each."""

    first: date
    days: int
    fee: tuple[int, ...]
    subsidy: Mapping[str, tuple[int, ...]]


@lru_cache(maxsize=64)
def _month_table(month: str, schedule: PolicySchedule) -> _MonthTable:
    first, last = month_bounds(month)
    n = (last - first).days + 1
    policies = [schedule.on(first + timedelta(days=i)) for i in range(n)]
    return _MonthTable(
        first=first,
        days=n,
        fee=tuple(p.fee_fen for p in policies),
        subsidy=MappingProxyType(
            {c: tuple(p.subsidy_fen(c) for p in policies) for c in CATEGORIES}
        ),
    )


_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def _checked_month(month: str) -> str:
    if not (isinstance(month, str) and _MONTH.fullmatch(month)) or month.startswith("0000"):
        raise ValueError(f"month must be YYYY-MM, not {month!r}")
    return month


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaregiverShare:
    """One caregiver's part of one household's month: weight Σ 1/k_d and the fen split."""

    caregiver_id: str
    weight: Fraction
    government: Decimal
    family: Decimal

    @property
    def pay(self) -> Decimal:
        return self.government + self.family


@dataclass(frozen=True)
class HouseholdBill:
    household_id: str
    served_days: int
    charge: Decimal
    subsidy: Decimal
    family_share: Decimal
    shares: tuple[CaregiverShare, ...]  # sorted by caregiver id


@dataclass(frozen=True)
class HouseholdOutcome:
    """What ``bill_household`` found: the bill (None when no day was served) and warnings
    (sorted by date, then caregiver)."""

    month: str
    household_id: str
    bill: HouseholdBill | None
    warnings: list[str]


@dataclass(frozen=True)
class CaregiverPay:
    """A caregiver's payroll for the month: the sums of its shares over households."""

    caregiver_id: str
    days: Fraction
    government_part: Decimal
    family_part: Decimal
    pay: Decimal


@dataclass(frozen=True)
class BillingTotals:
    charge: Decimal
    subsidy: Decimal
    family_share: Decimal
    pay: Decimal


@dataclass(frozen=True)
class BillingResult:
    month: str
    households: tuple[HouseholdBill, ...]  # sorted by household id; only households served
    caregivers: tuple[CaregiverPay, ...]  # sorted by caregiver id
    totals: BillingTotals
    warnings: tuple[str, ...]  # by household id, then date, then caregiver

    def to_json_dict(self) -> dict[str, Any]:
        """Exactly the domain.md §7 "Billing result" object (amounts as 2-decimal strings)."""
        return {
            "month": self.month,
            "households": [
                {
                    "household_id": h.household_id,
                    "served_days": h.served_days,
                    "charge": money_text(h.charge),
                    "subsidy": money_text(h.subsidy),
                    "family_share": money_text(h.family_share),
                }
                for h in self.households
            ],
            "caregivers": [
                {
                    "caregiver_id": c.caregiver_id,
                    "days": days_text(c.days),
                    "pay": money_text(c.pay),
                    "government_part": money_text(c.government_part),
                    "family_part": money_text(c.family_part),
                }
                for c in self.caregivers
            ],
            "totals": {
                "charge": money_text(self.totals.charge),
                "subsidy": money_text(self.totals.subsidy),
                "family_share": money_text(self.totals.family_share),
                "pay": money_text(self.totals.pay),
            },
            "warnings": list(self.warnings),
        }


# -- one household -------------------------------------------------------------------------


def largest_remainder(amount: int, weights: Mapping[str, Fraction]) -> dict[str, int]:
    """Split ``amount`` (whole fen, >= 0) in proportion to ``weights`` (> 0): the floor of
    each exact quota, then one fen each to the largest remainders, ties to the smaller id."""
    if amount < 0 or not weights or any(w <= 0 for w in weights.values()):
        raise ValueError("largest_remainder needs amount >= 0 and positive weights")
    # Over a common denominator the weights are integers, the quotas amount × w / Σw share
    # one denominator, and their remainders compare as integers: all exact.
    common = math.lcm(*(w.denominator for w in weights.values()))
    scaled = {c: w.numerator * (common // w.denominator) for c, w in weights.items()}
    total = sum(scaled.values())
    floors: dict[str, int] = {}
    remainders: list[tuple[int, str]] = []
    for caregiver_id, weight in scaled.items():
        whole, rest = divmod(amount * weight, total)
        floors[caregiver_id] = whole
        remainders.append((-rest, caregiver_id))
    remainders.sort()  # largest remainder first; equal ones: smaller id first
    for _, caregiver_id in remainders[: amount - sum(floors.values())]:
        floors[caregiver_id] += 1
    return floors


def _category_by_day(
    household_id: str, periods: Sequence[CategoryFrom], first: date, n: int
) -> list[str | None]:
    """The category in force on each day of the month (None: not enrolled), the same reading
    as ``model.category_on``: an entry holds from its date until the next; none before the
    first; of two entries with the same date the later one given wins."""
    ordered = sorted(periods, key=lambda p: p.from_date)
    by_day: list[str | None] = [None] * n
    for index, period in enumerate(ordered):
        if period.category is not None and period.category not in CATEGORIES:
            raise ValueError(
                f"{household_id}: unknown category {period.category!r} from "
                f"{period.from_date.isoformat()} (expected A, B, C, D or None)"
            )
        start = min(max((period.from_date - first).days, 0), n)
        end = n
        if index + 1 < len(ordered):
            end = min(max((ordered[index + 1].from_date - first).days, 0), n)
        if start < end:
            by_day[start:end] = [period.category] * (end - start)
    return by_day


def bill_household(
    month: str,
    household_id: str,
    periods: Sequence[CategoryFrom],
    visits: Iterable[tuple[str, date]],
    schedule: PolicySchedule = DEFAULT_SCHEDULE,
) -> HouseholdOutcome:
    """Bill one household for ``month`` (YYYY-MM) from its category periods (any order) and
    its completed visits as (caregiver_id, date) pairs, under ``schedule``."""
    table = _month_table(_checked_month(month), schedule)
    first, n = table.first, table.days
    category = _category_by_day(household_id, periods, first, n)
    served: dict[int, set[str]] = {}
    unbilled: set[tuple[date, str, str]] = set()
    for caregiver_id, day in visits:
        index = (day - first).days
        if not 0 <= index < n:
            unbilled.add((day, caregiver_id, f"outside the month {month} (非本月，不计费)"))
        elif category[index] is None:
            why = (
                "household not enrolled that day (当日未在册，不计费)"
                if periods
                else "household not enrolled, no category on record (无在册记录，不计费)"
            )
            unbilled.add((day, caregiver_id, why))
        else:
            served.setdefault(index, set()).add(caregiver_id)
    warnings = [
        f"{household_id} {day.isoformat()} {caregiver_id}: visit not billed: {why}"
        for day, caregiver_id, why in sorted(unbilled)
    ]
    if not served:
        return HouseholdOutcome(month, household_id, None, warnings)

    fee_total = sum(table.fee[i] for i in served)
    subsidy_total = 0
    for index in served:
        in_force = category[index]
        if in_force is not None:  # always: only enrolled days are served
            subsidy_total += table.subsidy[in_force][index]
    charge = round_half_up(Fraction(fee_total, n))
    subsidy = min(charge, round_half_up(Fraction(subsidy_total, n)))
    family = charge - subsidy

    # days counted by k first (mostly k = 1), so only a few exact fractions are added
    days_by_k: dict[str, Counter[int]] = defaultdict(Counter)
    for carers in served.values():
        for caregiver_id in carers:
            days_by_k[caregiver_id][len(carers)] += 1
    weights = {
        caregiver_id: sum((Fraction(count, k) for k, count in counts.items()), Fraction(0))
        for caregiver_id, counts in days_by_k.items()
    }
    government = largest_remainder(subsidy, weights)
    family_split = largest_remainder(family, weights)
    shares = tuple(
        CaregiverShare(c, weights[c], yuan(government[c]), yuan(family_split[c]))
        for c in sorted(weights)
    )
    bill = HouseholdBill(
        household_id=household_id,
        served_days=len(served),
        charge=yuan(charge),
        subsidy=yuan(subsidy),
        family_share=yuan(family),
        shares=shares,
    )
    return HouseholdOutcome(month, household_id, bill, warnings)


# -- a month -------------------------------------------------------------------------------


class MonthBilling:
    """Adds up household outcomes into the month's result; each household at most once.

    Keeps the household bills, one running sum per caregiver and the warnings: memory grows
    with households and caregivers, not with visits."""

    def __init__(self, month: str) -> None:
        self.month = _checked_month(month)
        self._seen: set[str] = set()
        self._bills: list[HouseholdBill] = []
        self._warnings: list[tuple[str, list[str]]] = []
        # caregiver id -> [days, government fen, family fen]
        self._caregivers: dict[str, list[Any]] = {}

    def add(self, outcome: HouseholdOutcome) -> None:
        if outcome.month != self.month:
            raise ValueError(f"outcome of {outcome.month} added to the billing of {self.month}")
        if outcome.household_id in self._seen:
            raise ValueError(f"household {outcome.household_id} added twice")
        self._seen.add(outcome.household_id)
        if outcome.warnings:
            self._warnings.append((outcome.household_id, list(outcome.warnings)))
        bill = outcome.bill
        if bill is None:
            return
        self._bills.append(bill)
        for share in bill.shares:
            sums = self._caregivers.setdefault(share.caregiver_id, [Fraction(0), 0, 0])
            sums[0] += share.weight
            sums[1] += to_fen(share.government)
            sums[2] += to_fen(share.family)

    def result(self) -> BillingResult:
        households = tuple(sorted(self._bills, key=lambda b: b.household_id))
        caregivers = tuple(
            CaregiverPay(
                caregiver_id=c,
                days=days,
                government_part=yuan(gov),
                family_part=yuan(fam),
                pay=yuan(gov + fam),
            )
            for c, (days, gov, fam) in sorted(self._caregivers.items())
        )
        totals = BillingTotals(
            charge=yuan(sum(to_fen(h.charge) for h in households)),
            subsidy=yuan(sum(to_fen(h.subsidy) for h in households)),
            family_share=yuan(sum(to_fen(h.family_share) for h in households)),
            pay=yuan(sum(to_fen(c.pay) for c in caregivers)),
        )
        warnings = tuple(
            warning
            for _, found in sorted(self._warnings, key=lambda item: item[0])
            for warning in found
        )
        return BillingResult(self.month, households, caregivers, totals, warnings)


def compute(
    month: str,
    categories: Iterable[CategoryFrom],
    visits: Iterable[tuple[str, str, date] | Visit],
    schedule: PolicySchedule = DEFAULT_SCHEDULE,
) -> BillingResult:
    """Bill a month with everything in memory: ``visits`` are (household_id, caregiver_id,
    date) triples or ``model.Visit``s. Every household with categories or visits is billed."""
    periods: dict[str, list[CategoryFrom]] = defaultdict(list)
    for entry in categories:
        periods[entry.household_id].append(entry)
    by_household: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for visit in visits:
        if isinstance(visit, Visit):
            household_id, caregiver_id, day = visit.household_id, visit.caregiver_id, visit.date
        else:
            household_id, caregiver_id, day = visit
        by_household[household_id].append((caregiver_id, day))
    billing = MonthBilling(month)
    for household_id in sorted(periods.keys() | by_household.keys()):
        billing.add(
            bill_household(
                month,
                household_id,
                periods.get(household_id, []),
                by_household.get(household_id, []),
                schedule,
            )
        )
    return billing.result()


# -- invariants ----------------------------------------------------------------------------


def invariant_problems(result: BillingResult) -> list[str]:
    """What breaks §6's invariants in ``result`` (empty when all hold exactly): per household
    charge = subsidy + family share, subsidy <= charge, Σ shares = its subsidy and its family
    share, weights sum to its served days; per caregiver the sums of its shares; Σ gov =
    Σ subsidy, Σ fam = Σ family share, Σ pay = Σ charge; totals; nothing negative; every
    amount in whole fen."""
    problems: list[str] = []

    def fen(amount: Decimal, what: str) -> int:
        try:
            value = to_fen(amount)
        except ValueError as exc:
            problems.append(f"{what}: {exc}")
            return 0
        if value < 0:
            problems.append(f"{what} is negative ({amount})")
        return value

    expected: dict[str, list[Any]] = {}
    sum_charge = sum_subsidy = sum_family = sum_gov = sum_fam = 0
    for h in result.households:
        where = f"household {h.household_id}"
        charge = fen(h.charge, f"{where} charge")
        subsidy = fen(h.subsidy, f"{where} subsidy")
        family = fen(h.family_share, f"{where} family_share")
        sum_charge += charge
        sum_subsidy += subsidy
        sum_family += family
        if h.served_days <= 0:
            problems.append(f"{where}: served_days {h.served_days} is not positive")
        if subsidy > charge:
            problems.append(f"{where}: subsidy {h.subsidy} exceeds charge {h.charge}")
        if charge != subsidy + family:
            problems.append(f"{where}: charge {h.charge} != subsidy + family_share")
        gov = fam = 0
        for s in h.shares:
            share_gov = fen(s.government, f"{where} {s.caregiver_id} government")
            share_fam = fen(s.family, f"{where} {s.caregiver_id} family")
            gov += share_gov
            fam += share_fam
            if s.weight <= 0:
                problems.append(f"{where}: caregiver {s.caregiver_id} has weight {s.weight}")
            sums = expected.setdefault(s.caregiver_id, [Fraction(0), 0, 0])
            sums[0] += s.weight
            sums[1] += share_gov
            sums[2] += share_fam
        sum_gov += gov
        sum_fam += fam
        if gov != subsidy:
            problems.append(f"{where}: government shares sum to {yuan(gov)}, not {h.subsidy}")
        if fam != family:
            problems.append(f"{where}: family shares sum to {yuan(fam)}, not {h.family_share}")
        if sum((s.weight for s in h.shares), Fraction(0)) != h.served_days:
            problems.append(f"{where}: caregiver weights do not sum to its served days")
    if sum_gov != sum_subsidy:
        problems.append(f"Σ government {yuan(sum_gov)} != Σ subsidy {yuan(sum_subsidy)}")
    if sum_fam != sum_family:
        problems.append(f"Σ family {yuan(sum_fam)} != Σ family share {yuan(sum_family)}")

    pays = gov_parts = fam_parts = 0
    for c in result.caregivers:
        where = f"caregiver {c.caregiver_id}"
        gov = fen(c.government_part, f"{where} government_part")
        fam = fen(c.family_part, f"{where} family_part")
        pay = fen(c.pay, f"{where} pay")
        pays += pay
        gov_parts += gov
        fam_parts += fam
        if pay != gov + fam:
            problems.append(f"{where}: pay {c.pay} != government_part + family_part")
        if [c.days, gov, fam] != expected.pop(c.caregiver_id, None):
            problems.append(f"{where}: days or parts differ from the sum of its shares")
    for caregiver_id in sorted(expected):
        problems.append(f"caregiver {caregiver_id} has shares but no payroll line")
    if gov_parts != sum_gov or fam_parts != sum_fam:
        problems.append("caregivers' parts differ from the households' shares")
    if pays != sum_charge:
        problems.append(f"Σ pay {yuan(pays)} != Σ charge {yuan(sum_charge)}")

    t = result.totals
    for name, amount, want in (
        ("charge", t.charge, sum_charge),
        ("subsidy", t.subsidy, sum_subsidy),
        ("family_share", t.family_share, sum_family),
        ("pay", t.pay, pays),
    ):
        if fen(amount, f"totals {name}") != want:
            problems.append(f"totals {name} {amount} != {yuan(want)}")
    ids = [h.household_id for h in result.households]
    if ids != sorted(set(ids)):
        problems.append("households are not sorted by id or repeat")
    carer_ids = [c.caregiver_id for c in result.caregivers]
    if carer_ids != sorted(set(carer_ids)):
        problems.append("caregivers are not sorted by id or repeat")
    return problems
