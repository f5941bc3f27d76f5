"""Scheduling rules: deterministic ids and why a visit is refused."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from contracts.types import Id
from services.scheduling.model import ShiftView, shift_id_for, visit_id_for, visit_problem

DAY = date(2026, 11, 2)
ids = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)


def test_shift_id_format() -> None:
    assert shift_id_for("H0001", DAY) == "SH-H0001-20261102"
    assert shift_id_for("H0001", date(2027, 1, 9)) == "SH-H0001-20270109"


@given(household=ids, day=st.dates(), other_day=st.dates())
def test_shift_id_is_deterministic_and_distinguishes_days(
    household: str, day: date, other_day: date
) -> None:
    assert shift_id_for(household, day) == shift_id_for(household, day)
    if other_day != day:
        assert shift_id_for(household, day) != shift_id_for(household, other_day)


@given(household=ids, day=st.dates(min_value=date(1000, 1, 1)))
def test_shift_and_visit_ids_are_valid_ids(household: str, day: date) -> None:
    adapter = TypeAdapter(Id)
    shift_id = shift_id_for(household, day)
    assert adapter.validate_python(shift_id) == shift_id
    assert adapter.validate_python(visit_id_for(shift_id)) == visit_id_for(shift_id)


def test_visit_id_for() -> None:
    assert visit_id_for("SH-H0001-20261102") == "V-H0001-20261102"
    assert visit_id_for("SH-SH-1") == "V-SH-1"  # only the leading prefix goes
    assert visit_id_for("X1") == "V-X1"


def _shift(**kw: object) -> ShiftView:
    fields = {"shift_id": "SH-H1-20261102", "caregiver_id": "C1", "date": DAY, "visited": False}
    return ShiftView(**{**fields, **kw})


@pytest.mark.parametrize(
    ("shift", "caregiver", "day", "problem"),
    [
        (None, "C1", DAY, "unknown shift"),
        (_shift(caregiver_id="C2"), "C1", DAY, "shift belongs to caregiver C2"),
        (_shift(visited=True), "C1", DAY, "visit already recorded"),
        (_shift(), "C1", date(2026, 11, 3), "check-in on 2026-11-03, shift is on 2026-11-02"),
        (_shift(), "C1", DAY, None),
    ],
)
def test_visit_problem(shift: ShiftView | None, caregiver: str, day: date, problem: str) -> None:
    assert visit_problem(shift, caregiver, day) == problem
