"""Builders for eligibility applications in the §7 file format (plain dicts, as read from JSON).

Every test assesses in the round 2026-11 unless it says otherwise, so ages are given as the age
on ROUND_DAY. The default elder matches no rule but D: independent, with income, a legal
supporter and children.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts.dispatch.application import Application
from services.dispatch.eligibility.facts import Facts, facts_for
from services.dispatch.eligibility.policy import DEFAULT_POLICY_BOOK, PolicyBook
from services.dispatch.eligibility.rules import Assessment, assess

ROUND_DAY = date(2026, 11, 1)
RECEIVED = "2026-11-05"  # before the cut-off: round 2026-11


def born(age: int, *, birthday: int = 1) -> str:
    """A birth date in November: birthday=1 makes the person exactly `age` on ROUND_DAY,
    birthday=2 makes them one year younger (the birthday is one day too late)."""
    return date(ROUND_DAY.year - age, 11, birthday).isoformat()


def elder(age: int = 75, *, birthday: int = 1, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sex": "F",
        "birth_date": born(age, birthday=birthday),
        "self_care": "independent",
        "can_work": False,
        "has_income": True,
        "has_legal_supporter": True,
        "has_children": True,
        "seriously_ill_certified": False,
        "unemployed": False,
    }
    data.update(fields)
    return data


def three_nos(age: int = 80, **fields: Any) -> dict[str, Any]:
    """An A1 elder: cannot care for themselves, no ability to work, income or legal supporter."""
    base = {"self_care": "unable", "has_income": False, "has_legal_supporter": False}
    return elder(age, **{**base, **fields})


def application(*elders: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "household_id": "H1",
        "received_on": RECEIVED,
        "hukou_local": True,
        "resides_locally": True,
        "on_dibao": False,
        "monthly_income": "500.00",
        "wants_service": True,
        "elders": list(elders) if elders else [elder()],
    }
    data.update(fields)
    return data


def assess_data(data: dict[str, Any], book: PolicyBook = DEFAULT_POLICY_BOOK) -> Assessment:
    return assess(Application.model_validate(data), book)


def facts(data: dict[str, Any], book: PolicyBook = DEFAULT_POLICY_BOOK) -> Facts:
    return facts_for(Application.model_validate(data), book)
