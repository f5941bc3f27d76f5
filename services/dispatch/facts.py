"""What the matching engine needs, read from dispatch's own tables (the I/O side of matching)."""

from __future__ import annotations

import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
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
    street_rosters,
    substitutes,
)
from services.infra.upsert import upsert


async def caregiver_facts(
    conn: AsyncConnection, street: str, first: date, last: date
) -> list[CaregiverFacts]:
    """The street's caregivers, with their load and their leave between ``first`` and ``last``
    (a substitute covering any of those days counts as load too)."""
    return (await caregiver_pools(conn, {street}, first, last))[street]


async def caregiver_pools(
    conn: AsyncConnection, streets: Collection[str], first: date, last: date
) -> dict[str, list[CaregiverFacts]]:
    """``caregiver_facts`` for several streets in the same few queries. Every query is limited
    to these streets' caregivers: a request's cost must not grow with the city."""
    wanted = sorted(streets)
    of_streets = sa.select(caregivers.c.caregiver_id).where(caregivers.c.street.in_(wanted))
    active = await conn.execute(
        sa.select(assignments.c.caregiver_id, sa.func.count())
        .where(assignments.c.active, assignments.c.caregiver_id.in_(of_streets))
        .group_by(assignments.c.caregiver_id)
    )
    load: dict[str, int] = {caregiver_id: n for caregiver_id, n in active}
    covering = (
        await conn.execute(
            sa.select(substitutes.c.caregiver_id, sa.func.count())
            .where(
                substitutes.c.first_day <= last,
                substitutes.c.last_day >= first,
                substitutes.c.caregiver_id.in_(of_streets),
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
            leaves.c.caregiver_id.in_(of_streets),
        )
    ):
        away.setdefault(row.caregiver_id, set()).update(days_between(row.first_day, row.last_day))
    approved_child = await _approved_own_children(conn, wanted)
    rosters = await _rosters(conn, wanted)
    return {
        street: [
            _with_today(c, load.get(c.caregiver_id, 0), away.get(c.caregiver_id), approved_child)
            for c in rosters[street]
        ]
        for street in wanted
    }


def _with_today(
    c: CaregiverFacts, load: int, away: set[date] | None, approved_child: dict[str, set[str]]
) -> CaregiverFacts:
    allowed = approved_child.get(c.caregiver_id)
    if not (load or away or allowed):
        return c
    return replace(
        c,
        load=load,
        on_leave_dates=frozenset(away or ()),
        child_of=c.child_of - allowed if allowed else c.child_of,
    )


class RosterCache:
    """A street's caregivers as registered (profile facts, no load or leave), kept between
    requests: reading and decoding fifty profiles cost more than matching them. Each entry
    holds the street's roster token (street_rosters); one key lookup tells whether it is
    current, also when another instance changed a caregiver. Tokens are random, so entries
    never mix databases."""

    def __init__(self, streets: int = 1024) -> None:
        self._streets = streets
        self._entries: OrderedDict[str, tuple[str, list[CaregiverFacts]]] = OrderedDict()

    def get(self, street: str, token: str | None) -> list[CaregiverFacts] | None:
        entry = self._entries.get(street)
        if token is None or entry is None or entry[0] != token:
            return None
        self._entries.move_to_end(street)
        return entry[1]

    def put(self, street: str, token: str | None, roster: list[CaregiverFacts]) -> None:
        if token is None:
            return
        self._entries[street] = (token, roster)
        self._entries.move_to_end(street)
        while len(self._entries) > self._streets:
            self._entries.popitem(last=False)


ROSTERS = RosterCache()


async def _rosters(conn: AsyncConnection, streets: list[str]) -> dict[str, list[CaregiverFacts]]:
    tokens: dict[str, str] = dict(
        (
            await conn.execute(
                sa.select(street_rosters.c.street, street_rosters.c.token).where(
                    street_rosters.c.street.in_(streets)
                )
            )
        ).all()
    )
    found: dict[str, list[CaregiverFacts]] = {}
    for street in streets:
        if (cached := ROSTERS.get(street, tokens.get(street))) is not None:
            found[street] = cached
    missing = [street for street in streets if street not in found]
    if missing:
        for street in missing:
            found[street] = []
        rows = await conn.execute(
            sa.select(caregivers)
            .where(caregivers.c.street.in_(missing))
            .order_by(caregivers.c.street, caregivers.c.caregiver_id)
        )
        for row in rows:
            found[row.street].append(_caregiver(row))
        for street in missing:
            ROSTERS.put(street, tokens.get(street), found[street])
    return found


async def renew_roster(conn: AsyncConnection, street: str) -> None:
    """Mark the street's cached rosters stale: call whenever one of its caregivers changes."""
    await upsert(conn, street_rosters, {"street": street, "token": uuid.uuid4().hex}, ["street"])


async def _approved_own_children(conn: AsyncConnection, streets: list[str]) -> dict[str, set[str]]:
    """caregiver -> households where the B2 public notice approved them as an elder's own
    child caregiver: only that named child, only there, only after the notice."""
    rows = await conn.execute(
        sa.select(
            applications.c.child_caregiver_id, applications.c.household_id, applications.c.rules
        )
        .join(households, households.c.household_id == applications.c.household_id)
        .where(
            households.c.street.in_(streets),
            applications.c.status == "approved",
            applications.c.child_caregiver_id.is_not(None),
        )
    )
    allowed: dict[str, set[str]] = {}
    for caregiver_id, household_id, rules in rows:
        if "B2" in rules:
            allowed.setdefault(caregiver_id, set()).add(household_id)
    return allowed


def _caregiver(row: Any) -> CaregiverFacts:
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
        active=row.active,
        certificates={
            c["module"]: date.fromisoformat(c["expires_on"]) for c in p.get("certificates", ())
        },
        appraisal=p.get("appraisal_score") if row.appraisal_score is None else row.appraisal_score,
        child_of=frozenset(p.get("child_of", ())),
    )


async def request_facts(
    conn: AsyncConnection, request_id: str, household: Any, start: date
) -> RequestFacts:
    history = await household_histories(conn, [household.household_id])
    return facts_of_request(request_id, household, start, history[household.household_id])


@dataclass(frozen=True)
class History:
    """Who served a household: its assignments (with why they ended) and its substitutes."""

    assignments: tuple[tuple[str, str | None], ...] = ()  # (caregiver_id, end_reason)
    substitutes: tuple[str, ...] = ()


async def household_histories(
    conn: AsyncConnection, household_ids: Collection[str]
) -> defaultdict[str, History]:
    wanted = sorted(household_ids)
    served: defaultdict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for household_id, caregiver_id, reason in await conn.execute(
        sa.select(
            assignments.c.household_id, assignments.c.caregiver_id, assignments.c.end_reason
        ).where(assignments.c.household_id.in_(wanted))
    ):
        served[household_id].append((caregiver_id, reason))
    covered: defaultdict[str, list[str]] = defaultdict(list)
    for household_id, caregiver_id in await conn.execute(
        sa.select(substitutes.c.household_id, substitutes.c.caregiver_id).where(
            substitutes.c.household_id.in_(wanted)
        )
    ):
        covered[household_id].append(caregiver_id)
    found: defaultdict[str, History] = defaultdict(History)
    for household_id in set(served) | set(covered):
        found[household_id] = History(tuple(served[household_id]), tuple(covered[household_id]))
    return found


def facts_of_request(
    request_id: str, household: Any, start: date, history: History
) -> RequestFacts:
    p = household.profile or {}
    replaced = {c for c, reason in history.assignments if reason == "replaced"}
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
        past_caregivers=frozenset(c for c, _ in history.assignments)
        | frozenset(history.substitutes),
        # the approved own child is cleared in caregiver_facts, for that household only
        b2_child_allowed=False,
        start_date=start,
    )


def days_between(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
