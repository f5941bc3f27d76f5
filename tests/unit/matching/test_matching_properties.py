"""Properties on random instances: hard constraints always hold, the batch solver equals a
brute-force optimum, greedy is never better, and the vectorised graph agrees with the rules."""

from __future__ import annotations

from collections import Counter
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st
from matching_builders import ON, brute_force, instances, result_key

from services.dispatch.matching import (
    BatchResult,
    CaregiverFacts,
    RequestFacts,
    Weights,
    assign_batch,
    cost,
    flow,
    greedy_assign,
    score,
    shortlist,
    violations,
)
from services.dispatch.matching.edges import build_edges

W = Weights()
weights = st.builds(
    Weights,
    distance=st.sampled_from((0.0, 1.0, 3.0)),
    continuity=st.sampled_from((0.0, 1.0)),
    appraisal=st.sampled_from((0.0, 1.0)),
)


def assert_valid(result: BatchResult, reqs: list[RequestFacts], cgs: list[CaregiverFacts]) -> None:
    by_req = {r.request_id: r for r in reqs}
    by_cg = {c.caregiver_id: c for c in cgs}
    served = [a[0] for a in result.assignments]
    assert len(served) == len(set(served))
    assert set(served) | {u[0] for u in result.unmet} == set(by_req)
    assert not set(served) & {u[0] for u in result.unmet}
    for rid, cid, edge_cost in result.assignments:
        assert violations(by_req[rid], by_cg[cid], ON) == []
        assert edge_cost == cost(score(by_req[rid], by_cg[cid], W))
    for cid, taken in Counter(a[1] for a in result.assignments).items():
        assert by_cg[cid].load + taken <= by_cg[cid].capacity
    assert result.total_cost == sum(a[2] for a in result.assignments)


@settings(max_examples=60, deadline=None)
@given(instances(max_requests=14, max_caregivers=10), st.sampled_from((None, 1, 2)))
def test_assignments_respect_every_hard_constraint(inst: tuple, k: int | None) -> None:
    reqs, cgs = inst
    assert_valid(assign_batch(reqs, cgs, W, ON, k_nearest=k), reqs, cgs)
    assert_valid(greedy_assign(reqs, cgs, W, ON), reqs, cgs)
    for req in reqs:
        ranked = shortlist(req, cgs, W, ON, k=3).ranked
        assert all(
            violations(req, next(c for c in cgs if c.caregiver_id == cid), ON) == []
            for cid, _ in ranked
        )
        assert [s.total for _, s in ranked] == sorted(s.total for _, s in ranked)


@settings(max_examples=80, deadline=None)
@given(instances(max_requests=6, max_caregivers=5), weights)
def test_batch_equals_the_brute_force_optimum(inst: tuple, w: Weights) -> None:
    reqs, cgs = inst
    best = brute_force(reqs, cgs, w)
    assert result_key(assign_batch(reqs, cgs, w, ON), reqs) == best
    assert result_key(assign_batch(reqs, cgs, w, ON, method="staged"), reqs) == best
    with patch.object(flow, "PACK", 1):  # every independent part solved on its own
        assert result_key(assign_batch(reqs, cgs, w, ON), reqs) == best
    # k_nearest as large as the instance keeps every feasible pair
    assert result_key(assign_batch(reqs, cgs, w, ON, k_nearest=5), reqs) == best


@settings(max_examples=60, deadline=None)
@given(instances(max_requests=10, max_caregivers=8))
def test_greedy_is_never_better(inst: tuple) -> None:
    reqs, cgs = inst
    optimal = result_key(assign_batch(reqs, cgs, W, ON), reqs)
    greedy = result_key(greedy_assign(reqs, cgs, W, ON), reqs)
    assert optimal <= greedy  # lexicographic: counts first, then cost
    if optimal[:-1] == greedy[:-1]:  # same number served in every category
        assert greedy[-1] >= optimal[-1]


@settings(max_examples=60, deadline=None)
@given(instances(max_requests=8, max_caregivers=8), weights)
def test_vectorised_graph_agrees_with_the_rules(inst: tuple, w: Weights) -> None:
    reqs, cgs = inst
    edges = build_edges(reqs, cgs, w, ON)
    got = {
        (int(r), int(c)): int(x) for r, c, x in zip(edges.req, edges.cg, edges.cost, strict=True)
    }
    expected = {
        (r, c): cost(score(req, cg, w))
        for r, req in enumerate(reqs)
        for c, cg in enumerate(cgs)
        if not violations(req, cg, ON)
    }
    assert got == expected
    assert len(got) == edges.req.size  # no pair twice


@settings(max_examples=60, deadline=None)
@given(instances(max_requests=12, max_caregivers=10), st.integers(1, 3))
def test_k_nearest_keeps_each_sides_cheapest_pairs(inst: tuple, k: int) -> None:
    reqs, cgs = inst
    dense = build_edges(reqs, cgs, W, ON)
    sparse = build_edges(reqs, cgs, W, ON, k_nearest=k)
    all_pairs = {
        (int(r), int(c)): int(x) for r, c, x in zip(dense.req, dense.cg, dense.cost, strict=True)
    }
    kept = {
        (int(r), int(c)): int(x) for r, c, x in zip(sparse.req, sparse.cg, sparse.cost, strict=True)
    }
    assert len(kept) == sparse.req.size
    assert kept.items() <= all_pairs.items()
    ids = [c.caregiver_id for c in cgs]
    for r in range(len(reqs)):
        mine = sorted((x, ids[c], c) for (rr, c), x in all_pairs.items() if rr == r)
        assert {(r, c) for _, _, c in mine[:k]} <= kept.keys()
    for c in range(len(cgs)):
        mine_c = sorted((x, r) for (r, cc), x in all_pairs.items() if cc == c)
        assert {(r, c) for _, r in mine_c[:k]} <= kept.keys()
