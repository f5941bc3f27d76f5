"""Feasible (request, caregiver) pairs and their integer costs, vectorised with numpy.

This is the batch solver's candidate graph. It must agree with ``constraints.violations``
(an edge exists exactly when the pair has no violation) and with ``scoring.cost`` (same
integer cost); tests check both on random instances. Per-caregiver components (appraisal,
workload) are taken from ``scoring`` itself; per-pair components are mirrored element-wise in
the same order of floating-point operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from services.dispatch.matching import scoring
from services.dispatch.matching.arrays import BoolArray, FloatArray, IntArray
from services.dispatch.matching.constraints import violations
from services.dispatch.matching.model import CaregiverFacts, RequestFacts, Weights
from services.dispatch.matching.sparse import INFEASIBLE, ColumnTopK, row_top_k

#: cells per cost-matrix chunk (rows × the street's caregivers), bounds memory
CHUNK_CELLS = 1 << 21


@dataclass(frozen=True)
class Edges:
    """Parallel arrays: request index, caregiver index (into the caller's lists), cost."""

    req: IntArray
    cg: IntArray
    cost: IntArray


@dataclass
class _Street:
    """The caregivers of one street that pass every caregiver-only constraint."""

    members: list[CaregiverFacts]
    idx: IntArray  # global caregiver indices
    rank: IntArray  # order of caregiver_id, for deterministic ties
    pos: dict[str, int]  # caregiver_id → local position
    lat: FloatArray  # radians; NaN when the home is unknown
    lon: FloatArray
    cos_lat: FloatArray
    has_home: BoolArray
    female: BoolArray
    appraisal: FloatArray
    workload: FloatArray
    children: dict[str, list[int]]  # household_id → local positions of the elders' own children
    _sets: dict[tuple[str, str], BoolArray] = field(default_factory=dict)

    def has(self, kind: str, value: str) -> BoolArray:
        """Members whose ``skills``/``dialects`` contain ``value`` (cached)."""
        key = (kind, value)
        if key not in self._sets:
            self._sets[key] = np.fromiter(
                (value in getattr(c, kind) for c in self.members), bool, len(self.members)
            )
        return self._sets[key]


def _streets(
    caregivers: Sequence[CaregiverFacts], weights: Weights, on: date
) -> dict[str, _Street]:
    groups: dict[str, list[int]] = {}
    for i, cg in enumerate(caregivers):
        # Caregiver-only constraints: checked once per caregiver against a same-street dummy.
        probe = RequestFacts("", "", "", cg.street)
        if not violations(probe, cg, on):
            groups.setdefault(cg.street, []).append(i)
    out: dict[str, _Street] = {}
    for street, indices in groups.items():
        members = [caregivers[i] for i in indices]
        homes = [c.home if c.home is not None else (np.nan, np.nan) for c in members]
        lat = np.radians(np.array([h[0] for h in homes], dtype=np.float64))
        ids = [c.caregiver_id for c in members]
        children: dict[str, list[int]] = {}
        for j, c in enumerate(members):
            for household in c.child_of:
                children.setdefault(household, []).append(j)
        out[street] = _Street(
            members=members,
            idx=np.array(indices, dtype=np.int64),
            rank=np.argsort(np.argsort(np.array(ids, dtype=object), kind="stable")),
            pos={cid: j for j, cid in enumerate(ids)},
            lat=lat,
            lon=np.array([h[1] for h in homes], dtype=np.float64),
            cos_lat=np.cos(lat),
            has_home=np.array([c.home is not None for c in members], dtype=bool),
            female=np.array([c.sex == "F" for c in members], dtype=bool),
            appraisal=np.array([scoring.appraisal_component(c, weights).points for c in members]),
            workload=np.array([scoring.workload_component(c, weights).points for c in members]),
            children=children,
        )
    return out


def _feasible(req: RequestFacts, st: _Street) -> IntArray:
    mask = np.ones(len(st.members), dtype=bool)
    for skill in req.needed_skills:
        mask &= st.has("skills", skill)
    if req.gender_strict and req.gender_preference is not None:
        mask &= st.female == (req.gender_preference == "F")
    for cid in req.replaced_caregivers:
        if cid in st.pos:
            mask[st.pos[cid]] = False
    if not req.b2_child_allowed:
        mask[st.children.get(req.household_id, [])] = False
    return np.flatnonzero(mask).astype(np.int64)


def _costs(req: RequestFacts, st: _Street, sel: IntArray, w: Weights) -> IntArray:
    n = sel.size
    unknown = np.full(n, w.distance * w.unknown_distance_km / w.distance_scale_km)
    if req.location is None:
        dist = unknown
    else:
        p2 = np.radians(req.location[0])
        p1 = st.lat[sel]
        dp = p2 - p1
        dl = np.radians(req.location[1] - st.lon[sel])
        h = np.sin(dp / 2) ** 2 + st.cos_lat[sel] * np.cos(p2) * np.sin(dl / 2) ** 2
        km = 2 * scoring.EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, h)))
        dist = np.where(st.has_home[sel], w.distance * km / w.distance_scale_km, unknown)
    cont = np.full(n, w.continuity)
    for cid in req.past_caregivers:
        j = st.pos.get(cid)
        if j is not None:
            cont[sel == j] = 0.0
    dial = np.zeros(n)
    if req.dialects:
        speaks = np.zeros(n, dtype=bool)
        for d in req.dialects:
            speaks |= st.has("dialects", d)[sel]
        dial = np.where(speaks, 0.0, w.dialect)
    gender = np.zeros(n)
    if req.gender_preference is not None and not req.gender_strict:
        match = st.female[sel] == (req.gender_preference == "F")
        gender = np.where(match, 0.0, w.gender)
    total = dist + cont + dial + st.appraisal[sel] + st.workload[sel] + gender
    return np.maximum(0, np.rint(total * scoring.COST_SCALE)).astype(np.int64)


def _street_edges(
    requests: Sequence[RequestFacts],
    rows: list[int],
    st: _Street,
    weights: Weights,
    k: int | None,
) -> tuple[IntArray, IntArray, IntArray]:
    """(request index, local caregiver position, cost) of the kept edges of one street."""
    m = len(st.members)
    step = max(1, CHUNK_CELLS // m)
    columns = ColumnTopK(k, m, len(requests)) if k is not None else None
    out_r: list[IntArray] = []
    out_c: list[IntArray] = []
    out_cost: list[IntArray] = []
    for lo in range(0, len(rows), step):
        chunk = np.array(rows[lo : lo + step], dtype=np.int64)
        mat = np.full((chunk.size, m), INFEASIBLE, dtype=np.int64)
        for i, r in enumerate(chunk.tolist()):
            sel = _feasible(requests[r], st)
            if sel.size:
                mat[i, sel] = _costs(requests[r], st, sel, weights)
        if columns is None:
            keep = mat != INFEASIBLE
        else:
            keep = row_top_k(mat, st.rank, k or 0)
            columns.add(mat, chunk)
        ri, ci = np.nonzero(keep)
        out_r.append(chunk[ri])
        out_c.append(ci.astype(np.int64))
        out_cost.append(mat[ri, ci])
    if columns is not None:
        r2, c2, cost2 = columns.cells()
        out_r.append(r2)
        out_c.append(c2)
        out_cost.append(cost2)
    r_all, c_all, cost_all = np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_cost)
    if columns is not None:  # the two sides overlap: keep each pair once
        _, first = np.unique(r_all * m + c_all, return_index=True)
        r_all, c_all, cost_all = r_all[first], c_all[first], cost_all[first]
    return r_all, c_all, cost_all


def build_edges(
    requests: Sequence[RequestFacts],
    caregivers: Sequence[CaregiverFacts],
    weights: Weights,
    on: date,
    k_nearest: int | None = None,
) -> Edges:
    """Every feasible pair; with ``k_nearest``, only the pairs among the request's k cheapest
    feasible caregivers or the caregiver's k cheapest feasible requests (see ``sparse``)."""
    if k_nearest is not None and k_nearest < 1:
        raise ValueError("k_nearest must be at least 1")
    streets = _streets(caregivers, weights, on)
    by_street: dict[str, list[int]] = {}
    for r, req in enumerate(requests):
        if req.street in streets:
            by_street.setdefault(req.street, []).append(r)
    reqs: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    cgs: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    costs: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    for street, rows in by_street.items():
        st = streets[street]
        r_idx, local, cost = _street_edges(requests, rows, st, weights, k_nearest)
        reqs.append(r_idx)
        cgs.append(st.idx[local])
        costs.append(cost)
    return Edges(np.concatenate(reqs), np.concatenate(cgs), np.concatenate(costs))
