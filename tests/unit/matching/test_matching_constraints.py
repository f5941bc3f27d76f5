"""Hard constraints of domain.md §4, one table row per constraint."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from matching_builders import CERTS, ON, caregiver, request

from services.dispatch.matching import (
    CODES,
    LABELS_ZH,
    Violation,
    blocked_counts,
    dominant_block,
    violations,
)

EXPIRED = {**CERTS, "first_aid": date(2026, 10, 1)}
NO_FIRST_AID = {k: v for k, v in CERTS.items() if k != "first_aid"}

# (case, request fields, caregiver fields, expected violations)
TABLE: list[tuple[str, dict[str, Any], dict[str, Any], list[Violation]]] = [
    ("eligible", {}, {}, []),
    (
        "other street",
        {},
        {"street": "Xi'an Road"},
        [Violation("other_street", "belongs to street Xi'an Road, not Zhongshan Park")],
    ),
    ("inactive", {}, {"active": False}, [Violation("inactive", "caregiver is not active")]),
    (
        "on leave that day",
        {},
        {"on_leave_dates": frozenset({ON})},
        [Violation("on_leave", "on leave on 2026-11-16")],
    ),
    ("on leave another day", {}, {"on_leave_dates": frozenset({ON + timedelta(1)})}, []),
    (
        "certificate expired",
        {},
        {"certificates": EXPIRED},
        [Violation("certificate", "first_aid certificate expired on 2026-10-01")],
    ),
    (
        "certificate missing",
        {},
        {"certificates": NO_FIRST_AID},
        [Violation("certificate", "no first_aid certificate")],
    ),
    ("certificate expires that day", {}, {"certificates": {**CERTS, "first_aid": ON}}, []),
    (
        "certificate expired the day before",
        {},
        {"certificates": {**CERTS, "daily_care": ON - timedelta(1)}},
        [Violation("certificate", "daily_care certificate expired on 2026-11-15")],
    ),
    (
        "at capacity",
        {},
        {"capacity": 2, "load": 2},
        [Violation("at_capacity", "at capacity: serves 2 of 2 households")],
    ),
    ("part-time with room", {}, {"capacity": 2, "load": 1}, []),
    (
        "missing skill",
        {"needed_skills": frozenset({"bedridden_care"})},
        {"skills": frozenset({"dementia_care"})},
        [Violation("missing_skill", "lacks bedridden_care")],
    ),
    (
        "has the skill",
        {"needed_skills": frozenset({"bedridden_care"})},
        {"skills": frozenset({"bedridden_care", "dementia_care"})},
        [],
    ),
    (
        "replaced",
        {"replaced_caregivers": frozenset({"C1"})},
        {},
        [Violation("replaced", "the household asked to replace this caregiver")],
    ),
    (
        "strict gender",
        {"gender_preference": "F", "gender_strict": True},
        {"sex": "M"},
        [Violation("gender", "the household requires a female caregiver")],
    ),
    ("soft gender is not a constraint", {"gender_preference": "F"}, {"sex": "M"}, []),
    (
        "own child",
        {"household_id": "H1"},
        {"child_of": frozenset({"H1"})},
        [Violation("own_child", "is an elder's own child; allowed only in the approved B2 case")],
    ),
    (
        "own child, B2 notice approved",
        {"household_id": "H1", "b2_child_allowed": True},
        {"child_of": frozenset({"H1"})},
        [],
    ),
    ("child of another household", {"household_id": "H1"}, {"child_of": frozenset({"H9"})}, []),
]


@pytest.mark.parametrize(
    ("req_kw", "cg_kw", "expected"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE]
)
def test_each_constraint(
    req_kw: dict[str, Any], cg_kw: dict[str, Any], expected: list[Violation]
) -> None:
    assert violations(request(**req_kw), caregiver(**cg_kw), ON) == expected


def test_violations_are_code_text_pairs() -> None:
    found = violations(request(), caregiver(active=False), ON)
    assert found == [("inactive", "caregiver is not active")]


def test_all_violations_are_returned_not_just_the_first() -> None:
    req = request(
        household_id="H1",
        needed_skills=frozenset({"dementia_care", "bedridden_care"}),
        replaced_caregivers=frozenset({"C1"}),
        gender_preference="M",
        gender_strict=True,
    )
    cg = caregiver(
        street="Xi'an Road",
        active=False,
        on_leave_dates=frozenset({ON}),
        certificates={},
        capacity=1,
        load=1,
        sex="F",
        child_of=frozenset({"H1"}),
    )
    found = violations(req, cg, ON)
    assert [v.code for v in found] == [
        "other_street",
        "inactive",
        "on_leave",
        "certificate",
        "certificate",
        "certificate",
        "at_capacity",
        "missing_skill",
        "replaced",
        "gender",
        "own_child",
    ]
    assert ("missing_skill", "lacks bedridden_care, dementia_care") in found
    assert {v.code for v in found} == set(CODES)


def test_every_code_has_a_chinese_label() -> None:
    assert set(LABELS_ZH) == set(CODES)


def test_blocked_counts_count_each_caregiver_once_per_code() -> None:
    cgs = [
        caregiver("C1", certificates={}),  # three certificate violations, one caregiver
        caregiver("C2", active=False, load=1),
        caregiver("C3", street="Xi'an Road", active=False),  # only other_street counts
        caregiver("C4"),
    ]
    counts = blocked_counts(request(), cgs, ON)
    assert counts == {"certificate": 1, "inactive": 1, "at_capacity": 1, "other_street": 1}


@pytest.mark.parametrize(
    ("blocked", "expected"),
    [
        ({}, None),
        ({"other_street": 40}, "other_street"),
        ({"other_street": 40, "at_capacity": 2, "inactive": 1}, "at_capacity"),
        ({"at_capacity": 2, "inactive": 2}, "inactive"),  # tie: earlier in CODES
    ],
)
def test_dominant_block(blocked: dict[str, int], expected: str | None) -> None:
    assert dominant_block(blocked) == expected
