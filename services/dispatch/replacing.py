"""An elder's request for a different caregiver, and a substitute while a caregiver is on leave."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from contracts import subjects
from contracts.dispatch.v1 import (
    AssignmentEnded,
    ReplaceCaregiver,
    RequestSubstitute,
    SubstituteAssigned,
    SubstituteUnavailable,
)
from services.dispatch.assigning import (
    WEIGHTS,
    active_assignment,
    assign,
    care_request,
    for_good,
    household_row,
    open_request,
    street_lock,
    unmet,
)
from services.dispatch.audit import record_decision, reject
from services.dispatch.facts import caregiver_facts, days_between, request_facts
from services.dispatch.matching import (
    CaregiverFacts,
    RequestFacts,
    Weights,
    score,
    shortlist,
    violations,
)
from services.dispatch.store import assignments, caregivers, leaves, substitutes
from services.infra.bus.store import Tx
from services.infra.upsert import upsert


async def replace_caregiver(tx: Tx, cmd: ReplaceCaregiver, weights: Weights = WEIGHTS) -> None:
    """Match again without the current caregiver, then end their assignment; the replaced
    caregiver is never chosen for this household again. If nobody fits, the elder keeps the
    current caregiver and the new request is reported unmet with the reason."""
    if earlier := await care_request(tx, cmd.new_request_id):
        if earlier.household_id != cmd.household_id:
            await reject(
                tx,
                cmd,
                cmd.new_request_id,
                f"request id already used for household {earlier.household_id}",
            )
        return  # this replacement was handled already
    household = await household_row(tx, cmd.household_id)
    if household is None:
        return await reject(tx, cmd, cmd.household_id, "unknown household")
    await tx.lock(street_lock(household.street))
    current = await active_assignment(tx, cmd.household_id)
    if current is None:
        return await reject(tx, cmd, cmd.household_id, "household has no active caregiver")
    facts = await request_facts(tx.conn, cmd.new_request_id, household, cmd.start_date)
    req = replace(facts, replaced_caregivers=facts.replaced_caregivers | {current.caregiver_id})
    pool = await caregiver_facts(
        tx.conn, household.street, cmd.start_date, for_good(cmd.start_date)
    )
    ranked = shortlist(req, pool, weights, cmd.start_date, k=1)
    await open_request(tx, cmd.new_request_id, cmd.household_id, cmd.start_date, "auto")
    if not ranked.ranked:
        return await unmet(
            tx,
            cmd.new_request_id,
            cmd.household_id,
            f"{ranked.summary}; {current.caregiver_id} stays until someone fits",
        )
    await tx.conn.execute(
        sa.update(assignments)
        .where(assignments.c.assignment_id == current.assignment_id)
        .values(active=False, ended_on=cmd.start_date, end_reason="replaced")
    )
    await record_decision(
        tx,
        cmd.requested_by,
        "replace",
        cmd.household_id,
        {"caregiver_id": current.caregiver_id, "reason": cmd.reason},
    )
    await tx.emit(
        subjects.ASSIGNMENT_ENDED,
        AssignmentEnded(
            assignment_id=current.assignment_id,
            household_id=cmd.household_id,
            caregiver_id=current.caregiver_id,
            ended_on=cmd.start_date,
            reason=cmd.reason,
        ),
    )
    best_id, _ = ranked.ranked[0]
    await assign(tx, cmd.new_request_id, household, best_id, cmd.start_date, "replacement")


async def request_substitute(tx: Tx, cmd: RequestSubstitute, weights: Weights = WEIGHTS) -> None:
    """Someone with spare capacity on every day of the leave: the station's chosen substitute
    if they are, else the best-scored, preferring a caregiver who has served the household
    before (the continuity part of the score)."""
    if cmd.last_day < cmd.first_day:
        return await reject(tx, cmd, cmd.substitute_request_id, "last_day is before first_day")
    if await tx.conn.scalar(
        sa.select(substitutes.c.caregiver_id).where(
            substitutes.c.substitute_request_id == cmd.substitute_request_id
        )
    ):
        return  # answered already
    household = await household_row(tx, cmd.household_id)
    if household is None:
        return await reject(tx, cmd, cmd.substitute_request_id, "unknown household")
    await tx.lock(street_lock(household.street))
    await upsert(  # the same leave again, perhaps extended: the later last day holds
        tx.conn,
        leaves,
        {"caregiver_id": cmd.caregiver_id, "first_day": cmd.first_day, "last_day": cmd.last_day},
        key=["caregiver_id", "first_day"],
    )
    facts = await request_facts(tx.conn, cmd.substitute_request_id, household, cmd.first_day)
    # the caregiver on leave is out, like anyone the household asked to replace
    req = replace(facts, replaced_caregivers=facts.replaced_caregivers | {cmd.caregiver_id})
    pool = await caregiver_facts(tx.conn, household.street, cmd.first_day, cmd.last_day)
    days = days_between(cmd.first_day, cmd.last_day)
    free = [
        c
        for c in pool
        if c.caregiver_id not in req.replaced_caregivers
        and not any(violations(req, c, day) for day in days)
    ]
    if not free:
        await tx.emit(
            subjects.SUBSTITUTE_UNAVAILABLE,
            SubstituteUnavailable(
                substitute_request_id=cmd.substitute_request_id,
                household_id=cmd.household_id,
                reason="no caregiver of the street is free on every day of the leave",
            ),
        )
        return
    preferred = cmd.preferred_caregiver_id
    chosen = next((c for c in free if c.caregiver_id == preferred), None)
    best = chosen or min(free, key=lambda c: (score(req, c, weights).total, c.caregiver_id))
    passed_over = None if chosen or preferred is None else await _not_taken(tx, cmd, req, pool)
    await tx.conn.execute(
        sa.insert(substitutes).values(
            substitute_request_id=cmd.substitute_request_id,
            household_id=cmd.household_id,
            caregiver_id=best.caregiver_id,
            replaces=cmd.caregiver_id,
            first_day=cmd.first_day,
            last_day=cmd.last_day,
        )
    )
    await tx.emit(
        subjects.SUBSTITUTE_ASSIGNED,
        SubstituteAssigned(
            substitute_request_id=cmd.substitute_request_id,
            household_id=cmd.household_id,
            caregiver_id=best.caregiver_id,
            replaces=cmd.caregiver_id,
            first_day=cmd.first_day,
            last_day=cmd.last_day,
            served_before=best.caregiver_id in req.past_caregivers,
            preferred_caregiver_id=preferred,
            preference_reason=passed_over,
        ),
    )


async def _not_taken(
    tx: Tx, cmd: RequestSubstitute, req: RequestFacts, pool: list[CaregiverFacts]
) -> str:
    """Why the station's chosen substitute is not in the free pool, for the station."""
    preferred = cmd.preferred_caregiver_id
    if preferred == cmd.caregiver_id:
        return f"{preferred} is the caregiver on leave"
    found = next((c for c in pool if c.caregiver_id == preferred), None)
    if found is None:
        street = await tx.conn.scalar(
            sa.select(caregivers.c.street).where(caregivers.c.caregiver_id == preferred)
        )
        if street is None:
            return f"{preferred} is not a registered caregiver"
        return f"{preferred} belongs to street {street}, not {req.street}"
    # a defect usually holds every day: each said once, as on the first day it holds (the
    # texts carry their dates: leave day, certificate expiry)
    defects: dict[str, str] = {}
    for day in days_between(cmd.first_day, cmd.last_day):
        for v in violations(req, found, day):
            defects.setdefault(v.code, v.text)
    listed = "; ".join(defects.values())
    return f"{preferred} is not free on every day of the leave: {listed}"[:500]
