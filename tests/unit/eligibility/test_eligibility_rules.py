"""Each §3.1 rule on its own, at its boundaries (round 2026-11, ages on 2026-11-01)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eligibility_builders import application, elder, facts, three_nos

from services.dispatch.eligibility.facts import Facts
from services.dispatch.eligibility.rules import (
    rule_a1,
    rule_a2,
    rule_b1,
    rule_b2,
    rule_c1,
    rule_c2,
    rule_d,
)

Rule = Callable[[Facts], bool]
ILL: dict[str, Any] = {"seriously_ill_certified": True, "self_care": "unable"}
NEEDY_NO_CHILD: dict[str, Any] = {"self_care": "needs_help", "has_children": False}

CASES: list[tuple[str, Rule, dict[str, Any], bool]] = [
    # A1: aged >= 80, unable, no work / income / legal supporter, all the same elder.
    ("a1 exactly 80", rule_a1, application(three_nos(80)), True),
    ("a1 79: birthday on the 2nd", rule_a1, application(three_nos(80, birthday=2)), False),
    ("a1 needs_help only", rule_a1, application(three_nos(85, self_care="needs_help")), False),
    ("a1 can work", rule_a1, application(three_nos(85, can_work=True)), False),
    ("a1 has income", rule_a1, application(three_nos(85, has_income=True)), False),
    ("a1 has supporter", rule_a1, application(three_nos(85, has_legal_supporter=True)), False),
    (
        "a1 conditions split between two elders",
        rule_a1,
        application(three_nos(85, has_income=True), three_nos(70)),
        False,
    ),
    ("a1 no local hukou", rule_a1, application(three_nos(90), hukou_local=False), False),
    # A2: an elder who needs care and has no children, household on 低保.
    ("a2", rule_a2, application(elder(60, **NEEDY_NO_CHILD), on_dibao=True), True),
    ("a2 unable", rule_a2, application(elder(61, **ILL, has_children=False), on_dibao=True), True),
    ("a2 not on dibao", rule_a2, application(elder(70, **NEEDY_NO_CHILD)), False),
    (
        "a2 has children",
        rule_a2,
        application(elder(70, self_care="needs_help"), on_dibao=True),
        False,
    ),
    (
        "a2 independent",
        rule_a2,
        application(elder(70, has_children=False), on_dibao=True),
        False,
    ),
    (
        "a2 aged 59 is no elder",
        rule_a2,
        application(elder(60, birthday=2, **NEEDY_NO_CHILD), on_dibao=True),
        False,
    ),
    # B1: needs care and M >= 70 / F >= 65; income <= 600.00 (one elder) / 1000.00 (two).
    ("b1 F 65", rule_b1, application(elder(65, self_care="needs_help")), True),
    ("b1 F 64", rule_b1, application(elder(65, birthday=2, self_care="needs_help")), False),
    ("b1 M 70", rule_b1, application(elder(70, sex="M", self_care="unable")), True),
    ("b1 M 69", rule_b1, application(elder(70, birthday=2, sex="M", self_care="unable")), False),
    ("b1 M 67", rule_b1, application(elder(67, sex="M", self_care="needs_help")), False),
    ("b1 independent", rule_b1, application(elder(80)), False),
    (
        "b1 one elder 600.00",
        rule_b1,
        application(elder(70, self_care="needs_help"), monthly_income="600.00"),
        True,
    ),
    (
        "b1 one elder 600.01",
        rule_b1,
        application(elder(70, self_care="needs_help"), monthly_income="600.01"),
        False,
    ),
    (
        "b1 two elders 1000.00",
        rule_b1,
        application(elder(70, self_care="needs_help"), elder(60), monthly_income="1000.00"),
        True,
    ),
    (
        "b1 two elders 1000.01",
        rule_b1,
        application(elder(70, self_care="needs_help"), elder(60), monthly_income="1000.01"),
        False,
    ),
    (
        "b1 three elders take the two-elder limit",
        rule_b1,
        application(elder(70, self_care="needs_help"), elder(), elder(), monthly_income="1000.00"),
        True,
    ),
    (
        "b1 a 59-year-old does not make two elders",
        rule_b1,
        application(
            elder(70, self_care="needs_help"), elder(60, birthday=2), monthly_income="1000.00"
        ),
        False,
    ),
    (
        "b1 age and need on different elders",
        rule_b1,
        application(elder(80), elder(62, self_care="needs_help"), monthly_income="100.00"),
        False,
    ),
    (
        "b1 no local hukou",
        rule_b1,
        application(elder(70, self_care="needs_help"), hukou_local=False),
        False,
    ),
    # B2: aged >= 70, seriously ill with a certificate, unable.
    ("b2 exactly 70", rule_b2, application(elder(70, sex="M", **ILL)), True),
    ("b2 69", rule_b2, application(elder(70, birthday=2, **ILL)), False),
    (
        "b2 needs_help only",
        rule_b2,
        application(elder(80, seriously_ill_certified=True, self_care="needs_help")),
        False,
    ),
    ("b2 no certificate", rule_b2, application(elder(80, self_care="unable")), False),
    # C1: some elder who needs care.
    ("c1 needs_help", rule_c1, application(elder(60, self_care="needs_help")), True),
    ("c1 unable", rule_c1, application(elder(60, self_care="unable")), True),
    ("c1 independent", rule_c1, application(elder(90)), False),
    (
        "c1 59 needing care is no elder",
        rule_c1,
        application(elder(90), elder(60, birthday=2, self_care="unable")),
        False,
    ),
    (
        "c1 not resident",
        rule_c1,
        application(elder(70, self_care="needs_help"), resides_locally=False),
        False,
    ),
    # C2: exactly two elders, one ill and unable, the other unemployed, on 低保.
    ("c2", rule_c2, application(elder(66, **ILL), elder(64, unemployed=True), on_dibao=True), True),
    (
        "c2 other way round",
        rule_c2,
        application(elder(61, unemployed=True), elder(66, **ILL), on_dibao=True),
        True,
    ),
    (
        "c2 not on dibao",
        rule_c2,
        application(elder(66, **ILL), elder(64, unemployed=True)),
        False,
    ),
    (
        "c2 other not unemployed",
        rule_c2,
        application(elder(66, **ILL), elder(64), on_dibao=True),
        False,
    ),
    (
        "c2 ill but only needs help",
        rule_c2,
        application(
            elder(66, seriously_ill_certified=True, self_care="needs_help"),
            elder(64, unemployed=True),
            on_dibao=True,
        ),
        False,
    ),
    (
        "c2 one person both ill and unemployed",
        rule_c2,
        application(elder(66, **ILL, unemployed=True), elder(64), on_dibao=True),
        False,
    ),
    (
        "c2 single elder",
        rule_c2,
        application(elder(66, **ILL, unemployed=True), on_dibao=True),
        False,
    ),
    (
        "c2 three elders",
        rule_c2,
        application(elder(66, **ILL), elder(64, unemployed=True), elder(), on_dibao=True),
        False,
    ),
    (
        "c2 the unemployed one is 59",
        rule_c2,
        application(elder(66, **ILL), elder(60, birthday=2, unemployed=True), on_dibao=True),
        False,
    ),
    (
        "c2 no local hukou",
        rule_c2,
        application(elder(66, **ILL), elder(64, unemployed=True), on_dibao=True, hukou_local=False),
        False,
    ),
    # D: living locally; hukou does not matter.
    ("d resident", rule_d, application(), True),
    ("d resident without local hukou", rule_d, application(hukou_local=False), True),
    ("d not resident", rule_d, application(resides_locally=False), False),
]


@pytest.mark.parametrize(
    ("rule", "data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule(rule: Rule, data: dict[str, Any], expected: bool) -> None:
    assert rule(facts(data)) is expected
