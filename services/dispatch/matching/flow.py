"""Optimal batch assignment by min-cost flow (OR-Tools ``SimpleMinCostFlow``).

Graph: each request node has supply 1 and two kinds of out-arcs: to each feasible caregiver
(capacity 1, the pair's cost) and to an "unmet" node of its priority level (capacity 1, a
penalty). Caregivers drain to the sink with capacity ``capacity − load``; unmet nodes drain to
the sink. All costs are non-negative; every request is routed somewhere, so the flow is always
feasible.

Objective, lexicographic: serve as many level-0 (category A) requests as possible, then level 1
(B), 2 (C), 3 (D), 4 (no category), then minimise the total cost. Two exact methods:

- ``bonus`` (one solve): the penalty of leaving a level-l request unserved is
  ``P_l = Σ_{j>l} n_j·P_j + n·M + 1`` (``M`` the largest pair cost, ``n`` the requests), so one
  more served request of a level outweighs any change at lower levels plus any cost change.
  The penalties grow like the product of the level sizes; they are used only when the largest
  one, scaled by OR-Tools' internal factor ``2·(nodes + 1)``, and the objective fit in 2**62.
- ``staged`` (one solve per level present): stage k includes the levels ≤ k, gives level k
  the penalty ``n·M + 1`` and pins every earlier level's served COUNT by capping its unmet
  node at ``n_l − served_l`` (which requests of that level are served may still change). The
  last stage therefore also minimises the total cost. Exact; used when ``bonus`` would
  overflow or the solver reports a cost-range problem.

Independent parts of the graph (in practice one per street, since caregivers serve only their
own street) are solved separately, small ones packed together; see ``solve``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from services.dispatch.matching.arrays import BoolArray, IntArray
from services.dispatch.matching.edges import Edges
from services.dispatch.matching.model import CATEGORY_ORDER

Method = Literal["auto", "bonus", "staged"]
LEVELS = len(CATEGORY_ORDER)
SAFE = 2**62
PACK = 1000  # small independent parts are packed together up to this many requests per solve


class CostRangeError(ArithmeticError):
    """The bonus penalties do not fit the solver's 64-bit costs."""


def bonus_penalties(per_level: list[int], max_cost: int) -> list[int]:
    """Exact (Python int) penalties ``P_l`` for the one-solve method, lowest level first built."""
    n = sum(per_level)
    penalties = [0] * LEVELS
    below = 0  # Σ_{j>l} n_j·P_j
    for level in reversed(range(LEVELS)):
        penalties[level] = below + n * max_cost + 1
        below += per_level[level] * penalties[level]
    return penalties


def _solve_once(
    level: IntArray,
    edges: Edges,
    spare: IntArray,
    include: BoolArray,
    penalty: list[int],
    unmet_cap: list[int],
) -> tuple[BoolArray, IntArray]:
    """One min-cost flow over the included requests; returns (edge served, unserved per level)."""
    n = level.size
    keep = include[edges.req]
    e_req, e_cg, e_cost = edges.req[keep], edges.cg[keep], edges.cost[keep]
    cg_ids, cg_local = np.unique(e_cg, return_inverse=True)
    m = cg_ids.size
    unmet0, sink = n + m, n + m + LEVELS
    reqs = np.flatnonzero(include)
    tails = np.concatenate([e_req, reqs, unmet0 + np.arange(LEVELS), n + np.arange(m)])
    heads = np.concatenate(
        [n + cg_local, unmet0 + level[reqs], np.full(LEVELS + m, sink, dtype=np.int64)]
    )
    caps = np.concatenate(
        [np.ones(e_req.size + reqs.size, dtype=np.int64), unmet_cap, spare[cg_ids]]
    ).astype(np.int64)
    unit = np.concatenate(
        [e_cost, np.array(penalty, dtype=np.int64)[level[reqs]], np.zeros(LEVELS + m, np.int64)]
    ).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, unit)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[reqs] = 1
    supplies[sink] = -reqs.size
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise CostRangeError(f"min-cost flow ended with status {status}")
    served_kept = flow.flows(np.arange(e_req.size)) > 0
    served = np.zeros(edges.req.size, dtype=bool)
    served[np.flatnonzero(keep)[served_kept]] = True
    unserved = np.bincount(
        level[reqs], weights=1 - np.isin(reqs, e_req[served_kept]), minlength=LEVELS
    )
    return served, unserved.astype(np.int64)


def _bonus(level: IntArray, edges: Edges, spare: IntArray) -> BoolArray:
    per_level = np.bincount(level, minlength=LEVELS).tolist()
    max_cost = int(edges.cost.max()) if edges.cost.size else 0
    penalties = bonus_penalties(per_level, max_cost)
    nodes = level.size + np.unique(edges.cg).size + LEVELS + 1
    objective = (
        sum(p * c for p, c in zip(penalties, per_level, strict=True)) + level.size * max_cost
    )
    if max(penalties) * 2 * (nodes + 1) >= SAFE or objective >= SAFE:
        raise CostRangeError("bonus penalties exceed the solver's cost range")
    include = np.ones(level.size, dtype=bool)
    return _solve_once(level, edges, spare, include, penalties, per_level)[0]


def _staged(level: IntArray, edges: Edges, spare: IntArray) -> BoolArray:
    per_level = np.bincount(level, minlength=LEVELS).tolist()
    max_cost = int(edges.cost.max()) if edges.cost.size else 0
    unmet_cap = list(per_level)
    served = np.zeros(edges.req.size, dtype=bool)
    for k in range(LEVELS):
        if per_level[k] == 0:
            continue
        include = level <= k
        penalty = [0] * LEVELS
        penalty[k] = int(include.sum()) * max_cost + 1
        served, unserved = _solve_once(level, edges, spare, include, penalty, unmet_cap)
        unmet_cap[k] = int(unserved[k])  # pin level k's served count for the later stages
    return served


def _solve_group(
    level: IntArray, edges: Edges, spare: IntArray, method: Method
) -> tuple[BoolArray, str]:
    if method in ("auto", "bonus"):
        try:
            return _bonus(level, edges, spare), "bonus"
        except CostRangeError:
            if method == "bonus":
                raise
    return _staged(level, edges, spare), "staged"


def _groups(n: int, edges: Edges) -> list[IntArray]:
    """Edge indices of independent parts of the graph: connected components (streets, in
    practice), small ones packed together up to ``PACK`` requests per solve."""
    cg_ids, cg_local = np.unique(edges.cg, return_inverse=True)
    size = n + cg_ids.size
    graph = coo_matrix((np.ones(edges.req.size), (edges.req, n + cg_local)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    edge_label = label[edges.req]
    order = np.argsort(edge_label, kind="stable")
    bounds = np.flatnonzero(np.diff(edge_label[order])) + 1
    groups: list[IntArray] = []
    pending: list[IntArray] = []
    pending_requests = 0
    for part in np.split(order, bounds):
        requests = np.unique(edges.req[part]).size
        if pending and pending_requests + requests > PACK:
            groups.append(np.concatenate(pending))
            pending, pending_requests = [], 0
        pending.append(part)
        pending_requests += requests
    if pending:
        groups.append(np.concatenate(pending))
    return groups


def solve(
    level: IntArray, edges: Edges, spare: IntArray, method: Method = "auto"
) -> tuple[BoolArray, str]:
    """Which edges carry an assignment under the lexicographic objective, and the method used.

    ``level``: priority level per request (0 = A … 4 = no category); ``spare``: free capacity
    per caregiver (indexed like ``edges.cg``). Independent parts of the graph are solved
    separately: with a lexicographic objective (a total order preserved by addition) the
    optimum of independent parts together is the sum of their optima, so this stays exact.
    """
    served = np.zeros(edges.req.size, dtype=bool)
    if level.size == 0 or edges.req.size == 0:
        return served, "trivial"
    used: set[str] = set()
    for group in _groups(level.size, edges):
        reqs, local = np.unique(edges.req[group], return_inverse=True)
        sub = Edges(local.astype(np.int64), edges.cg[group], edges.cost[group])
        part, how = _solve_group(level[reqs], sub, spare, method)
        served[group[part]] = True
        used.add(how)
    return served, "+".join(sorted(used))
