"""Builders, random-instance strategies and a brute-force optimum for the matching tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from services.dispatch.matching import (
    CATEGORY_ORDER,
    BatchResult,
    CaregiverFacts,
    RequestFacts,
    Weights,
    cost,
    score,
    violations,
)
from services.dispatch.matching.model import Sex

ON = date(2026, 11, 16)
STREET = "Zhongshan Park"
CERTS = {
    "daily_care": date(2027, 12, 31),
    "common_illness": date(2027, 12, 31),
    "first_aid": date(2027, 12, 31),
}
HOME = (38.9140, 121.6150)


def caregiver(cid: str = "C1", **kw: Any) -> CaregiverFacts:
    """A caregiver who passes every hard constraint unless told otherwise."""
    fields: dict[str, Any] = {
        "station_id": "S1",
        "street": STREET,
        "home": HOME,
        "certificates": dict(CERTS),
        "appraisal": 90.0,
        **kw,
    }
    return CaregiverFacts(caregiver_id=cid, **fields)


def request(rid: str = "R1", **kw: Any) -> RequestFacts:
    fields: dict[str, Any] = {
        "household_id": "H" + rid[1:],
        "station_id": "S1",
        "street": STREET,
        "category": "B",
        "location": (38.9200, 121.6200),
        "start_date": ON,
        **kw,
    }
    return RequestFacts(request_id=rid, **fields)


# ---- random instances -------------------------------------------------------------------------

SKILLS = ("bedridden_care", "dementia_care")
STREETS = ("Zhongshan Park", "Xi'an Road")
_points = st.one_of(
    st.none(),
    st.tuples(st.floats(38.90, 38.95), st.floats(121.58, 121.64)),
)


@st.composite
def caregivers_strategy(draw: st.DrawFn, n: int, households: Sequence[str]) -> list[CaregiverFacts]:
    out = []
    for i in range(n):
        capacity = draw(st.integers(1, 2))
        expiry = {m: ON + timedelta(draw(st.sampled_from((-1, 0, 30, 30, 30)))) for m in CERTS}
        if draw(st.integers(0, 9)) == 0:
            expiry.pop("first_aid")
        out.append(
            CaregiverFacts(
                caregiver_id=f"C{i}",
                station_id="S1",
                street=draw(st.sampled_from(STREETS)),
                home=draw(_points),
                sex=draw(st.sampled_from(("F", "F", "M"))),
                dialects=draw(st.frozensets(st.just("大连话"))),
                skills=draw(st.frozensets(st.sampled_from(SKILLS))),
                capacity=capacity,
                load=draw(st.sampled_from((0, 0, 0, capacity - 1, capacity))),
                active=draw(st.integers(0, 9)) > 0,
                on_leave_dates=frozenset({ON}) if draw(st.integers(0, 9)) == 0 else frozenset(),
                certificates=expiry,
                appraisal=draw(st.one_of(st.none(), st.floats(0, 100))),
                child_of=draw(st.frozensets(st.sampled_from(households), max_size=1))
                if households
                else frozenset(),
            )
        )
    return out


@st.composite
def instances(
    draw: st.DrawFn, max_requests: int = 6, max_caregivers: int = 5
) -> tuple[list[RequestFacts], list[CaregiverFacts]]:
    n = draw(st.integers(0, max_requests))
    m = draw(st.integers(0, max_caregivers))
    households = [f"H{j}" for j in range(n)]
    cgs = draw(caregivers_strategy(m, households))
    ids = [c.caregiver_id for c in cgs]
    some_ids = st.frozensets(st.sampled_from(ids), max_size=2) if ids else st.just(frozenset())
    reqs = []
    for j in range(n):
        pref: Sex | None = draw(st.sampled_from((None, None, "F", "M")))
        reqs.append(
            RequestFacts(
                request_id=f"R{j}",
                household_id=households[j],
                station_id="S1",
                street=draw(st.sampled_from(STREETS)),
                category=draw(st.sampled_from(CATEGORY_ORDER)),
                location=draw(_points),
                needed_skills=draw(st.frozensets(st.sampled_from(SKILLS), max_size=1)),
                gender_preference=pref,
                gender_strict=draw(st.booleans()),
                dialects=draw(st.frozensets(st.just("大连话"))),
                replaced_caregivers=draw(some_ids),
                past_caregivers=draw(some_ids),
                b2_child_allowed=draw(st.booleans()),
                start_date=ON,
            )
        )
    return reqs, cgs


# ---- objective ----------------------------------------------------------------------------------

Key = tuple[int, ...]  # (−served A, −served B, −served C, −served D, −served none, total cost)


def key_of(served: Sequence[RequestFacts], total_cost: int) -> Key:
    counts = [0] * len(CATEGORY_ORDER)
    for req in served:
        counts[req.priority] += 1
    return (*(-c for c in counts), total_cost)


def result_key(result: BatchResult, requests: Sequence[RequestFacts]) -> Key:
    by_id = {r.request_id: r for r in requests}
    return key_of([by_id[a[0]] for a in result.assignments], result.total_cost)


def brute_force(
    requests: Sequence[RequestFacts], caregivers: Sequence[CaregiverFacts], weights: Weights
) -> Key:
    """The best objective key over every assignment (each request: nobody or a feasible,
    not yet full caregiver)."""
    options = [
        [
            (c, cost(score(r, cg, weights)))
            for c, cg in enumerate(caregivers)
            if not violations(r, cg, ON)
        ]
        for r in requests
    ]
    spare = [cg.spare for cg in caregivers]
    best: list[Key] = [key_of([], 0)]
    chosen: list[RequestFacts] = []

    def walk(i: int, total: int) -> None:
        if i == len(requests):
            best[0] = min(best[0], key_of(chosen, total))
            return
        walk(i + 1, total)
        for c, edge_cost in options[i]:
            if spare[c] > 0:
                spare[c] -= 1
                chosen.append(requests[i])
                walk(i + 1, total + edge_cost)
                chosen.pop()
                spare[c] += 1

    walk(0, 0)
    return best[0]
