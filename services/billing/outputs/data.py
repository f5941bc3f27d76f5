"""What the billing engine hands to the renderers: one frozen record per document.

The records check themselves when built, so a document can never show amounts that do not add
up (domain.md §6 invariants):

* amounts are :class:`~decimal.Decimal` (an ``int`` is accepted; a ``float`` is refused) in whole
  fen, never negative except adjustments;
* ``charge == subsidy + family_share``, and the caregivers' government and family parts add up to
  the subsidy and the family share (a payslip: the households' parts add up to its two parts, and
  ``pay`` is their sum; a claim summary: the totals are the sums of the rows).

Lists may be given as plain tuples in the documented order or as the named tuples below; they
are stored as tuples of the named tuples. ``days`` are weighted days (domain.md §6 step 5), shown
with 2 places.
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from services.billing.outputs.money import CENT

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# (from_date, to_date inclusive, category or None = not enrolled)
CategoryPeriodTuple = tuple[date, date, str | None]
# (caregiver_id, name, days, government, family)
CaregiverShareTuple = tuple[str, str, Decimal, Decimal, Decimal]
# (household_id, household_name, days, government, family)
HouseholdShareTuple = tuple[str, str, Decimal, Decimal, Decimal]
# (description, amount; negative = credit)
AdjustmentTuple = tuple[str, Decimal]
# category -> (households, served_days, subsidy)
CategorySubsidyTuple = tuple[int, int, Decimal]


class CategoryPeriod(NamedTuple):
    """A household's eligibility category from ``from_date`` to ``to_date`` (both inclusive)."""

    from_date: date
    to_date: date
    category: str | None  # None: not enrolled on those days


class CaregiverShare(NamedTuple):
    """One caregiver's part of a household's month (a statement line)."""

    caregiver_id: str
    name: str
    days: Decimal
    government: Decimal
    family: Decimal

    @property
    def total(self) -> Decimal:
        return self.government + self.family


class HouseholdShare(NamedTuple):
    """One household's part of a caregiver's month (a payslip line)."""

    household_id: str
    household_name: str
    days: Decimal
    government: Decimal
    family: Decimal

    @property
    def total(self) -> Decimal:
        return self.government + self.family


class Adjustment(NamedTuple):
    """A correction carried from an earlier month (a re-run of a closed month's billing).

    On a statement a positive amount is more for the family to pay and a negative one a credit;
    on a payslip a positive amount is more pay for the caregiver and a negative one a deduction.
    """

    description: str
    amount: Decimal


class CategorySubsidy(NamedTuple):
    households: int
    served_days: int
    subsidy: Decimal


# --- checks -----------------------------------------------------------------------------------


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _money(name: str, value: Any, *, negative: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}: {value!r}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{name} is not a finite amount: {amount}")
    if amount != amount.quantize(CENT):
        raise ValueError(f"{name} {amount} is not in whole fen (2 decimal places)")
    if amount < 0 and not negative:
        raise ValueError(f"{name} is negative: {amount}")
    amount = amount.quantize(CENT)
    return amount if amount else abs(amount)


def _days(name: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}: {value!r}")
    days = Decimal(value)
    if not days.is_finite() or days < 0:
        raise ValueError(f"{name} must be a non-negative number of days: {days}")
    return days


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int: {value!r}")
    return value


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value


def _month(value: Any) -> tuple[int, int]:
    match = _MONTH.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"month must be YYYY-MM: {value!r}")
    return int(match[1]), int(match[2])


def _common(obj: Any) -> None:
    _month(obj.month)
    if isinstance(obj.revision, bool) or not isinstance(obj.revision, int) or obj.revision < 0:
        raise ValueError(f"revision must be a non-negative int: {obj.revision!r}")
    if not isinstance(obj.generated_at, datetime):
        raise TypeError(f"generated_at must be a datetime: {obj.generated_at!r}")


def _sum(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal("0.00"))


def _equal(what: str, left: Decimal, right: Decimal) -> None:
    if left != right:
        raise ValueError(f"{what}: {left} != {right}")


def _adjustments(items: Iterable[Sequence[Any]]) -> tuple[Adjustment, ...]:
    out = []
    for i, item in enumerate(items):
        description, amount = item
        out.append(
            Adjustment(
                _text(f"adjustments[{i}].description", description),
                _money(f"adjustments[{i}].amount", amount, negative=True),
            )
        )
    return tuple(out)


def month_label(month: str) -> str:
    """``"2026-11" -> "2026年11月"``."""
    year, mon = _month(month)
    return f"{year}年{mon}月"


# --- documents --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementData:
    """A household's monthly statement (家庭服务结算单).

    ``monthly_fee`` and ``subsidy_rates`` (category -> monthly subsidy) are optional: when given,
    the note on the statement shows the computation with the numbers of this household.
    """

    month: str
    revision: int
    household_id: str
    household_name: str
    address: str
    station_id: str
    street: str
    category_periods: Sequence[CategoryPeriodTuple]
    served_days: int
    days_in_month: int
    charge: Decimal
    subsidy: Decimal
    family_share: Decimal
    caregivers: Sequence[CaregiverShareTuple]
    adjustments: Sequence[AdjustmentTuple]
    generated_at: datetime
    monthly_fee: Decimal | None = None
    subsidy_rates: Mapping[str, Decimal] | None = None

    def __post_init__(self) -> None:
        _common(self)
        for name in ("household_id", "household_name", "address", "station_id", "street"):
            _text(name, getattr(self, name))
        year, mon = _month(self.month)
        first, last = date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])
        _count("days_in_month", self.days_in_month)
        if self.days_in_month != last.day:
            raise ValueError(f"days_in_month {self.days_in_month} but {self.month} has {last.day}")
        _count("served_days", self.served_days)
        if self.served_days > self.days_in_month:
            raise ValueError(f"served_days {self.served_days} > days_in_month")
        periods = []
        for i, (start, end, category) in enumerate(self.category_periods):
            if not (isinstance(start, date) and isinstance(end, date)):
                raise TypeError(f"category_periods[{i}] dates must be dates")
            if not first <= start <= end <= last:
                raise ValueError(
                    f"category_periods[{i}] {start}..{end} (inclusive) is not within {self.month}"
                )
            if category is not None:
                _text(f"category_periods[{i}].category", category)
            periods.append(CategoryPeriod(start, end, category))
        periods.sort(key=lambda p: (p.from_date, p.to_date))
        for before, after in itertools.pairwise(periods):
            if after.from_date <= before.to_date:
                raise ValueError(f"category_periods overlap: {before} and {after}")
        _set(self, "category_periods", tuple(periods))
        for name in ("charge", "subsidy", "family_share"):
            _set(self, name, _money(name, getattr(self, name)))
        _equal("charge != subsidy + family_share", self.charge, self.subsidy + self.family_share)
        caregivers = []
        for i, (cid, name, days, gov, fam) in enumerate(self.caregivers):
            caregivers.append(
                CaregiverShare(
                    _text(f"caregivers[{i}].caregiver_id", cid),
                    _text(f"caregivers[{i}].name", name),
                    _days(f"caregivers[{i}].days", days),
                    _money(f"caregivers[{i}].government", gov),
                    _money(f"caregivers[{i}].family", fam),
                )
            )
        _set(self, "caregivers", tuple(caregivers))
        _equal(
            "caregivers' government parts != subsidy",
            _sum(c.government for c in caregivers),
            self.subsidy,
        )
        _equal(
            "caregivers' family parts != family_share",
            _sum(c.family for c in caregivers),
            self.family_share,
        )
        _set(self, "adjustments", _adjustments(self.adjustments))
        if self.monthly_fee is not None:
            _set(self, "monthly_fee", _money("monthly_fee", self.monthly_fee))
        if self.subsidy_rates is not None:
            rates = {
                _text("subsidy_rates key", k): _money(f"subsidy_rates[{k}]", v)
                for k, v in self.subsidy_rates.items()
            }
            _set(self, "subsidy_rates", rates)

    @property
    def adjustments_total(self) -> Decimal:
        return _sum(a[1] for a in self.adjustments)

    @property
    def amount_due(self) -> Decimal:
        """What the family pays this month: the family share plus the adjustments."""
        return self.family_share + self.adjustments_total


@dataclass(frozen=True)
class PayslipData:
    """A caregiver's monthly payslip (养护员工资单)."""

    month: str
    revision: int
    caregiver_id: str
    name: str
    station_id: str
    households: Sequence[HouseholdShareTuple]
    government_part: Decimal
    family_part: Decimal
    pay: Decimal
    adjustments: Sequence[AdjustmentTuple]
    generated_at: datetime

    def __post_init__(self) -> None:
        _common(self)
        for name in ("caregiver_id", "name", "station_id"):
            _text(name, getattr(self, name))
        households = []
        for i, (hid, hname, days, gov, fam) in enumerate(self.households):
            households.append(
                HouseholdShare(
                    _text(f"households[{i}].household_id", hid),
                    _text(f"households[{i}].household_name", hname),
                    _days(f"households[{i}].days", days),
                    _money(f"households[{i}].government", gov),
                    _money(f"households[{i}].family", fam),
                )
            )
        _set(self, "households", tuple(households))
        for name in ("government_part", "family_part", "pay"):
            _set(self, name, _money(name, getattr(self, name)))
        _equal(
            "households' government parts != government_part",
            _sum(h.government for h in households),
            self.government_part,
        )
        _equal(
            "households' family parts != family_part",
            _sum(h.family for h in households),
            self.family_part,
        )
        _equal(
            "pay != government_part + family_part",
            self.pay,
            self.government_part + self.family_part,
        )
        _set(self, "adjustments", _adjustments(self.adjustments))

    @property
    def days(self) -> Decimal:
        return sum((h[2] for h in self.households), Decimal(0))

    @property
    def adjustments_total(self) -> Decimal:
        return _sum(a[1] for a in self.adjustments)

    @property
    def net_pay(self) -> Decimal:
        """What the caregiver is paid this month: the pay plus the adjustments."""
        return self.pay + self.adjustments_total


@dataclass(frozen=True)
class ClaimRow:
    """One station and street of a district's subsidy claim."""

    station_id: str
    street: str
    households: int
    served_days: int
    charge: Decimal
    subsidy: Decimal
    family_share: Decimal

    def __post_init__(self) -> None:
        _text("station_id", self.station_id)
        _text("street", self.street)
        _count("households", self.households)
        _count("served_days", self.served_days)
        for name in ("charge", "subsidy", "family_share"):
            _set(self, name, _money(f"{self.station_id} {name}", getattr(self, name)))
        _equal(
            f"{self.station_id}: charge != subsidy + family_share",
            self.charge,
            self.subsidy + self.family_share,
        )


@dataclass(frozen=True)
class ClaimTotals:
    """A district's totals. ``households`` is given, not summed: a household that moved between
    stations in the month is in two rows but is one household."""

    households: int
    served_days: int
    charge: Decimal
    subsidy: Decimal
    family_share: Decimal

    def __post_init__(self) -> None:
        _count("households", self.households)
        _count("served_days", self.served_days)
        for name in ("charge", "subsidy", "family_share"):
            _set(self, name, _money(f"totals.{name}", getattr(self, name)))
        _equal(
            "totals: charge != subsidy + family_share",
            self.charge,
            self.subsidy + self.family_share,
        )

    @classmethod
    def from_rows(cls, rows: Iterable[ClaimRow], households: int | None = None) -> ClaimTotals:
        """The sums of ``rows``; ``households`` (distinct households) defaults to the rows' sum."""
        rows = list(rows)
        return cls(
            households=sum(r.households for r in rows) if households is None else households,
            served_days=sum(r.served_days for r in rows),
            charge=_sum(r.charge for r in rows),
            subsidy=_sum(r.subsidy for r in rows),
            family_share=_sum(r.family_share for r in rows),
        )


@dataclass(frozen=True)
class ClaimSummaryData:
    """A district's monthly subsidy claim to the civil-affairs bureau (补贴申领汇总表).

    ``subsidy_by_category`` maps a category ("A".."D") to (households, served_days, subsidy).
    ``closed`` is False for a draft: the documents are then marked 草稿 DRAFT.
    """

    month: str
    revision: int
    district: str
    rows: Sequence[ClaimRow]
    subsidy_by_category: Mapping[str, CategorySubsidyTuple]
    totals: ClaimTotals
    generated_at: datetime
    closed: bool

    def __post_init__(self) -> None:
        _common(self)
        _text("district", self.district)
        rows = tuple(self.rows)
        for row in rows:
            if not isinstance(row, ClaimRow):
                raise TypeError(f"rows must be ClaimRow, not {type(row).__name__}")
        _set(self, "rows", rows)
        by_category = {}
        for category, (households, served_days, subsidy) in self.subsidy_by_category.items():
            _text("subsidy_by_category key", category)
            by_category[category] = CategorySubsidy(
                _count(f"subsidy_by_category[{category}].households", households),
                _count(f"subsidy_by_category[{category}].served_days", served_days),
                _money(f"subsidy_by_category[{category}].subsidy", subsidy),
            )
        _set(self, "subsidy_by_category", dict(sorted(by_category.items(), key=lambda kv: kv[0])))
        if not isinstance(self.totals, ClaimTotals):
            raise TypeError("totals must be ClaimTotals (see ClaimTotals.from_rows)")
        summed = ClaimTotals.from_rows(rows, households=self.totals.households)
        for name in ("served_days", "charge", "subsidy", "family_share"):
            if getattr(summed, name) != getattr(self.totals, name):
                raise ValueError(
                    f"totals.{name} {getattr(self.totals, name)} != sum of the rows "
                    f"{getattr(summed, name)}"
                )
        if not isinstance(self.closed, bool):
            raise TypeError("closed must be a bool")
