"""Value objects inside dispatch payloads (not messages themselves)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from contracts.types import CertificateModule, Id, SelfCare, Sex, Tags


class Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeoPoint(Value):
    lat: float = Field(ge=-90, le=90, examples=[38.9])
    lon: float = Field(ge=-180, le=180, examples=[121.6])


class Elder(Value):
    name: str = Field(min_length=1, max_length=80)
    sex: Sex
    birth_date: date
    self_care: SelfCare


class Preferences(Value):
    caregiver_sex: Sex | None = Field(default=None, description="Preferred caregiver sex.")
    sex_strict: bool = Field(default=False, description="True: a hard constraint.")
    dialects: Tags = Field(default=frozenset(), examples=[["大连话"]])


class FamilyDoctor(Value):
    name: str = Field(min_length=1, max_length=80)
    phone: str = Field(min_length=3, max_length=30)
    hospital: str = Field(default="", max_length=120)


class EmergencyCard(Value):
    """The card the elder wears: what a stranger needs in an emergency."""

    blood_type: str = Field(default="", max_length=8)
    drugs_to_avoid: str = Field(default="", max_length=200)
    contact_name: str = Field(default="", max_length=80)
    contact_phone: str = Field(default="", max_length=30)


class Certificate(Value):
    module: CertificateModule
    expires_on: date


class ScoreComponent(Value):
    """One part of a caregiver's score, with the reason a station manager reads."""

    name: str = Field(examples=["distance"])
    points: float
    reason: str = Field(examples=["1.2 km from home"])
    reason_zh: str = Field(examples=["距家1.2公里"])


class Candidate(Value):
    caregiver_id: Id
    rank: int = Field(ge=1)
    total: float
    components: tuple[ScoreComponent, ...]


class RoundEntry(Value):
    """One application of a monthly round, as the district officer sees it."""

    application_id: Id
    household_id: Id
    received_on: date
    category: str | None
    rules: tuple[str, ...]
    monthly_subsidy: str = Field(examples=["200.00"])
    status: str = Field(examples=["assessed", "approved", "refused", "notice", "investigation"])
    decided_by: str | None = None
