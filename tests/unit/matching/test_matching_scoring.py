"""Preference scores: a cost (lower is better), each component explained in English and zh-CN."""

from __future__ import annotations

import pytest
from matching_builders import caregiver, request

from services.dispatch.matching import COST_SCALE, Score, Weights, cost, score
from services.dispatch.matching.scoring import haversine_km

W = Weights()


def parts(s: Score) -> dict[str, tuple[float, str, str]]:
    return {c.name: (c.points, c.reason, c.reason_zh) for c in s.components}


def test_haversine_one_degree_of_latitude() -> None:
    assert haversine_km((38.0, 121.0), (39.0, 121.0)) == pytest.approx(111.2, abs=0.1)
    assert haversine_km((38.9, 121.6), (38.9, 121.6)) == 0.0


def test_components_and_reasons() -> None:
    req = request(
        location=(38.9200, 121.6200),
        past_caregivers=frozenset({"C1"}),
        dialects=frozenset({"大连话"}),
    )
    cg = caregiver(
        home=(38.9200 - 1.2 / 111.195, 121.6200),
        dialects=frozenset({"大连话"}),
        appraisal=92.0,
        capacity=2,
        load=1,
    )
    p = parts(score(req, cg, W))
    assert list(p) == ["distance", "continuity", "dialect", "appraisal", "workload", "gender"]
    assert p["distance"][1:] == ("1.2 km from home", "距家1.2公里")
    assert p["distance"][0] == pytest.approx(1.2 / W.distance_scale_km, abs=1e-3)
    assert p["continuity"] == (0.0, "served this household before", "曾服务过该户")
    assert p["dialect"] == (0.0, "speaks 大连话", "会说大连话")
    assert p["appraisal"][1:] == ("appraisal 92/100", "考核92分")
    assert p["appraisal"][0] == pytest.approx(0.08)
    assert p["workload"] == (0.25, "serves 1 of 2 households", "已服务1/2户")
    assert p["gender"][0] == 0.0


def test_costs_when_preferences_are_not_met() -> None:
    req = request(dialects=frozenset({"大连话"}), gender_preference="M")
    p = parts(score(req, caregiver(sex="F"), W))
    assert p["continuity"] == (
        W.continuity,
        "has not served this household before",
        "未曾服务过该户",
    )
    assert p["dialect"] == (W.dialect, "does not speak 大连话", "不会说大连话")
    assert p["gender"] == (W.gender, "household prefers a male caregiver", "该户偏好男性")


def test_missing_location_and_appraisal_are_neutral() -> None:
    p = parts(score(request(location=None), caregiver(appraisal=None), W))
    assert p["distance"] == (1.0, "location unknown; 2.0 km assumed", "位置未知，按2.0公里计")
    assert p["appraisal"][0] == pytest.approx(0.4)
    assert "not yet appraised" in p["appraisal"][1]
    unknown_home = parts(score(request(), caregiver(home=None), W))
    assert unknown_home["distance"][0] == 1.0


def test_total_is_the_sum_and_lower_is_better() -> None:
    near = score(request(), caregiver(home=(38.9200, 121.6200)), W)
    far = score(request(), caregiver(home=(38.9500, 121.6200)), W)
    assert near.total == pytest.approx(sum(c.points for c in near.components))
    assert near.total < far.total
    assert cost(near) < cost(far)


def test_cost_is_a_scaled_non_negative_int() -> None:
    s = score(request(), caregiver(), W)
    assert isinstance(cost(s), int)
    assert cost(s) == round(s.total * COST_SCALE)
    assert cost(Score(0.0, ())) == 0


def test_weights_are_configurable() -> None:
    only_distance = Weights(continuity=0, dialect=0, appraisal=0, workload=0, gender=0)
    s = score(request(), caregiver(home=(38.9200, 121.6200)), only_distance)
    assert s.total == 0.0


@pytest.mark.parametrize(
    "kw",
    [{"distance": -1.0}, {"distance_scale_km": 0.0}, {"unknown_appraisal": 120.0}],
)
def test_weights_are_validated(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Weights(**kw)
