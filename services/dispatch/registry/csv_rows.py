"""Flat CSV columns to registration objects (validation happens afterwards, on the model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HOUSEHOLD_COLUMNS = (
    "household_id",
    "name",
    "address",
    "station_id",
    "street",
    "category",
    "enrolled_on",
    "visit_start",
    "visit_end",
    "lat",
    "lon",
    "needs",
    "elders",
    "preferred_caregiver_sex",
    "sex_strict",
    "dialects",
    "replaced_caregivers",
    "doctor_name",
    "doctor_phone",
    "doctor_hospital",
    "blood_type",
    "drugs_to_avoid",
    "emergency_contact",
    "emergency_phone",
)
CAREGIVER_COLUMNS = (
    "caregiver_id",
    "name",
    "station_id",
    "street",
    "sex",
    "capacity",
    "active",
    "lat",
    "lon",
    "dialects",
    "skills",
    "daily_care_expires",
    "common_illness_expires",
    "first_aid_expires",
    "child_of",
    "appraisal_score",
)


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _bool(value: str, column: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "y", "是"):
        return True
    if lowered in ("", "0", "false", "no", "n", "否"):
        return False
    raise ValueError(f"{column}: not a yes/no value: {value!r}")


def _point(row: dict[str, str]) -> dict[str, str] | None:
    if not row.get("lat") and not row.get("lon"):
        return None
    return {"lat": row.get("lat", ""), "lon": row.get("lon", "")}


def _elders(value: str) -> list[dict[str, str]]:
    elders = []
    for n, part in enumerate(_list(value)):
        fields = [f.strip() for f in part.split("|")]
        if len(fields) != 4:
            raise ValueError(f"elders[{n}]: expected name|sex|birth_date|self_care, got {part!r}")
        elders.append(dict(zip(("name", "sex", "birth_date", "self_care"), fields, strict=True)))
    return elders


def _optional(fields: dict[str, str]) -> dict[str, str] | None:
    return fields if any(fields.values()) else None


def household(row: dict[str, str]) -> dict[str, Any]:
    doctor = _optional(
        {
            "name": row.get("doctor_name", ""),
            "phone": row.get("doctor_phone", ""),
            "hospital": row.get("doctor_hospital", ""),
        }
    )
    card = _optional(
        {
            "blood_type": row.get("blood_type", ""),
            "drugs_to_avoid": row.get("drugs_to_avoid", ""),
            "contact_name": row.get("emergency_contact", ""),
            "contact_phone": row.get("emergency_phone", ""),
        }
    )
    return {
        **{
            k: row[k]
            for k in ("household_id", "name", "address", "station_id", "street", "enrolled_on")
        },
        "category": row["category"] or None,
        "visit_window": [row["visit_start"], row["visit_end"]],
        "location": _point(row),
        "needs": _list(row.get("needs", "")),
        "elders": _elders(row.get("elders", "")),
        "preferences": {
            "caregiver_sex": row.get("preferred_caregiver_sex") or None,
            "sex_strict": _bool(row.get("sex_strict", ""), "sex_strict"),
            "dialects": _list(row.get("dialects", "")),
        },
        "replaced_caregivers": _list(row.get("replaced_caregivers", "")),
        "family_doctor": doctor,
        "emergency_card": card,
    }


def caregiver(row: dict[str, str]) -> dict[str, Any]:
    certificates = [
        {"module": module, "expires_on": row[f"{module}_expires"]}
        for module in ("daily_care", "common_illness", "first_aid")
        if row.get(f"{module}_expires")
    ]
    return {
        **{k: row[k] for k in ("caregiver_id", "name", "station_id", "street")},
        "sex": row.get("sex") or "F",
        "capacity": row.get("capacity") or 1,
        "active": _bool(row.get("active") or "yes", "active"),
        "home": _point(row),
        "dialects": _list(row.get("dialects", "")),
        "skills": _list(row.get("skills", "")),
        "certificates": certificates,
        "child_of": _list(row.get("child_of", "")),
        "appraisal_score": row.get("appraisal_score") or None,
    }


CSV_READERS: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "households": household,
    "caregivers": caregiver,
}

# (required, known) columns per kind
CSV_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "households": (HOUSEHOLD_COLUMNS[:9], HOUSEHOLD_COLUMNS),
    "caregivers": (CAREGIVER_COLUMNS[:4], CAREGIVER_COLUMNS),
}
