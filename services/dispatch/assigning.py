"""Matching use cases: the station manager's confirmation or override (audited), the optimal
assignment of a street's open requests, and the assignment itself (requesting.py takes the
requests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from contracts import subjects
from contracts.dispatch.v1 import (
    AssignStreet,
    CaregiverAssigned,
    CareRequestUnmet,
    ConfirmAssignment,
    StreetAssigned,
)
from contracts.dispatch.values import Candidate, ScoreComponent
from services.dispatch.audit import record_decision, reject
from services.dispatch.facts import (
    caregiver_facts,
    facts_of_request,
    household_histories,
    request_facts,
)
from services.dispatch.matching import Score, Weights, assign_batch, violations
from services.dispatch.store import assignments, care_requests, households, shortlists
from services.infra.bus.store import Tx

WEIGHTS = Weights()  # defaults; the service's settings may override (app.py)
SHORTLIST_SIZE = 5


async def confirm_assignment(tx: Tx, cmd: ConfirmAssignment) -> None:
    request = await care_request(tx, cmd.request_id)
    if request is None or request.status != "open":
        state = request.status if request else "unknown"
        return await reject(tx, cmd, cmd.request_id, f"request is {state}, not open")
    household = await household_row(tx, request.household_id)
    await tx.lock(street_lock(household.street))
    if await active_assignment(tx, request.household_id):
        return await reject(tx, cmd, cmd.request_id, "household already has an active caregiver")
    proposed = (
        await tx.conn.scalar(
            sa.select(shortlists.c.candidates).where(shortlists.c.request_id == cmd.request_id)
        )
        or []
    )
    rank = next((c["rank"] for c in proposed if c["caregiver_id"] == cmd.caregiver_id), None)
    if rank != 1 and not cmd.override_reason:
        return await reject(
            tx, cmd, cmd.request_id, "choosing anyone but the top-ranked caregiver needs a reason"
        )
    req = await request_facts(tx.conn, cmd.request_id, household, request.start_date)
    pool = await caregiver_facts(tx.conn, household.street, request.start_date, request.start_date)
    chosen = next((c for c in pool if c.caregiver_id == cmd.caregiver_id), None)
    blocking = (
        violations(req, chosen, request.start_date)
        if chosen
        else [("unknown", f"no caregiver {cmd.caregiver_id} in this street")]
    )
    if blocking:
        return await reject(tx, cmd, cmd.request_id, "; ".join(text for _, text in blocking))
    await record_decision(
        tx,
        cmd.decided_by,
        "override" if rank != 1 else "confirm",
        cmd.request_id,
        {"caregiver_id": cmd.caregiver_id, "rank": rank, "override_reason": cmd.override_reason},
    )
    await assign(
        tx,
        cmd.request_id,
        household,
        cmd.caregiver_id,
        request.start_date,
        cmd.decided_by,
        cmd.override_reason,
    )


async def assign_street(tx: Tx, cmd: AssignStreet, weights: Weights = WEIGHTS) -> None:
    """Every open request of the street at once: A before B before C before D, then the
    lowest total cost (see matching.batch)."""
    await tx.lock(street_lock(cmd.street))
    open_rows = (
        await tx.conn.execute(
            sa.select(care_requests.c.request_id, care_requests.c.start_date, households)
            .join(households, households.c.household_id == care_requests.c.household_id)
            .where(
                care_requests.c.status == "open",
                care_requests.c.mode == "batch",  # shortlists wait for their station manager
                care_requests.c.start_date <= cmd.on_date,  # later ones: a later batch
                households.c.street == cmd.street,
            )
            .order_by(care_requests.c.request_id)
        )
    ).all()
    by_request = {r.request_id: r for r in open_rows}
    histories = await household_histories(tx.conn, {r.household_id for r in open_rows})
    requests = [
        facts_of_request(r.request_id, r, cmd.on_date, histories[r.household_id]) for r in open_rows
    ]
    pool = await caregiver_facts(tx.conn, cmd.street, cmd.on_date, for_good(cmd.on_date))
    result = assign_batch(requests, pool, weights, cmd.on_date)
    for request_id, caregiver_id, _cost in result.assignments:
        row = by_request[request_id]
        await assign(tx, request_id, row, caregiver_id, cmd.on_date, "batch")
    for request_id, reason in result.unmet:
        await unmet(tx, request_id, by_request[request_id].household_id, reason)
    await record_decision(
        tx,
        cmd.requested_by,
        "assign_street",
        cmd.street,
        {
            "assigned": len(result.assignments),
            "unmet": len(result.unmet),
            "total_cost": result.total_cost,
            "method": result.method,
        },
    )
    await tx.emit(
        subjects.STREET_ASSIGNED,
        StreetAssigned(
            street=cmd.street,
            on_date=cmd.on_date,
            assigned=len(result.assignments),
            unmet=len(result.unmet),
            total_cost=result.total_cost,
        ),
    )


async def assign(
    tx: Tx,
    request_id: str,
    household: Any,
    caregiver_id: str,
    start: date,
    decided_by: str,
    override_reason: str | None = None,
) -> None:
    new = NewAssignment(request_id, household, caregiver_id, start, decided_by, override_reason)
    await tx.conn.execute(sa.insert(assignments).values(new.row()))
    await tx.conn.execute(
        sa.update(care_requests)
        .where(care_requests.c.request_id == request_id)
        .values(status="assigned")
    )
    await tx.emit(subjects.CAREGIVER_ASSIGNED, new.event())


@dataclass(frozen=True)
class NewAssignment:
    """A caregiver starts serving a household: its row and its event."""

    request_id: str
    household: Any  # a households row
    caregiver_id: str
    start: date
    decided_by: str
    override_reason: str | None = None

    @property
    def assignment_id(self) -> str:
        return f"AS-{self.request_id}"

    def row(self) -> dict[str, Any]:
        return {
            "assignment_id": self.assignment_id,
            "request_id": self.request_id,
            "household_id": self.household.household_id,
            "caregiver_id": self.caregiver_id,
            "start_date": self.start,
            "active": True,
            "decided_by": self.decided_by,
            "override_reason": self.override_reason,
        }

    def event(self) -> CaregiverAssigned:
        return CaregiverAssigned(
            assignment_id=self.assignment_id,
            request_id=self.request_id,
            household_id=self.household.household_id,
            caregiver_id=self.caregiver_id,
            station_id=self.household.station_id,
            address=self.household.address,
            start_date=self.start,
            visit_window=(self.household.visit_start, self.household.visit_end),
            decided_by=self.decided_by,
            override_reason=self.override_reason,
        )


def for_good(start: date) -> date:
    """An assignment lasts: substitute duties and leave from its start on count against it."""
    return start + timedelta(days=366)


def street_lock(street: str) -> str:
    return f"dispatch.street:{street}"


def candidate(rank: int, caregiver_id: str, score: Score) -> Candidate:
    return Candidate(
        caregiver_id=caregiver_id,
        rank=rank,
        total=round(score.total, 2),
        components=tuple(
            ScoreComponent(
                name=c.name, points=round(c.points, 2), reason=c.reason, reason_zh=c.reason_zh
            )
            for c in score.components
        ),
    )


async def open_request(tx: Tx, request_id: str, household_id: str, start: date, mode: str) -> None:
    await tx.conn.execute(
        sa.insert(care_requests).values(
            request_id=request_id,
            household_id=household_id,
            start_date=start,
            status="open",
            mode=mode,
            received_at=tx.clock.now(),
        )
    )


async def unmet(tx: Tx, request_id: str, household_id: str, reason: str) -> None:
    await tx.conn.execute(
        sa.update(care_requests)
        .where(care_requests.c.request_id == request_id)
        .values(status="unmet", reason=reason)
    )
    await tx.emit(
        subjects.CARE_REQUEST_UNMET,
        CareRequestUnmet(request_id=request_id, household_id=household_id, reason=reason),
    )


async def care_request(tx: Tx, request_id: str) -> Any:
    return (
        await tx.conn.execute(
            sa.select(care_requests).where(care_requests.c.request_id == request_id)
        )
    ).first()


async def household_row(tx: Tx, household_id: str) -> Any:
    return (
        await tx.conn.execute(
            sa.select(households).where(households.c.household_id == household_id)
        )
    ).first()


async def active_assignment(tx: Tx, household_id: str) -> Any:
    return (
        await tx.conn.execute(
            sa.select(assignments).where(
                assignments.c.household_id == household_id, assignments.c.active
            )
        )
    ).first()
