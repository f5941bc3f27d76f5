"""The ranked shortlist for one request."""

from __future__ import annotations

from matching_builders import HOME, ON, caregiver, request

from services.dispatch.matching import Weights, shortlist

W = Weights()


def test_ranked_best_first_and_only_eligible() -> None:
    req = request(location=HOME, past_caregivers=frozenset({"C3"}))
    cgs = [
        caregiver("C1", home=(HOME[0] + 0.02, HOME[1])),
        caregiver("C2", home=HOME),
        caregiver("C3", home=(HOME[0] + 0.01, HOME[1])),  # continuity outweighs 1.1 km
        caregiver("C4", home=HOME, active=False),
        caregiver("C5", street="Xi'an Road"),
    ]
    result = shortlist(req, cgs, W, ON)
    assert [cid for cid, _ in result.ranked] == ["C3", "C2", "C1"]
    assert result.eligible == 3 and result.considered == 5
    assert result.blocked == {"inactive": 1, "other_street": 1}
    assert result.summary.startswith("3 of 5 caregivers eligible; best C3")
    assert "首选C3" in result.summary_zh


def test_ties_are_broken_by_caregiver_id() -> None:
    cgs = [caregiver(cid) for cid in ("C9", "C2", "C5")]
    result = shortlist(request(), cgs, W, ON)
    assert [cid for cid, _ in result.ranked] == ["C2", "C5", "C9"]


def test_k_limits_the_list_not_the_count() -> None:
    cgs = [caregiver(f"C{i}") for i in range(8)]
    result = shortlist(request(), cgs, W, ON, k=3)
    assert len(result.ranked) == 3
    assert result.eligible == 8


def test_empty_shortlist_names_the_dominant_block() -> None:
    cgs = [
        caregiver("C1", load=1),
        caregiver("C2", load=1),
        caregiver("C3", active=False),
        *[caregiver(f"X{i}", street="Xi'an Road") for i in range(10)],
    ]
    result = shortlist(request(), cgs, W, ON)
    assert result.ranked == []
    assert result.dominant_block == "at_capacity"
    assert (
        result.summary
        == "no eligible caregiver among 13; most blocked by at_capacity (2 caregivers)"
    )
    assert result.summary_zh.endswith("主要原因：已满额")


def test_no_caregiver_in_the_street() -> None:
    result = shortlist(request(), [caregiver(street="Xi'an Road")], W, ON)
    assert result.dominant_block == "other_street"
    assert shortlist(request(), [], W, ON).summary == "no caregiver to consider"
