"""The demo street is deterministic and plausible."""

from __future__ import annotations

from collections import Counter
from datetime import date

from services.demo.seed import STATIONS, STREET, build_street

MONTH = date(2026, 11, 1)


def test_same_seed_same_street() -> None:
    assert build_street(MONTH, seed=7) == build_street(MONTH, seed=7)
    assert build_street(MONTH, seed=7) != build_street(MONTH, seed=8)


def test_default_sizes_and_unique_ids() -> None:
    street = build_street(MONTH)
    household_ids = [h.household_id for h in street.households]
    caregiver_ids = [c.caregiver_id for c in street.caregivers]
    assert len(household_ids) == len(set(household_ids)) == 120
    assert len(caregiver_ids) == len(set(caregiver_ids)) == 80


def test_sizes_follow_arguments() -> None:
    street = build_street(MONTH, households=10, caregivers=3)
    assert (len(street.households), len(street.caregivers)) == (10, 3)


def test_all_four_categories_present() -> None:
    categories = Counter(h.category for h in build_street(MONTH).households)
    assert set(categories) == {"A", "B", "C", "D"}


def test_everyone_in_the_street_and_one_of_the_stations() -> None:
    street = build_street(MONTH)
    station_ids = {s for s, _ in STATIONS}
    assert len(station_ids) == 4
    for someone in [*street.households, *street.caregivers]:
        assert someone.station_id in station_ids
        assert someone.street == STREET
    assert {h.station_id for h in street.households} == station_ids


def test_a_few_inactive_and_part_time_caregivers() -> None:
    caregivers = build_street(MONTH).caregivers
    assert sum(not c.active for c in caregivers) == 2
    assert Counter(c.capacity for c in caregivers) == {1: 32, 2: 48}
    # enough places for every household, so the demo's replacement can find someone
    usable = [
        c
        for c in caregivers
        if c.active and all(cert.expires_on >= MONTH for cert in c.certificates)
    ]
    assert sum(c.capacity for c in usable) > len(build_street(MONTH).households)
