"""What the matching engine needs, read from dispatch's own tables (the I/O side of matching)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.dispatch.matching import CaregiverFacts, RequestFacts
from services.dispatch.store import (
    applications,
    assignments,
    caregivers,
    households,
    leaves,
    substitutes,
)


async def caregiver_facts(
    conn: AsyncConnection, street: str, first: date, last: date
) -> list[CaregiverFacts]:
    """The street's caregivers, with their load and their leave between ``first`` and ``last``
    (a substitute covering any of those days counts as load too). Every query is limited to
    the street's caregivers: a request's cost must not grow with the city."""
    of_street = sa.select(caregivers.c.caregiver_id).where(caregivers.c.street == street)
    active = await conn.execute(
        sa.select(assignments.c.caregiver_id, sa.func.count())
        .where(assignments.c.active, assignments.c.caregiver_id.in_(of_street))
        .group_by(assignments.c.caregiver_id)
    )
    load: dict[str, int] = {caregiver_id: n for caregiver_id, n in active}
    covering = (
        await conn.execute(
            sa.select(substitutes.c.caregiver_id, sa.func.count())
            .where(
                substitutes.c.first_day <= last,
                substitutes.c.last_day >= first,
                substitutes.c.caregiver_id.in_(of_street),
            )
            .group_by(substitutes.c.caregiver_id)
        )
    ).all()
    for caregiver_id, n in covering:
        load[caregiver_id] = load.get(caregiver_id, 0) + n
    away: dict[str, set[date]] = {}
    for row in await conn.execute(
        sa.select(leaves).where(
            leaves.c.first_day <= last,
            leaves.c.last_day >= first,
            leaves.c.caregiver_id.in_(of_street),
        )
    ):
        away.setdefault(row.caregiver_id, set()).update(days_between(row.first_day, row.last_day))
    approved_child = await _approved_own_children(conn, street)
    rows = await conn.execute(
        sa.select(caregivers)
        .where(caregivers.c.street == street)
        .order_by(caregivers.c.caregiver_id)
    )
    return [
        _caregiver(
            r,
            load.get(r.caregiver_id, 0),
            away.get(r.caregiver_id, set()),
            approved_child.get(r.caregiver_id, set()),
        )
        for r in rows
    ]


async def _approved_own_children(conn: AsyncConnection, street: str) -> dict[str, set[str]]:
    """caregiver -> households where the B2 public notice approved them as an elder's own
    child caregiver: only that named child, only there, only after the notice."""
    rows = await conn.execute(
        sa.select(
            applications.c.child_caregiver_id, applications.c.household_id, applications.c.rules
        )
        .join(households, households.c.household_id == applications.c.household_id)
        .where(
            households.c.street == street,
            applications.c.status == "approved",
            applications.c.child_caregiver_id.is_not(None),
        )
    )
    allowed: dict[str, set[str]] = {}
    for caregiver_id, household_id, rules in rows:
        if "B2" in rules:
            allowed.setdefault(caregiver_id, set()).add(household_id)
    return allowed


def _caregiver(row: Any, load: int, away: set[date], child_allowed: set[str]) -> CaregiverFacts:
    p = row.profile or {}
    home = p.get("home")
    return CaregiverFacts(
        caregiver_id=row.caregiver_id,
        station_id=row.station_id,
        street=row.street,
        home=(home["lat"], home["lon"]) if home else None,
        sex=row.sex,
        dialects=frozenset(p.get("dialects", ())),
        skills=frozenset(p.get("skills", ())),
        capacity=row.capacity,
        load=load,
        active=row.active,
        on_leave_dates=frozenset(away),
        certificates={
            c["module"]: date.fromisoformat(c["expires_on"]) for c in p.get("certificates", ())
        },
        appraisal=p.get("appraisal_score"),
        child_of=frozenset(p.get("child_of", ())) - child_allowed,
    )


async def request_facts(
    conn: AsyncConnection, request_id: str, household: Any, start: date
) -> RequestFacts:
    p = household.profile or {}
    past = await conn.execute(
        sa.select(assignments.c.caregiver_id, assignments.c.end_reason).where(
            assignments.c.household_id == household.household_id
        )
    )
    history = past.all()
    subs = await conn.scalars(
        sa.select(substitutes.c.caregiver_id).where(
            substitutes.c.household_id == household.household_id
        )
    )
    replaced = {c for c, reason in history if reason == "replaced"}
    location = p.get("location")
    prefs = p.get("preferences", {})
    return RequestFacts(
        request_id=request_id,
        household_id=household.household_id,
        station_id=household.station_id,
        street=household.street,
        category=household.category,
        location=(location["lat"], location["lon"]) if location else None,
        needed_skills=frozenset(p.get("needs", ())),
        gender_preference=prefs.get("caregiver_sex"),
        gender_strict=prefs.get("sex_strict", False),
        dialects=frozenset(prefs.get("dialects", ())),
        replaced_caregivers=frozenset(p.get("replaced_caregivers", ())) | replaced,
        past_caregivers=frozenset(c for c, _ in history) | frozenset(subs.all()),
        # the approved own child is cleared in caregiver_facts, for that household only
        b2_child_allowed=False,
        start_date=start,
    )


def days_between(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
