"""Assign many requests at once: the optimal min-cost-flow solver and a greedy baseline.

``assign_batch`` is optimal under the lexicographic objective of ``flow`` (most category A
requests served, then B, C, D, uncategorised, then the lowest total cost). With ``k_nearest``
the candidate graph keeps, for each request, its k cheapest feasible caregivers, plus, for
each caregiver, its k cheapest feasible requests (see ``sparse`` for why both sides): much
smaller graphs for big instances, optimal on that sparse graph but possibly slightly worse
than the dense optimum (a higher cost, or in crowded cases fewer served).

Workload is scored from each caregiver's load before the batch (a caregiver taking two new
households costs the same for both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from services.dispatch.matching.constraints import blocked_counts, dominant_block
from services.dispatch.matching.edges import Edges, build_edges
from services.dispatch.matching.flow import Method, solve
from services.dispatch.matching.model import CaregiverFacts, Category, RequestFacts, Weights

SCARCITY = "no caregiver left (higher-priority categories served first)"
BLOCKED = "no eligible caregiver: "  # followed by the dominant constraint code


@dataclass(frozen=True)
class BatchResult:
    assignments: list[tuple[str, str, int]]  # (request_id, caregiver_id, cost), request order
    unmet: list[tuple[str, str]]  # (request_id, reason): SCARCITY or BLOCKED + code
    total_cost: int
    served_by_category: dict[Category | None, int]
    method: str  # bonus | staged | bonus+staged (per independent part) | greedy | trivial


def _check_ids(requests: Sequence[RequestFacts], caregivers: Sequence[CaregiverFacts]) -> None:
    if len({r.request_id for r in requests}) != len(requests):
        raise ValueError("duplicate request_id")
    if len({c.caregiver_id for c in caregivers}) != len(caregivers):
        raise ValueError("duplicate caregiver_id")


def _result(
    requests: Sequence[RequestFacts],
    caregivers: Sequence[CaregiverFacts],
    on: date,
    edges: Edges,
    served: np.ndarray,
    method: str,
) -> BatchResult:
    chosen = np.flatnonzero(served)
    by_request = {int(edges.req[e]): e for e in chosen}
    has_edge = np.zeros(len(requests), dtype=bool)
    has_edge[edges.req] = True
    by_street: dict[str, list[CaregiverFacts]] = {}
    for cg in caregivers:
        by_street.setdefault(cg.street, []).append(cg)
    assignments: list[tuple[str, str, int]] = []
    unmet: list[tuple[str, str]] = []
    served_by: dict[Category | None, int] = {}
    for r, req in enumerate(requests):
        e = by_request.get(r)
        if e is not None:
            cost = int(edges.cost[e])
            assignments.append((req.request_id, caregivers[int(edges.cg[e])].caregiver_id, cost))
            served_by[req.category] = served_by.get(req.category, 0) + 1
        elif has_edge[r]:
            unmet.append((req.request_id, SCARCITY))
        else:
            local = by_street.get(req.street, [])
            counts = blocked_counts(req, local, on)
            if len(local) < len(caregivers):
                counts["other_street"] = len(caregivers) - len(local)
            code = dominant_block(counts) or "no_caregiver"
            unmet.append((req.request_id, BLOCKED + code))
    total = sum(a[2] for a in assignments)
    return BatchResult(assignments, unmet, total, served_by, method)


def assign_batch(
    requests: Sequence[RequestFacts],
    caregivers: Sequence[CaregiverFacts],
    weights: Weights,
    on: date,
    k_nearest: int | None = None,
    *,
    method: Method = "auto",
) -> BatchResult:
    """Optimal assignment of ``requests`` to ``caregivers`` on day ``on`` (see module doc).

    ``method``: ``auto`` tries the one-solve bonus method and falls back to the staged method
    when the penalties would overflow 64-bit costs; ``bonus``/``staged`` force one (tests).
    """
    _check_ids(requests, caregivers)
    edges = build_edges(requests, caregivers, weights, on, k_nearest)
    level = np.array([r.priority for r in requests], dtype=np.int64)
    spare = np.array([c.spare for c in caregivers], dtype=np.int64)
    served, used = solve(level, edges, spare, method)
    return _result(requests, caregivers, on, edges, served, used)


def greedy_assign(
    requests: Sequence[RequestFacts],
    caregivers: Sequence[CaregiverFacts],
    weights: Weights,
    on: date,
) -> BatchResult:
    """Baseline: requests in category order then request_id; each takes the cheapest caregiver
    (ties by caregiver_id) that still has spare capacity."""
    _check_ids(requests, caregivers)
    edges = build_edges(requests, caregivers, weights, on)
    order = sorted(
        range(len(requests)), key=lambda r: (requests[r].priority, requests[r].request_id)
    )
    cg_rank = np.argsort(np.argsort(np.array([c.caregiver_id for c in caregivers], dtype=object)))
    sorted_edges = np.lexsort((cg_rank[edges.cg], edges.cost, edges.req))
    starts = np.searchsorted(edges.req[sorted_edges], np.arange(len(requests) + 1)).tolist()
    edge_ids, edge_cgs = sorted_edges.tolist(), edges.cg[sorted_edges].tolist()
    spare = [c.spare for c in caregivers]
    served = np.zeros(edges.req.size, dtype=bool)
    for r in order:
        for pos in range(starts[r], starts[r + 1]):
            c = edge_cgs[pos]
            if spare[c] > 0:
                spare[c] -= 1
                served[edge_ids[pos]] = True
                break
    return _result(requests, caregivers, on, edges, served, "greedy")
