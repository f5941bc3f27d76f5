"""Batch assignment: optimal, category priority when scarce, reasons for unmet requests."""

from __future__ import annotations

import numpy as np
import pytest
from matching_builders import HOME, ON, caregiver, request

from services.dispatch.matching import (
    BLOCKED,
    SCARCITY,
    Weights,
    assign_batch,
    cost,
    greedy_assign,
    score,
)
from services.dispatch.matching.edges import Edges
from services.dispatch.matching.flow import CostRangeError, bonus_penalties, solve

W = Weights()
NORTH = (HOME[0] + 0.02, HOME[1])  # about 2.2 km north


def test_optimal_beats_greedy_on_the_classic_trap() -> None:
    # Greedy serves R1 first and takes C1, leaving R2 (whose past caregiver is C1) with C2.
    reqs = [
        request("R1", location=HOME),
        request("R2", location=HOME, past_caregivers=frozenset({"C1"})),
    ]
    cgs = [caregiver("C1", home=HOME), caregiver("C2", home=NORTH)]
    optimal = assign_batch(reqs, cgs, W, ON)
    greedy = greedy_assign(reqs, cgs, W, ON)
    assert {(a[0], a[1]) for a in optimal.assignments} == {("R1", "C2"), ("R2", "C1")}
    assert {(a[0], a[1]) for a in greedy.assignments} == {("R1", "C1"), ("R2", "C2")}
    assert optimal.total_cost < greedy.total_cost
    assert optimal.method == "bonus" and greedy.method == "greedy"


def test_costs_in_the_result_are_the_scored_costs() -> None:
    reqs = [request("R1")]
    cgs = [caregiver("C1")]
    result = assign_batch(reqs, cgs, W, ON)
    expected = cost(score(reqs[0], cgs[0], W))
    assert result.assignments == [("R1", "C1", expected)]
    assert result.total_cost == expected
    assert result.served_by_category == {"B": 1}


def test_category_a_is_served_before_a_cheaper_d() -> None:
    reqs = [
        request("R1", category="D", location=HOME, past_caregivers=frozenset({"C1"})),
        request("R2", category="A", location=NORTH),
    ]
    result = assign_batch(reqs, [caregiver("C1", home=HOME)], W, ON)
    assert [a[0] for a in result.assignments] == ["R2"]
    assert result.unmet == [("R1", SCARCITY)]


def test_priority_order_a_b_c_d_then_none() -> None:
    reqs = [
        request("R1", category=None),
        request("R2", category="D"),
        request("R3", category="C"),
        request("R4", category="B"),
        request("R5", category="A"),
    ]
    for k in range(1, 6):
        cgs = [caregiver(f"C{i}") for i in range(k)]
        served = {a[0] for a in assign_batch(reqs, cgs, W, ON).assignments}
        assert served == {f"R{5 - i}" for i in range(k)}


def test_more_b_served_by_moving_an_a() -> None:
    # A can go to C1 or C2, B only to C1: the optimum serves both, whatever the cost.
    reqs = [
        request("R1", category="A", past_caregivers=frozenset({"C1"})),
        request("R2", category="B", needed_skills=frozenset({"dementia_care"})),
    ]
    cgs = [
        caregiver("C1", skills=frozenset({"dementia_care"})),
        caregiver("C2", home=NORTH),
    ]
    result = assign_batch(reqs, cgs, W, ON)
    assert {(a[0], a[1]) for a in result.assignments} == {("R1", "C2"), ("R2", "C1")}


def test_capacity_counts_the_current_load() -> None:
    reqs = [request(f"R{i}") for i in range(4)]
    cgs = [caregiver("C1", capacity=3, load=1), caregiver("C2", capacity=2, load=2)]
    result = assign_batch(reqs, cgs, W, ON)
    assert len(result.assignments) == 2
    assert {a[1] for a in result.assignments} == {"C1"}
    assert len(result.unmet) == 2


def test_unmet_reasons_name_the_dominant_constraint() -> None:
    reqs = [
        request("R1", needed_skills=frozenset({"bedridden_care"})),
        request("R2", street="Nowhere"),
        request("R3"),
        request("R4"),
    ]
    cgs = [caregiver("C1"), caregiver("C2", active=False), caregiver("C3", active=False)]
    result = assign_batch(reqs, cgs, W, ON)
    unmet = dict(result.unmet)
    assert unmet["R1"] == BLOCKED + "missing_skill"
    assert unmet["R2"] == BLOCKED + "other_street"
    assert SCARCITY in (unmet.get("R3"), unmet.get("R4"))
    assert assign_batch([request("R1")], [], W, ON).unmet == [("R1", BLOCKED + "no_caregiver")]


def test_k_nearest_keeps_a_sparse_graph_and_stays_feasible() -> None:
    rng = np.random.default_rng(7)
    cgs = [caregiver(f"C{i:02d}", home=tuple(HOME + rng.normal(0, 0.01, 2))) for i in range(40)]
    reqs = [request(f"R{i:02d}", location=tuple(HOME + rng.normal(0, 0.01, 2))) for i in range(30)]
    dense = assign_batch(reqs, cgs, W, ON)
    sparse = assign_batch(reqs, cgs, W, ON, k_nearest=3)
    assert len(sparse.assignments) == len(dense.assignments) == 30
    assert sparse.total_cost >= dense.total_cost
    assert sparse.total_cost <= dense.total_cost * 1.05
    with pytest.raises(ValueError):
        assign_batch(reqs, cgs, W, ON, k_nearest=0)


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError):
        assign_batch([request("R1"), request("R1")], [caregiver()], W, ON)
    with pytest.raises(ValueError):
        greedy_assign([request("R1")], [caregiver("C1"), caregiver("C1")], W, ON)


def test_bonus_penalties_dominate_lower_levels() -> None:
    per_level, max_cost = [2, 3, 0, 1, 4], 50
    p = bonus_penalties(per_level, max_cost)
    n = sum(per_level)
    assert p[4] == n * max_cost + 1
    for level in range(4):
        below = sum(per_level[j] * p[j] for j in range(level + 1, 5))
        assert p[level] > below + n * max_cost


def test_overflowing_bonus_falls_back_to_staged() -> None:
    level = np.repeat(np.arange(5, dtype=np.int64), 40)
    edges = Edges(
        req=np.arange(200, dtype=np.int64),
        cg=np.zeros(200, dtype=np.int64),
        cost=np.full(200, 10**9, dtype=np.int64),
    )
    spare = np.array([50], dtype=np.int64)
    with pytest.raises(CostRangeError):
        solve(level, edges, spare, "bonus")
    served, method = solve(level, edges, spare, "auto")
    assert method == "staged"
    assert served.sum() == 50
    assert (level[edges.req[served]] <= 1).all()  # all 40 A and 10 B
    assert (level[edges.req[served]] == 0).sum() == 40
