"""Pure dispatch rules (no I/O). The first slice's rule: an active caregiver of the same
street with spare capacity, preferring the household's own station, then the lightest load."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CaregiverSlot:
    caregiver_id: str
    station_id: str
    street: str
    capacity: int
    active: bool
    load: int  # households currently assigned

    @property
    def spare(self) -> int:
        return self.capacity - self.load


@dataclass(frozen=True)
class HouseholdNeed:
    household_id: str
    station_id: str
    street: str


@dataclass(frozen=True)
class Unmet:
    reason: str


def choose_caregiver(need: HouseholdNeed, caregivers: list[CaregiverSlot]) -> CaregiverSlot | Unmet:
    same_street = [c for c in caregivers if c.street == need.street]
    if not same_street:
        return Unmet(f"no caregiver registered in street {need.street}")
    active = [c for c in same_street if c.active]
    if not active:
        return Unmet("no active caregiver in the street")
    free = [c for c in active if c.spare > 0]
    if not free:
        return Unmet("every active caregiver of the street is at capacity")
    return min(free, key=lambda c: (c.station_id != need.station_id, c.load, c.caregiver_id))
