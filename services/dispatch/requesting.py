"""A care request: assigned at once (auto), proposed as a ranked shortlist for the station
manager, or queued for the street's batch; unmet with the reason when nobody may serve.

Requests arriving together are handled together (``request_care_many``): what they all need
is read in a few queries, then each is decided in arrival order against that picture, kept
current as earlier ones in the group assign caregivers. One request is a group of one."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import sqlalchemy as sa

from contracts import subjects
from contracts.dispatch.v1 import CareRequestUnmet, RequestCare, ShortlistProposed
from services.dispatch.assigning import (
    SHORTLIST_SIZE,
    WEIGHTS,
    NewAssignment,
    candidate,
    for_good,
    street_lock,
)
from services.dispatch.audit import reject
from services.dispatch.facts import (
    History,
    caregiver_pools,
    facts_of_request,
    household_histories,
)
from services.dispatch.matching import CaregiverFacts, Weights, shortlist
from services.dispatch.store import assignments, care_requests, households, shortlists
from services.infra.bus.store import Tx


class HouseholdNotRegistered(LookupError):
    """A request for a household dispatch does not know (yet)."""


async def request_care(tx: Tx, cmd: RequestCare, weights: Weights = WEIGHTS) -> None:
    await request_care_many([(tx, cmd)], weights)


@dataclass
class _Picture:
    """What the group's requests need, read once and updated as each one is decided."""

    known_requests: dict[str, str]  # request id -> household id
    homes: dict[str, Any]
    served: set[str]  # households with an active assignment
    open_requests: defaultdict[str, set[str]]  # household id -> its open request ids
    histories: defaultdict[str, History]
    pools: dict[tuple[str, date], list[CaregiverFacts]]  # (street, start) -> caregivers
    added_load: Counter[str] = field(default_factory=Counter)

    def pool(self, street: str, start: date) -> list[CaregiverFacts]:
        return [
            replace(c, load=c.load + self.added_load[c.caregiver_id])
            if self.added_load[c.caregiver_id]
            else c
            for c in self.pools[(street, start)]
        ]


async def request_care_many(
    items: list[tuple[Tx, RequestCare]], weights: Weights = WEIGHTS
) -> None:
    conn = items[0][0].conn
    cmds = [cmd for _, cmd in items]
    picture = await _read_picture(items[0][0], cmds)
    new_requests: list[dict[str, Any]] = []
    new_assignments: list[dict[str, Any]] = []
    new_shortlists: list[dict[str, Any]] = []
    for tx, cmd in items:
        earlier = picture.known_requests.get(cmd.request_id)
        if earlier is not None:
            if earlier != cmd.household_id:  # the same id reused for another home
                await reject(
                    tx, cmd, cmd.request_id, f"request id already used for household {earlier}"
                )
            continue  # the same request sent again under a new event id: answered already
        home = picture.homes.get(cmd.household_id)
        if home is None:
            # Registration and request travel on different subjects, so the request may
            # simply be early: retried with back-off, dead-lettered with this reason if it
            # stays unknown.
            raise HouseholdNotRegistered(f"unknown household {cmd.household_id}")
        picture.known_requests[cmd.request_id] = cmd.household_id
        row = {
            "request_id": cmd.request_id,
            "household_id": cmd.household_id,
            "start_date": cmd.start_date,
            "status": "open",
            "mode": cmd.mode,
            "reason": None,
            "received_at": tx.clock.now(),
        }
        new_requests.append(row)
        if cmd.household_id in picture.served:
            await _unmet(tx, row, "household already has an active caregiver")
            continue
        if picture.open_requests[cmd.household_id]:
            await _unmet(tx, row, "household already has an open request")
            continue
        if cmd.mode == "batch":  # waits for the street's AssignStreet
            picture.open_requests[cmd.household_id].add(cmd.request_id)
            continue
        req = facts_of_request(
            cmd.request_id, home, cmd.start_date, picture.histories[cmd.household_id]
        )
        ranked = shortlist(
            req, picture.pool(home.street, cmd.start_date), weights, cmd.start_date, SHORTLIST_SIZE
        )
        if not ranked.ranked:
            await _unmet(tx, row, ranked.summary)
        elif cmd.mode == "auto":
            best_id, _ = ranked.ranked[0]
            row["status"] = "assigned"
            new = NewAssignment(cmd.request_id, home, best_id, cmd.start_date, "auto")
            new_assignments.append(new.row())
            await tx.emit(subjects.CAREGIVER_ASSIGNED, new.event())
            picture.served.add(cmd.household_id)
            picture.added_load[best_id] += 1
        else:
            picture.open_requests[cmd.household_id].add(cmd.request_id)
            candidates = tuple(
                candidate(rank, cid, s) for rank, (cid, s) in enumerate(ranked.ranked, start=1)
            )
            new_shortlists.append(
                {
                    "request_id": cmd.request_id,
                    "candidates": [c.model_dump(mode="json") for c in candidates],
                    "blocked": dict(ranked.blocked),
                    "proposed_at": tx.clock.now(),
                }
            )
            await tx.emit(
                subjects.SHORTLIST_PROPOSED,
                ShortlistProposed(
                    request_id=cmd.request_id,
                    household_id=cmd.household_id,
                    station_id=home.station_id,
                    candidates=candidates,
                    blocked=ranked.blocked,
                ),
            )
    for table, rows in (
        (care_requests, new_requests),
        (assignments, new_assignments),
        (shortlists, new_shortlists),
    ):
        if rows:
            await conn.execute(sa.insert(table), rows)


async def _unmet(tx: Tx, row: dict[str, Any], reason: str) -> None:
    row["status"], row["reason"] = "unmet", reason
    await tx.emit(
        subjects.CARE_REQUEST_UNMET,
        CareRequestUnmet(
            request_id=row["request_id"], household_id=row["household_id"], reason=reason
        ),
    )


async def _read_picture(tx: Tx, cmds: list[RequestCare]) -> _Picture:
    conn = tx.conn
    request_ids = sorted({c.request_id for c in cmds})
    household_ids = sorted({c.household_id for c in cmds})
    known = dict(
        (
            await conn.execute(
                sa.select(care_requests.c.request_id, care_requests.c.household_id).where(
                    care_requests.c.request_id.in_(request_ids)
                )
            )
        ).all()
    )
    homes = {
        h.household_id: h
        for h in await conn.execute(
            sa.select(households).where(households.c.household_id.in_(household_ids))
        )
    }
    # Loads are read, then written: one street at a time across instances (PostgreSQL),
    # always in the same order so two groups never wait for each other.
    for street in sorted({h.street for h in homes.values()}):
        await tx.lock(street_lock(street))
    served = set(
        (
            await conn.scalars(
                sa.select(assignments.c.household_id).where(
                    assignments.c.household_id.in_(household_ids), assignments.c.active
                )
            )
        ).all()
    )
    open_requests: defaultdict[str, set[str]] = defaultdict(set)
    for request_id, household_id in await conn.execute(
        sa.select(care_requests.c.request_id, care_requests.c.household_id).where(
            care_requests.c.household_id.in_(household_ids), care_requests.c.status == "open"
        )
    ):
        open_requests[household_id].add(request_id)
    matched = [c for c in cmds if c.mode != "batch" and c.household_id in homes]
    streets_by_start: defaultdict[date, set[str]] = defaultdict(set)
    for c in matched:
        streets_by_start[c.start_date].add(homes[c.household_id].street)
    pools: dict[tuple[str, date], list[CaregiverFacts]] = {}
    for start, streets in sorted(streets_by_start.items()):
        for street, pool in (await caregiver_pools(conn, streets, start, for_good(start))).items():
            pools[(street, start)] = pool
    histories = (
        await household_histories(conn, {c.household_id for c in matched})
        if matched
        else defaultdict(History)
    )
    return _Picture(known, homes, served, open_requests, histories, pools)
