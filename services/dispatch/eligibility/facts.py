"""The facts the rules look at, fixed once per application: the round, the policy in force on
its first day, and the elders with their ages on that day."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.dispatch.application import ApplicantElder, Application
from services.dispatch.eligibility.policy import EligibilityPolicy, PolicyBook
from services.dispatch.eligibility.rounds import age_on, round_for, round_start


@dataclass(frozen=True)
class Elder:
    person: ApplicantElder
    age: int  # on the round's first day


@dataclass(frozen=True)
class Facts:
    """What the rules look at: the application, its elders (those aged >= elder_min_age) with
    their ages on the round's first day, and the policy in force on that day."""

    app: Application
    round: str
    elders: tuple[Elder, ...]
    policy: EligibilityPolicy

    @property
    def local(self) -> bool:
        return self.app.hukou_local and self.app.resides_locally


def facts_for(app: Application, policy_book: PolicyBook) -> Facts:
    """Fix the round, the policy in force on its first day and the elders' ages on that day.
    Raises PolicyError when no policy is in force for the application's dates."""
    cutoff_policy = policy_book.policy_on(app.received_on.replace(day=1))
    round_month = round_for(app.received_on, cutoff_policy)
    day_one = round_start(round_month)
    policy = policy_book.policy_on(day_one)
    elders = tuple(
        Elder(person, age)
        for person in app.elders
        if (age := age_on(person.birth_date, day_one)) >= policy.elder_min_age
    )
    return Facts(app, round_month, elders, policy)
