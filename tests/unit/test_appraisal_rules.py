"""The monthly appraisal formula and quarters (pure rules)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.scheduling.appraisal import VisitFacts, appraise, punctual, quarter_of

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 2)


def visit(minutes_late: int, diary: bool = True) -> VisitFacts:
    opened = datetime(2026, 11, 2, 9, tzinfo=TZ)
    return VisitFacts("H1", DAY, time(9), opened + timedelta(minutes=minutes_late), diary)


def test_fifteen_minutes_late_is_still_on_time() -> None:
    assert punctual(visit(15)) and not punctual(visit(16)) and punctual(visit(-10))


@pytest.mark.parametrize(
    ("visits", "ratings", "complaints", "score"),
    [
        ([], [], 0, 80.0),  # nothing to judge: unrated 20 + 30 + 30
        ([visit(0)] * 4, [5, 5], 0, 100.0),
        ([visit(0)] * 4, [1], 0, 60.0),
        # rated 4 -> 30; diaries 2 of 4 -> 15; on time 3 of 4 -> 22.5
        ([visit(0), visit(30), visit(0, diary=False), visit(0, diary=False)], [4], 0, 67.5),
        ([visit(0)] * 4, [5], 3, 70.0),
        ([visit(40, diary=False)] * 2, [1], 2, 0.0),  # never below zero
    ],
)
def test_the_score(
    visits: list[VisitFacts], ratings: list[int], complaints: int, score: float
) -> None:
    assert appraise(visits, ratings, complaints).score == score


@given(
    st.lists(st.tuples(st.integers(-30, 60), st.booleans()), max_size=40),
    st.lists(st.integers(1, 5), max_size=5),
    st.integers(0, 12),
)
def test_scores_stay_within_0_and_100(
    visits: list[tuple[int, bool]], ratings: list[int], complaints: int
) -> None:
    result = appraise([visit(m, d) for m, d in visits], ratings, complaints)
    assert 0.0 <= result.score <= 100.0
    assert 0.0 <= result.punctuality <= 1.0 and 0.0 <= result.diary_completeness <= 1.0


def test_quarters() -> None:
    assert quarter_of("2026-11") == ("2026-Q4", ["2026-10", "2026-11", "2026-12"])
    assert quarter_of("2027-01") == ("2027-Q1", ["2027-01", "2027-02", "2027-03"])
