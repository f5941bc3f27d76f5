"""The eligibility rules of domain.md §3.1 as small pure functions.

Readings chosen where §3.1 leaves room (each is also stated at the rule it affects):
- A person listed under `elders` counts as an elder only if aged >= elder_min_age on the first
  day of the round month; younger people are ignored by every rule, and a household with no
  elder at all is not eligible (the programme is for elderly households).
- "Two elders in the household" (B1, C2) counts those elders; B1 uses the two-elder income
  limit for two or more, C2 needs exactly two.
- The round of an application received in month M is decided by the cut-off day of the policy
  in force on M's first day; the rules then use the policy in force on the round's first day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from contracts.dispatch.application import ApplicantElder, Application
from contracts.types import Category
from services.dispatch.eligibility.facts import Facts, facts_for
from services.dispatch.eligibility.policy import CATEGORIES, PolicyBook
from services.dispatch.eligibility.rounds import round_for as round_for  # re-exported


def rule_a1(f: Facts) -> bool:
    """A1: hukou local, living locally, some elder aged >= 80 (a_min_age), self_care == unable,
    and that elder has no ability to work, no income and no legal supporter."""
    return f.local and any(
        e.age >= f.policy.a_min_age
        and e.person.cannot_self_care
        and not (e.person.can_work or e.person.has_income or e.person.has_legal_supporter)
        for e in f.elders
    )


def rule_a2(f: Facts) -> bool:
    """A2: hukou local, living locally, some elder who needs care, has no children, and the
    household is on 低保."""
    return (
        f.local
        and f.app.on_dibao
        and any(e.person.needs_care and not e.person.has_children for e in f.elders)
    )


def rule_b1(f: Facts) -> bool:
    """B1: hukou local, living locally, some elder who needs care and is male >= 70 or female
    >= 65, and household monthly income <= 1,000.00 (two elders in the household) or <= 600.00
    (one elder). Reading: two or more elders take the two-elder limit."""
    p = f.policy
    limit = p.income_limit_two_elders if len(f.elders) >= 2 else p.income_limit_one_elder
    return (
        f.local
        and f.app.monthly_income <= limit
        and any(
            e.person.needs_care
            and e.age >= (p.b_male_min_age if e.person.sex == "M" else p.b_female_min_age)
            for e in f.elders
        )
    )


def rule_b2(f: Facts) -> bool:
    """B2: hukou local, living locally, some elder aged >= 70, seriously ill with a hospital
    certificate, self_care == unable."""
    return f.local and any(
        e.age >= f.policy.b2_min_age
        and e.person.seriously_ill_certified
        and e.person.cannot_self_care
        for e in f.elders
    )


def rule_c1(f: Facts) -> bool:
    """C1: hukou local, living locally, some elder who needs care (and no A/B rule applies;
    that part is the precedence in `assess`)."""
    return f.local and any(e.person.needs_care for e in f.elders)


def rule_c2(f: Facts) -> bool:
    """C2: hukou local, living locally, two elders, one seriously ill with self_care == unable,
    the other unemployed, household on 低保. Reading: exactly two elders, either way round."""
    if not (f.local and f.app.on_dibao and len(f.elders) == 2):
        return False
    first, second = (e.person for e in f.elders)

    def ill(x: ApplicantElder) -> bool:
        return x.seriously_ill_certified and x.cannot_self_care

    return (ill(first) and second.unemployed) or (ill(second) and first.unemployed)


def rule_d(f: Facts) -> bool:
    """D: living locally (a household without local hukou can only be D)."""
    return f.app.resides_locally


RULES: tuple[tuple[str, Category, Callable[[Facts], bool]], ...] = (
    ("A1", "A", rule_a1),
    ("A2", "A", rule_a2),
    ("B1", "B", rule_b1),
    ("B2", "B", rule_b2),
    ("C1", "C", rule_c1),
    ("C2", "C", rule_c2),
    ("D", "D", rule_d),
)


@dataclass(frozen=True)
class Assessment:
    household_id: str
    category: Category | None
    monthly_subsidy: Decimal
    round: str
    rules: list[str]


def assess(app: Application, policy_book: PolicyBook) -> Assessment:
    """The highest category any rule grants (A > B > C > D) and every matching rule id of that
    category, under the policy in force on the round's first day. Not eligible (no category,
    no rules, 0.00) when not living locally, not wanting the service, or with no elder.
    Raises PolicyError when no policy is in force for the application's dates."""
    f = facts_for(app, policy_book)
    if app.resides_locally and app.wants_service and f.elders:
        matched = [(rule_id, cat) for rule_id, cat, rule in RULES if rule(f)]
        for category in CATEGORIES:
            ids = sorted(rule_id for rule_id, cat in matched if cat == category)
            if ids:
                amount = f.policy.subsidy_for(category)
                return Assessment(app.household_id, category, amount, f.round, ids)
    return Assessment(app.household_id, None, Decimal("0.00"), f.round, [])
