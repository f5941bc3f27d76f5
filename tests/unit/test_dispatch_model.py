"""choose_caregiver: who serves a household that asks for care."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.dispatch.model import CaregiverSlot, HouseholdNeed, Unmet, choose_caregiver

NEED = HouseholdNeed(household_id="H1", station_id="S1", street="Zhongshan")


def slot(cid: str, station: str = "S1", street: str = "Zhongshan", **kw: object) -> CaregiverSlot:
    fields = {"capacity": 2, "active": True, "load": 0, **kw}
    return CaregiverSlot(caregiver_id=cid, station_id=station, street=street, **fields)


def test_no_caregiver_in_the_street() -> None:
    result = choose_caregiver(NEED, [slot("C1", street="Elsewhere")])
    assert isinstance(result, Unmet)
    assert "no caregiver registered in street Zhongshan" in result.reason


def test_no_caregiver_at_all() -> None:
    assert isinstance(choose_caregiver(NEED, []), Unmet)


def test_none_active() -> None:
    result = choose_caregiver(NEED, [slot("C1", active=False), slot("C2", active=False)])
    assert isinstance(result, Unmet)
    assert "no active caregiver" in result.reason


def test_all_at_capacity() -> None:
    full = [slot("C1", capacity=1, load=1), slot("C2", capacity=2, load=2)]
    result = choose_caregiver(NEED, [*full, slot("C3", active=False)])
    assert isinstance(result, Unmet)
    assert "at capacity" in result.reason


def test_prefers_own_station_over_lighter_load() -> None:
    other = slot("C1", station="S2", load=0)
    own = slot("C2", station="S1", capacity=3, load=2)
    assert choose_caregiver(NEED, [other, own]) == own


def test_falls_back_to_other_station_when_own_is_full() -> None:
    own_full = slot("C1", capacity=1, load=1)
    other = slot("C2", station="S2")
    assert choose_caregiver(NEED, [own_full, other]) == other


def test_then_prefers_lighter_load() -> None:
    busy = slot("C1", capacity=4, load=2)
    light = slot("C2", capacity=4, load=1)
    assert choose_caregiver(NEED, [busy, light]) == light


def test_then_lower_id() -> None:
    a, b = slot("C0002"), slot("C0001")
    assert choose_caregiver(NEED, [a, b]) == b
    assert choose_caregiver(NEED, [b, a]) == b


def test_other_street_never_chosen_even_if_only_free_one() -> None:
    result = choose_caregiver(NEED, [slot("C1", load=2), slot("C2", street="Other")])
    assert isinstance(result, Unmet)


slots = st.builds(
    CaregiverSlot,
    caregiver_id=st.sampled_from(["C1", "C2", "C3", "C4", "C5"]),
    station_id=st.sampled_from(["S1", "S2"]),
    street=st.sampled_from(["Zhongshan", "Xinghai"]),
    capacity=st.integers(0, 3),
    active=st.booleans(),
    load=st.integers(0, 4),
)


def _eligible(c: CaregiverSlot) -> bool:
    return c.street == NEED.street and c.active and c.capacity - c.load > 0


@given(st.lists(slots, max_size=8))
def test_choice_is_eligible_and_unmet_only_when_nobody_is(caregivers: list[CaregiverSlot]) -> None:
    result = choose_caregiver(NEED, caregivers)
    eligible = [c for c in caregivers if _eligible(c)]
    if isinstance(result, Unmet):
        assert eligible == []
    else:
        assert result in caregivers
        assert _eligible(result)
        # nobody eligible in the household's own station is passed over for another station
        if any(c.station_id == NEED.station_id for c in eligible):
            assert result.station_id == NEED.station_id
