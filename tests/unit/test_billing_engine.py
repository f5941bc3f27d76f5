"""Billing engine (domain.md §6): hand-worked months, and random months against a brute-force
reference written from the spec text."""

from __future__ import annotations

import calendar
import math
import random
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.billing.scenario_v1 import BillingResultV1, ScenarioPolicy
from services.billing.engine import (
    DEFAULT_POLICY,
    DEFAULT_SCHEDULE,
    BillingResult,
    HouseholdBill,
    MonthBilling,
    Policy,
    PolicyError,
    PolicySchedule,
    bill_household,
    compute,
    days_text,
    invariant_problems,
    largest_remainder,
    round_half_up,
)
from services.billing.model import CategoryFrom, Visit

D = Decimal


def policy(fee: str, a: str = "300.00", b: str = "200.00", c: str = "100.00", d: str = "0.00"):
    return Policy(D(fee), {"A": D(a), "B": D(b), "C": D(c), "D": D(d)})


def days(month: str, first: int, last: int) -> list[date]:
    year, mon = int(month[:4]), int(month[5:])
    return [date(year, mon, day) for day in range(first, last + 1)]


def visits_by(household: str, caregiver: str, dates: list[date]) -> list[tuple[str, str, date]]:
    return [(household, caregiver, d) for d in dates]


def only(result: BillingResult) -> HouseholdBill:
    assert len(result.households) == 1
    return result.households[0]


def shares(bill: HouseholdBill) -> dict[str, tuple[str, str]]:
    return {s.caregiver_id: (str(s.government), str(s.family)) for s in bill.shares}


def pays(result: BillingResult) -> dict[str, tuple[str, str, str, str]]:
    return {
        c.caregiver_id: (days_text(c.days), str(c.government_part), str(c.family_part), str(c.pay))
        for c in result.caregivers
    }


def amounts(bill: HouseholdBill) -> tuple[int, str, str, str]:
    return bill.served_days, str(bill.charge), str(bill.subsidy), str(bill.family_share)


def checked(result: BillingResult) -> BillingResult:
    assert invariant_problems(result) == []
    wire = result.to_json_dict()
    assert BillingResultV1.model_validate(wire).model_dump(mode="json") == wire
    return result


# -- hand-worked months ----------------------------------------------------------------------


def test_category_change_mid_month() -> None:
    # November 2026, 30 days. H1 is C from 1 Nov and B from 11 Nov; C1 visits every day.
    # charge  = 1500.00 × 30 / 30                      = 1500.00
    # subsidy = (10 × 100.00 + 20 × 200.00) / 30 = 5000.00 / 30 = 166.666… -> 166.67
    # family  = 1500.00 − 166.67                       = 1333.33
    result = checked(
        compute(
            "2026-11",
            [
                CategoryFrom("H1", date(2026, 11, 1), "C"),
                CategoryFrom("H1", date(2026, 11, 11), "B"),
            ],
            visits_by("H1", "C1", days("2026-11", 1, 30)),
        )
    )
    bill = only(result)
    assert amounts(bill) == (30, "1500.00", "166.67", "1333.33")
    assert shares(bill) == {"C1": ("166.67", "1333.33")}
    assert pays(result) == {"C1": ("30.00", "166.67", "1333.33", "1500.00")}
    assert result.warnings == ()


def test_substitute_week() -> None:
    # December 2026, 31 days, H1 is A all month. C1 is on leave 8-14 Dec and C2 covers those
    # 7 days: weights C1 24, C2 7. charge 1500.00, subsidy 300.00, family 1200.00.
    # government 30000 fen: C1 30000 × 24/31 = 23225.806 (23225, rest .806)
    #                       C2 30000 × 7/31  =  6774.194 ( 6774, rest .194)
    #   1 fen left -> C1 (larger rest): C1 232.26, C2 67.74
    # family 120000 fen:    C1 120000 × 24/31 = 92903.226 (92903, rest .226)
    #                       C2 120000 × 7/31  = 27096.774 (27096, rest .774)
    #   1 fen left -> C2: C1 929.03, C2 270.97
    # pay: C1 232.26 + 929.03 = 1161.29; C2 67.74 + 270.97 = 338.71; Σ = 1500.00
    month = days("2026-12", 1, 31)
    visits = [("H1", "C2" if 8 <= d.day <= 14 else "C1", d) for d in month]
    result = checked(compute("2026-12", [CategoryFrom("H1", date(2026, 1, 1), "A")], visits))
    bill = only(result)
    assert amounts(bill) == (31, "1500.00", "300.00", "1200.00")
    assert {s.caregiver_id: s.weight for s in bill.shares} == {"C1": 24, "C2": 7}
    assert shares(bill) == {"C1": ("232.26", "929.03"), "C2": ("67.74", "270.97")}
    assert pays(result) == {
        "C1": ("24.00", "232.26", "929.03", "1161.29"),
        "C2": ("7.00", "67.74", "270.97", "338.71"),
    }


def test_two_caregivers_on_the_same_day() -> None:
    # November 2026, H1 is C. C1 visits 1-10 Nov; C2 also comes on 5 and 6 Nov (k = 2 those
    # days), and C1 comes twice on 7 Nov (still one caregiver that day).
    # served 10 days: charge 1500.00 × 10/30 = 500.00; subsidy 100.00 × 10/30 = 33.333… -> 33.33;
    # family 466.67. Weights: C1 8 + ½ + ½ = 9, C2 ½ + ½ = 1.
    # government 3333 fen: C1 2999.7 (2999, rest .7), C2 333.3 (333, rest .3) -> C1 gets the fen
    #   -> C1 30.00, C2 3.33
    # family 46667 fen: C1 42000.3 (42000, rest .3), C2 4666.7 (4666, rest .7) -> C2 gets it
    #   -> C1 420.00, C2 46.67
    visits = visits_by("H1", "C1", days("2026-11", 1, 10))
    visits += visits_by("H1", "C2", [date(2026, 11, 5), date(2026, 11, 6)])
    visits.append(("H1", "C1", date(2026, 11, 7)))
    result = checked(compute("2026-11", [CategoryFrom("H1", date(2026, 11, 1), "C")], visits))
    bill = only(result)
    assert amounts(bill) == (10, "500.00", "33.33", "466.67")
    assert {s.caregiver_id: s.weight for s in bill.shares} == {"C1": 9, "C2": 1}
    assert shares(bill) == {"C1": ("30.00", "420.00"), "C2": ("3.33", "46.67")}
    assert pays(result) == {
        "C1": ("9.00", "30.00", "420.00", "450.00"),
        "C2": ("1.00", "3.33", "46.67", "50.00"),
    }


def test_caregiver_days_are_exact_weights_shown_half_up() -> None:
    # One served day with 8 caregivers: each weight is exactly 1/8 = 0.125, shown half-up as
    # "0.13" (banker's rounding would say 0.12). A second day with 3 of them: 1/3 each, so C1..C3
    # have 1/8 + 1/3 = 11/24 = 0.4583… -> "0.46".
    carers = [f"C{i}" for i in range(1, 9)]
    visits = [("H1", c, date(2026, 11, 2)) for c in carers]
    visits += [("H1", c, date(2026, 11, 3)) for c in carers[:3]]
    result = checked(compute("2026-11", [CategoryFrom("H1", date(2026, 11, 1), "D")], visits))
    weights = {c.caregiver_id: c.days for c in result.caregivers}
    assert weights["C1"] == Fraction(11, 24)
    assert weights["C8"] == Fraction(1, 8)
    shown = {c["caregiver_id"]: c["days"] for c in result.to_json_dict()["caregivers"]}
    assert shown["C1"] == "0.46"
    assert shown["C8"] == "0.13"
    # D: no subsidy. charge 1500.00 × 2/30 = 100.00, all family.
    assert amounts(only(result)) == (2, "100.00", "0.00", "100.00")


def test_household_enrolled_mid_month() -> None:
    # Enrolled as B from 21 Nov 2026; C1 has visited every day since the 1st. Days 1-20 are not
    # billed (20 warnings); served 21-30 = 10 days.
    # charge 1500.00 × 10/30 = 500.00; subsidy 200.00 × 10/30 = 66.666… -> 66.67; family 433.33
    result = checked(
        compute(
            "2026-11",
            [CategoryFrom("H1", date(2026, 11, 21), "B")],
            visits_by("H1", "C1", days("2026-11", 1, 30)),
        )
    )
    assert amounts(only(result)) == (10, "500.00", "66.67", "433.33")
    assert len(result.warnings) == 20
    assert result.warnings[0] == (
        "H1 2026-11-01 C1: visit not billed: household not enrolled that day (当日未在册，不计费)"
    )
    assert result.warnings[-1].startswith("H1 2026-11-20 C1:")


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        # 10 served days of B in months of 28, 29, 30 and 31 days:
        ("2026-02", ("535.71", "71.43", "464.28")),  # 15000/28 = 535.714…; 2000/28 = 71.428…
        ("2028-02", ("517.24", "68.97", "448.27")),  # 15000/29 = 517.241…; 2000/29 = 68.965…
        ("2026-11", ("500.00", "66.67", "433.33")),  # 15000/30 = 500;      2000/30 = 66.666…
        ("2026-12", ("483.87", "64.52", "419.35")),  # 15000/31 = 483.870…; 2000/31 = 64.516…
    ],
)
def test_month_lengths(month: str, expected: tuple[str, str, str]) -> None:
    year, mon = int(month[:4]), int(month[5:])
    result = checked(
        compute(
            month,
            [CategoryFrom("H1", date(year, mon, 1), "B")],
            visits_by("H1", "C1", days(month, 11, 20)),
        )
    )
    assert amounts(only(result)) == (10, *expected)


def test_rounding_is_half_up_on_exact_halves() -> None:
    # Fee 1500.10 in February 2026 (28 days), 3 served days: 150010 × 3 / 28 = 16072.5 fen
    # exactly, which is 160.73 half-up (banker's rounding gives 160.72, and the float
    # 1500.10 * 3 / 28 = 160.72499999999997 rounds to 160.72 too).
    schedule = PolicySchedule.single(policy("1500.10"))
    result = checked(
        compute(
            "2026-02",
            [CategoryFrom("H1", date(2026, 2, 1), "D")],
            visits_by("H1", "C1", days("2026-02", 1, 3)),
            schedule,
        )
    )
    assert only(result).charge == D("160.73")
    assert round(1500.10 * 3 / 28, 2) == 160.72  # what floats would have billed


def test_largest_remainder_tie_goes_to_the_smaller_caregiver_id() -> None:
    # November 2026, H1 is C, C2 visits on the 1st and C1 on the 2nd: equal weights 1 and 1.
    # charge 1500.00 × 2/30 = 100.00; subsidy 100.00 × 2/30 = 6.666… -> 6.67; family 93.33.
    # government 667 fen = 333.5 + 333.5: both rests .5, the fen goes to C1 -> 3.34 / 3.33
    # family 9333 fen = 4666.5 + 4666.5: again to C1 -> 46.67 / 46.66
    visits = [("H1", "C2", date(2026, 11, 1)), ("H1", "C1", date(2026, 11, 2))]
    result = checked(compute("2026-11", [CategoryFrom("H1", date(2026, 11, 1), "C")], visits))
    bill = only(result)
    assert amounts(bill) == (2, "100.00", "6.67", "93.33")
    assert shares(bill) == {"C1": ("3.34", "46.67"), "C2": ("3.33", "46.66")}
    assert pays(result)["C1"][3] == "50.01"
    assert pays(result)["C2"][3] == "49.99"


def test_smaller_id_is_plain_string_order() -> None:
    # "C10" < "C9" as strings, so C10 wins the tie.
    assert largest_remainder(3, {"C9": Fraction(1), "C10": Fraction(1)}) == {"C9": 1, "C10": 2}


def test_largest_remainder() -> None:
    third = Fraction(1, 3)
    assert largest_remainder(100, {"A": third, "B": third, "C": third}) == {
        "A": 34,
        "B": 33,
        "C": 33,
    }
    # quotas 0.6 / 0.4 of 1 fen: the larger rest wins even against a smaller id
    assert largest_remainder(1, {"A": Fraction(2), "B": Fraction(3)}) == {"A": 0, "B": 1}
    assert largest_remainder(0, {"A": Fraction(1)}) == {"A": 0}
    with pytest.raises(ValueError):
        largest_remainder(5, {"A": Fraction(0)})


def test_subsidy_is_capped_at_the_charge() -> None:
    # A policy whose A subsidy (300.00) is above its fee (100.00).
    # All 30 days: charge 100.00, subsidy min(100.00, 300.00) = 100.00, family 0.00.
    # 7 days: charge 100.00 × 7/30 = 23.333… -> 23.33; subsidy min(23.33, 300 × 7/30 = 70.00)
    # = 23.33; family 0.00.
    schedule = PolicySchedule.single(policy("100.00", a="300.00"))
    cats = [CategoryFrom("H1", date(2026, 11, 1), "A"), CategoryFrom("H2", date(2026, 11, 1), "A")]
    visits = visits_by("H1", "C1", days("2026-11", 1, 30))
    visits += visits_by("H2", "C2", days("2026-11", 1, 7))
    result = checked(compute("2026-11", cats, visits, schedule))
    assert [amounts(b) for b in result.households] == [
        (30, "100.00", "100.00", "0.00"),
        (7, "23.33", "23.33", "0.00"),
    ]
    assert pays(result)["C2"] == ("7.00", "23.33", "0.00", "23.33")


def test_policy_change_mid_month() -> None:
    # Fee 1500.00 (B 200.00) until 15 Nov 2026, then 1800.00 (B 240.00) from the 16th.
    # H1 (B) served all 30 days: charge (15 × 1500 + 15 × 1800)/30 = 1650.00,
    #   subsidy (15 × 200 + 15 × 240)/30 = 220.00, family 1430.00.
    # H2 (B) served 10-20 Nov (11 days: 6 before the change, 5 after):
    #   charge (6 × 1500 + 5 × 1800)/30 = 18000/30 = 600.00
    #   subsidy (6 × 200 + 5 × 240)/30 = 2400/30 = 80.00, family 520.00.
    schedule = PolicySchedule(
        (
            (date(2002, 9, 1), DEFAULT_POLICY),
            (date(2026, 11, 16), policy("1800.00", b="240.00")),
        )
    )
    cats = [CategoryFrom("H1", date(2026, 1, 1), "B"), CategoryFrom("H2", date(2026, 1, 1), "B")]
    visits = visits_by("H1", "C1", days("2026-11", 1, 30))
    visits += visits_by("H2", "C2", days("2026-11", 10, 20))
    result = checked(compute("2026-11", cats, visits, schedule))
    assert [amounts(b) for b in result.households] == [
        (30, "1650.00", "220.00", "1430.00"),
        (11, "600.00", "80.00", "520.00"),
    ]
    # October is all old policy, December all new.
    assert schedule.on(date(2026, 10, 31)) == DEFAULT_POLICY
    assert schedule.on(date(2026, 12, 1)).monthly_fee == D("1800.00")


def test_visits_not_billed_are_warnings() -> None:
    # H1 is B until 19 Nov and not enrolled from the 20th; H9 has no category at all.
    cats = [
        CategoryFrom("H1", date(2026, 11, 1), "B"),
        CategoryFrom("H1", date(2026, 11, 20), None),
    ]
    visits = [
        ("H1", "C1", date(2026, 11, 19)),
        ("H1", "C1", date(2026, 11, 25)),
        ("H1", "C1", date(2026, 11, 25)),  # the same visit twice: one warning
        ("H1", "C2", date(2026, 12, 1)),
        ("H9", "C3", date(2026, 11, 3)),
    ]
    result = checked(compute("2026-11", cats, visits))
    assert amounts(only(result)) == (1, "50.00", "6.67", "43.33")
    assert result.warnings == (
        "H1 2026-11-25 C1: visit not billed: household not enrolled that day (当日未在册，不计费)",
        "H1 2026-12-01 C2: visit not billed: outside the month 2026-11 (非本月，不计费)",
        "H9 2026-11-03 C3: visit not billed: household not enrolled, no category on record "
        "(无在册记录，不计费)",
    )
    assert [c.caregiver_id for c in result.caregivers] == ["C1"]


def test_nothing_served_is_an_empty_result() -> None:
    result = checked(compute("2026-11", [CategoryFrom("H1", date(2026, 11, 1), "A")], []))
    assert result.to_json_dict() == {
        "month": "2026-11",
        "households": [],
        "caregivers": [],
        "totals": {"charge": "0.00", "subsidy": "0.00", "family_share": "0.00", "pay": "0.00"},
        "warnings": [],
    }


def test_compute_takes_model_visits_too() -> None:
    cats = [CategoryFrom("H1", date(2026, 11, 1), "A")]
    as_tuples = compute("2026-11", cats, [("H1", "C1", date(2026, 11, 2))])
    as_visits = compute("2026-11", cats, [Visit("H1", "C1", date(2026, 11, 2))])
    assert as_tuples == as_visits


# -- policy ----------------------------------------------------------------------------------


def test_default_policy() -> None:
    assert DEFAULT_POLICY.monthly_fee == D("1500.00")
    assert dict(DEFAULT_POLICY.subsidy) == {
        "A": D("300.00"),
        "B": D("200.00"),
        "C": D("100.00"),
        "D": D("0.00"),
    }
    assert DEFAULT_SCHEDULE.on(date(1900, 1, 1)) == DEFAULT_POLICY
    # the scenario file's defaults are the engine's
    assert ScenarioPolicy().monthly_fee == DEFAULT_POLICY.monthly_fee
    assert dict(ScenarioPolicy().subsidy) == dict(DEFAULT_POLICY.subsidy)


def test_schedule_lookup() -> None:
    p1, p2, p3 = policy("1.00"), policy("2.00"), policy("3.00")
    schedule = PolicySchedule(
        ((date(2026, 1, 1), p1), (date(2026, 3, 1), p2), (date(2026, 3, 2), p3))
    )
    assert schedule.on(date(2025, 6, 1)) is p1  # before the first entry: the first
    assert schedule.on(date(2026, 1, 1)) is p1
    assert schedule.on(date(2026, 2, 28)) is p1
    assert schedule.on(date(2026, 3, 1)) is p2
    assert schedule.on(date(2026, 3, 2)) is p3
    assert schedule.on(date(2099, 1, 1)) is p3
    assert PolicySchedule.single(p2).on(date.min) is p2


@pytest.mark.parametrize(
    ("fee", "subsidy", "problem"),
    [
        (D("1500.001"), None, "more than 2 decimal places"),
        (D("-1.00"), None, "negative"),
        (D("NaN"), None, "finite"),
        (1500.0, None, "must be a Decimal"),
        (D("1500"), {"A": D("1"), "B": D("1"), "C": D("1")}, "missing D"),
        (D("1500"), {"A": D(1), "B": D(1), "C": D(1), "D": D(0), "E": D(0)}, "unknown E"),
        (D("1500"), {"A": D("1.005"), "B": D(1), "C": D(1), "D": D(0)}, "subsidy A"),
    ],
)
def test_bad_policies_are_refused(fee: object, subsidy: object, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        Policy(fee, subsidy if subsidy is not None else dict(DEFAULT_POLICY.subsidy))  # type: ignore[arg-type]


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(PolicyError):
        PolicySchedule(())
    with pytest.raises(PolicyError, match="strictly increasing"):
        PolicySchedule(((date(2026, 2, 1), DEFAULT_POLICY), (date(2026, 1, 1), DEFAULT_POLICY)))
    with pytest.raises(PolicyError, match="strictly increasing"):
        PolicySchedule(((date(2026, 2, 1), DEFAULT_POLICY), (date(2026, 2, 1), DEFAULT_POLICY)))


def test_policies_are_values() -> None:
    assert policy("1500.00") == DEFAULT_POLICY
    assert hash(policy("1500.00")) == hash(DEFAULT_POLICY)
    assert PolicySchedule.single(policy("1500.00")) == DEFAULT_SCHEDULE


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        compute("2026-13", [], [])
    with pytest.raises(ValueError, match="YYYY-MM"):
        MonthBilling("2026-+1")
    with pytest.raises(ValueError, match="unknown category 'E'"):
        compute("2026-11", [CategoryFrom("H1", date(2026, 11, 1), "E")], [])


def test_round_half_up() -> None:
    assert [round_half_up(Fraction(n, 2)) for n in range(-3, 4)] == [-2, -1, -1, 0, 1, 1, 2]
    assert round_half_up(Fraction(149, 100)) == 1
    assert round_half_up(Fraction(-149, 100)) == -1


# -- streaming -------------------------------------------------------------------------------


def test_month_billing_takes_each_household_once_and_only_its_month() -> None:
    billing = MonthBilling("2026-11")
    outcome = bill_household("2026-11", "H1", [], [])
    billing.add(outcome)
    with pytest.raises(ValueError, match="twice"):
        billing.add(outcome)
    with pytest.raises(ValueError, match="2026-12"):
        billing.add(bill_household("2026-12", "H2", [], []))


def test_bill_household_outcome() -> None:
    periods = [
        CategoryFrom("H1", date(2026, 11, 10), None),
        CategoryFrom("H1", date(2026, 11, 1), "A"),
    ]
    visits = iter([("C1", date(2026, 11, 9)), ("C1", date(2026, 11, 10))])  # any iterable
    outcome = bill_household("2026-11", "H1", periods, visits)
    assert outcome.bill is not None
    assert amounts(outcome.bill) == (1, "50.00", "10.00", "40.00")
    assert outcome.warnings == [
        "H1 2026-11-10 C1: visit not billed: household not enrolled that day (当日未在册，不计费)"
    ]
    assert bill_household("2026-11", "H2", periods, []).bill is None


# -- random months against the spec --------------------------------------------------------


def _half_up_fen(yuan: Fraction) -> Decimal:
    """Round exact yuan to fen, half-up, written differently from the engine: floor(x + ½)."""
    return Decimal(math.floor(yuan * 100 + Fraction(1, 2))) / 100


def reference(
    month: str,
    categories: list[CategoryFrom],
    visits: list[tuple[str, str, date]],
    schedule: list[tuple[date, Policy]],
) -> tuple[dict[str, object], dict[str, dict[str, tuple[Fraction, Decimal, Decimal]]]]:
    """§6 by brute force: every day of the month, every entry searched, exact Fractions."""
    year, mon = int(month[:4]), int(month[5:])
    n = calendar.monthrange(year, mon)[1]
    month_days = [date(year, mon, d) for d in range(1, n + 1)]

    def category(h: str, d: date) -> str | None:
        started = [c for c in categories if c.household_id == h and c.from_date <= d]
        return max(started, key=lambda c: c.from_date).category if started else None

    def policy_on(d: date) -> Policy:
        started = [(s, p) for s, p in schedule if s <= d]
        return max(started or [min(schedule, key=lambda e: e[0])], key=lambda e: e[0])[1]

    households = sorted({c.household_id for c in categories} | {v[0] for v in visits})
    bills = []
    split: dict[str, dict[str, tuple[Fraction, Decimal, Decimal]]] = {}
    payroll: dict[str, list] = {}
    for h in households:
        carers_on = {
            d: {c for (vh, c, vd) in visits if vh == h and vd == d}
            for d in month_days
            if category(h, d) is not None
        }
        served = [d for d, carers in carers_on.items() if carers]
        if not served:
            continue
        fee = sum(Fraction(policy_on(d).monthly_fee) for d in served) / n
        sub = sum(Fraction(policy_on(d).subsidy[category(h, d)]) for d in served) / n  # type: ignore[index]
        charge = _half_up_fen(fee)
        subsidy = min(charge, _half_up_fen(sub))
        family = charge - subsidy
        weight: dict[str, Fraction] = {}
        for d in served:
            for c in carers_on[d]:
                weight[c] = weight.get(c, Fraction(0)) + Fraction(1, len(carers_on[d]))
        parts = []
        for amount in (subsidy, family):
            fen = int(amount * 100)
            quota = {c: fen * w / len(served) for c, w in weight.items()}
            got = {c: math.floor(q) for c, q in quota.items()}
            order = sorted(weight, key=lambda c: (-(quota[c] - got[c]), c))
            for c in order[: fen - sum(got.values())]:
                got[c] += 1
            parts.append(got)
        split[h] = {c: (weight[c], D(parts[0][c]) / 100, D(parts[1][c]) / 100) for c in weight}
        for c, (w, gov, fam) in split[h].items():
            line = payroll.setdefault(c, [Fraction(0), D(0), D(0)])
            line[0] += w
            line[1] += gov
            line[2] += fam
        bills.append(
            {
                "household_id": h,
                "served_days": len(served),
                "charge": f"{charge:.2f}",
                "subsidy": f"{subsidy:.2f}",
                "family_share": f"{family:.2f}",
            }
        )
    carers = [
        {
            "caregiver_id": c,
            "days": f"{_half_up_fen(w):.2f}",
            "pay": f"{gov + fam:.2f}",
            "government_part": f"{gov:.2f}",
            "family_part": f"{fam:.2f}",
        }
        for c, (w, gov, fam) in sorted(payroll.items())
    ]

    def total(key: str, lines: list[dict[str, object]]) -> str:
        return f"{sum((D(str(line[key])) for line in lines), D(0)):.2f}"

    result = {
        "month": month,
        "households": bills,
        "caregivers": carers,
        "totals": {
            "charge": total("charge", bills),
            "subsidy": total("subsidy", bills),
            "family_share": total("family_share", bills),
            "pay": total("pay", carers),
        },
    }
    return result, split


def unbilled(
    month: str, categories: list[CategoryFrom], visits: list[tuple[str, str, date]]
) -> list[str]:
    """The warnings' "<household> <date> <caregiver>:" prefixes, in the documented order."""
    year, mon = int(month[:4]), int(month[5:])
    out = set()
    for h, c, d in visits:
        started = [e for e in categories if e.household_id == h and e.from_date <= d]
        enrolled = started and max(started, key=lambda e: e.from_date).category is not None
        if (d.year, d.month) != (year, mon) or not enrolled:
            out.add((h, d, c))
    return [f"{h} {d.isoformat()} {c}:" for h, d, c in sorted(out)]


HOUSEHOLDS = ["H1", "H2", "H3", "H4"]
CAREGIVERS = ["C1", "C2", "C3", "C10"]
CATEGORY = st.sampled_from(["A", "B", "C", "D", None])
MONEY_FEN = st.one_of(st.integers(0, 300_000), st.sampled_from([0, 1, 99_999, 150_001]))


@st.composite
def policies(draw: st.DrawFn, n: int) -> Policy:
    # Multiples of N/2 fen often land exactly on half a fen (in even months), where half-up
    # and banker's rounding differ.
    halves = st.integers(0, 20_000).map(lambda k: k * n // 2)
    fee = draw(st.one_of(MONEY_FEN, halves))
    # subsidies up to above the fee, so the cap at the charge is exercised
    subsidy = {c: D(draw(st.one_of(st.integers(0, fee + 50_000), halves))) / 100 for c in "ABCD"}
    return Policy(D(fee) / 100, subsidy)


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[str, list[CategoryFrom], list[tuple[str, str, date]], list[tuple[date, Policy]]]:
    year = draw(st.sampled_from([2024, 2025, 2026, 2028, 2100]))  # leap and not (2100 is not)
    mon = draw(st.integers(1, 12))
    month = f"{year}-{mon:02d}"
    first = date(year, mon, 1)
    n = calendar.monthrange(year, mon)[1]
    near = st.integers(-40, n + 10).map(lambda k: first + timedelta(days=k))
    categories = []
    for h in draw(st.lists(st.sampled_from(HOUSEHOLDS), unique=True, max_size=4)):
        starts = draw(st.lists(near, unique=True, max_size=4))
        categories += [CategoryFrom(h, s, draw(CATEGORY)) for s in sorted(starts)]
    visits = []
    for h, offset, carers in draw(
        st.lists(
            st.tuples(
                st.sampled_from([*HOUSEHOLDS, "H9"]),  # H9: never listed
                st.integers(-2, n + 1),
                st.lists(st.sampled_from(CAREGIVERS), min_size=1, max_size=3),
            ),
            max_size=50,
        )
    ):
        visits += [(h, c, first + timedelta(days=offset)) for c in carers]
    starts = sorted(draw(st.lists(near, unique=True, min_size=1, max_size=3)))
    schedule = [(s, draw(policies(n))) for s in starts]
    return month, categories, visits, schedule


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_random_months_match_the_spec(
    scenario: tuple[
        str, list[CategoryFrom], list[tuple[str, str, date]], list[tuple[date, Policy]]
    ],
) -> None:
    month, categories, visits, schedule = scenario
    result = compute(month, categories, visits, PolicySchedule(tuple(schedule)))
    assert invariant_problems(result) == []

    expected, split = reference(month, categories, visits, schedule)
    wire = result.to_json_dict()
    warnings = wire.pop("warnings")
    assert wire == expected
    assert {
        b.household_id: {s.caregiver_id: (s.weight, s.government, s.family) for s in b.shares}
        for b in result.households
    } == split
    prefixes = unbilled(month, categories, visits)
    assert len(warnings) == len(prefixes)
    assert all(w.startswith(p) for w, p in zip(warnings, prefixes, strict=True))


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_streaming_in_any_order_gives_the_same_result(
    scenario: tuple[
        str, list[CategoryFrom], list[tuple[str, str, date]], list[tuple[date, Policy]]
    ],
    rnd: random.Random,
) -> None:
    month, categories, visits, schedule_entries = scenario
    schedule = PolicySchedule(tuple(schedule_entries))
    households = sorted({c.household_id for c in categories} | {v[0] for v in visits})
    rnd.shuffle(households)
    billing = MonthBilling(month)
    for h in households:
        periods = [c for c in categories if c.household_id == h]
        rnd.shuffle(periods)  # entries have distinct dates, so order does not matter
        mine = [(c, d) for vh, c, d in visits if vh == h]
        rnd.shuffle(mine)
        billing.add(bill_household(month, h, periods, iter(mine), schedule))
    assert billing.result() == compute(month, categories, visits, schedule)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_one_policy_all_month_is_section_6_word_for_word(
    scenario: tuple[
        str, list[CategoryFrom], list[tuple[str, str, date]], list[tuple[date, Policy]]
    ],
) -> None:
    # §6 step 2 and 3 literally: fee × |S| / N and Σ subsidy(category(d)) / N
    month, categories, visits, schedule_entries = scenario
    one = schedule_entries[0][1]
    result = compute(month, categories, visits, PolicySchedule.single(one))
    year, mon = int(month[:4]), int(month[5:])
    n = calendar.monthrange(year, mon)[1]
    for bill in result.households:
        charge = _half_up_fen(Fraction(one.monthly_fee) * bill.served_days / n)
        assert bill.charge == charge
        assert bill.family_share == charge - bill.subsidy
