"""Facts the matching engine works on (domain.md §4). Pure values: no I/O, no ORM rows.

A caller (the dispatch service) builds these from its store; the engine never looks anything
up. Identifiers are plain strings; a date is the day the match is checked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Sex = Literal["F", "M"]
Category = Literal["A", "B", "C", "D"]
LatLon = tuple[float, float]

#: The three hospital training modules every caregiver must hold a valid certificate in.
CERTIFICATE_MODULES: tuple[str, ...] = ("daily_care", "common_illness", "first_aid")
#: Priority when caregivers are scarce: A first, uncategorised requests last.
CATEGORY_ORDER: tuple[Category | None, ...] = ("A", "B", "C", "D", None)


@dataclass(frozen=True)
class CaregiverFacts:
    """One caregiver as the matcher sees them (养护员)."""

    caregiver_id: str
    station_id: str
    street: str
    home: LatLon | None = None
    sex: Sex = "F"
    dialects: frozenset[str] = frozenset()
    skills: frozenset[str] = frozenset()
    capacity: int = 1  # households this caregiver may serve (seed: one each)
    load: int = 0  # households served now
    active: bool = True
    on_leave_dates: frozenset[date] = frozenset()
    #: expiry date per module in CERTIFICATE_MODULES; a missing module is no certificate
    certificates: Mapping[str, date] = field(default_factory=dict, hash=False)
    appraisal: float | None = None  # latest appraisal score 0..100, None when not yet appraised
    child_of: frozenset[str] = frozenset()  # household ids where this is an elder's own child

    def __post_init__(self) -> None:
        if self.sex not in ("F", "M"):
            raise ValueError(f"sex must be 'F' or 'M', not {self.sex!r}")
        if self.capacity < 0 or self.load < 0:
            raise ValueError("capacity and load must be non-negative")
        if self.appraisal is not None and not 0.0 <= self.appraisal <= 100.0:
            raise ValueError(f"appraisal must be within 0..100, not {self.appraisal}")
        unknown = set(self.certificates) - set(CERTIFICATE_MODULES)
        if unknown:
            raise ValueError(f"unknown certificate modules: {sorted(unknown)}")

    @property
    def spare(self) -> int:
        return max(0, self.capacity - self.load)


@dataclass(frozen=True)
class RequestFacts:
    """One household asking for a caregiver."""

    request_id: str
    household_id: str
    station_id: str
    street: str
    category: Category | None = None
    location: LatLon | None = None
    needed_skills: frozenset[str] = frozenset()
    gender_preference: Sex | None = None
    gender_strict: bool = False  # strict: a hard constraint; otherwise a weighted preference
    dialects: frozenset[str] = frozenset()  # dialects the elders would like the caregiver to speak
    replaced_caregivers: frozenset[str] = frozenset()  # the household asked to replace these
    past_caregivers: frozenset[str] = frozenset()  # served this household before (continuity)
    b2_child_allowed: bool = False  # B2 case: own child chosen and the 3-day public notice passed
    start_date: date | None = None

    def __post_init__(self) -> None:
        if self.category not in CATEGORY_ORDER:
            raise ValueError(f"category must be A, B, C, D or None, not {self.category!r}")
        if self.gender_preference not in (None, "F", "M"):
            raise ValueError("gender_preference must be None, 'F' or 'M'")

    @property
    def priority(self) -> int:
        """0 for A … 3 for D, 4 for no category (served last when caregivers are scarce)."""
        return CATEGORY_ORDER.index(self.category)


@dataclass(frozen=True)
class Weights:
    """Preference weights (cost points; lower total is better). Every value is configurable.

    - distance: points per ``distance_scale_km`` between the caregiver's home and the household;
      when either location is unknown, ``unknown_distance_km`` is assumed (neutral by default:
      one scale unit).
    - continuity: points added when the caregiver has NOT served the household before.
    - dialect: points added when the household asks for dialects and the caregiver speaks none.
    - appraisal: points × (100 − score)/100; a caregiver not yet appraised counts as
      ``unknown_appraisal``.
    - workload: points × load/capacity (share of the caregiver's capacity already used).
    - gender: points added when a non-strict gender preference is not met.
    """

    distance: float = 1.0
    continuity: float = 1.0
    dialect: float = 0.5
    appraisal: float = 1.0
    workload: float = 0.5
    gender: float = 0.5
    distance_scale_km: float = 2.0
    unknown_distance_km: float = 2.0
    unknown_appraisal: float = 60.0

    def __post_init__(self) -> None:
        weights = (self.distance, self.continuity, self.dialect, self.appraisal)
        if min(*weights, self.workload, self.gender) < 0:
            raise ValueError("weights must be non-negative")
        if self.distance_scale_km <= 0 or self.unknown_distance_km < 0:
            raise ValueError("distance_scale_km must be positive, unknown_distance_km >= 0")
        if not 0.0 <= self.unknown_appraisal <= 100.0:
            raise ValueError("unknown_appraisal must be within 0..100")
