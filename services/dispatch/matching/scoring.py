"""Preference scoring (domain.md §4): a COST, lower is better, explained component by component.

Each component is ``points`` ≥ 0 with a reason in English and zh-CN for the station manager.
``Score.total`` is the sum of the points in component order; ``cost(score)`` is the same total
as a non-negative integer (× ``COST_SCALE``, rounded half-to-even) for the solver.

Neutral values: an unknown home or household location counts as ``unknown_distance_km``; a
caregiver not yet appraised counts as ``unknown_appraisal`` (see ``Weights``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.dispatch.matching.model import CaregiverFacts, LatLon, RequestFacts, Weights

COST_SCALE = 100
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Component:
    name: str  # distance | continuity | dialect | appraisal | workload | gender
    points: float
    reason: str
    reason_zh: str


@dataclass(frozen=True)
class Score:
    total: float  # cost points; LOWER is better
    components: tuple[Component, ...]


def haversine_km(a: LatLon, b: LatLon) -> float:
    """Great-circle distance in km (mirrored element-wise by ``edges._haversine_km``)."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp = p2 - p1
    dl = math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def _distance(req: RequestFacts, cg: CaregiverFacts, w: Weights) -> Component:
    if req.location is None or cg.home is None:
        km = w.unknown_distance_km
        return Component(
            "distance",
            w.distance * km / w.distance_scale_km,
            f"location unknown; {km:.1f} km assumed",
            f"位置未知，按{km:.1f}公里计",
        )
    km = haversine_km(cg.home, req.location)
    points = w.distance * km / w.distance_scale_km
    return Component("distance", points, f"{km:.1f} km from home", f"距家{km:.1f}公里")


def _continuity(req: RequestFacts, cg: CaregiverFacts, w: Weights) -> Component:
    if cg.caregiver_id in req.past_caregivers:
        return Component("continuity", 0.0, "served this household before", "曾服务过该户")
    return Component(
        "continuity", w.continuity, "has not served this household before", "未曾服务过该户"
    )


def _dialect(req: RequestFacts, cg: CaregiverFacts, w: Weights) -> Component:
    if not req.dialects:
        return Component("dialect", 0.0, "no dialect requested", "无方言要求")
    shared = sorted(req.dialects & cg.dialects)
    if shared:
        names = "、".join(shared)
        return Component("dialect", 0.0, f"speaks {names}", f"会说{names}")
    wanted = "、".join(sorted(req.dialects))
    return Component("dialect", w.dialect, f"does not speak {wanted}", f"不会说{wanted}")


def appraisal_component(cg: CaregiverFacts, w: Weights) -> Component:
    value = w.unknown_appraisal if cg.appraisal is None else cg.appraisal
    points = w.appraisal * (100.0 - value) / 100.0
    if cg.appraisal is None:
        return Component(
            "appraisal",
            points,
            f"not yet appraised ({value:g}/100 assumed)",
            f"尚无考核（按{value:g}分计）",
        )
    return Component("appraisal", points, f"appraisal {value:g}/100", f"考核{value:g}分")


def workload_component(cg: CaregiverFacts, w: Weights) -> Component:
    share = cg.load / cg.capacity if cg.capacity > 0 else 1.0
    return Component(
        "workload",
        w.workload * share,
        f"serves {cg.load} of {cg.capacity} households",
        f"已服务{cg.load}/{cg.capacity}户",
    )


def _gender(req: RequestFacts, cg: CaregiverFacts, w: Weights) -> Component:
    pref = req.gender_preference
    if pref is None or req.gender_strict:
        return Component("gender", 0.0, "no soft gender preference", "无性别偏好")
    word, word_zh = ("female", "女") if pref == "F" else ("male", "男")
    if cg.sex == pref:
        return Component("gender", 0.0, f"{word} as preferred", f"符合{word_zh}性偏好")
    return Component(
        "gender", w.gender, f"household prefers a {word} caregiver", f"该户偏好{word_zh}性"
    )


def score(req: RequestFacts, cg: CaregiverFacts, weights: Weights) -> Score:
    """Preference cost of ``cg`` for ``req`` (lower is better); hard constraints are not checked."""
    components = (
        _distance(req, cg, weights),
        _continuity(req, cg, weights),
        _dialect(req, cg, weights),
        appraisal_component(cg, weights),
        workload_component(cg, weights),
        _gender(req, cg, weights),
    )
    total = 0.0
    for component in components:
        total += component.points
    return Score(total, components)


def cost(s: Score) -> int:
    """Integer cost for the solver: ``round(total × COST_SCALE)``, never negative."""
    return max(0, round(s.total * COST_SCALE))
