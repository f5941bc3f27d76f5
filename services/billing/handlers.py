"""Billing use cases."""

from __future__ import annotations

import sqlalchemy as sa

from contracts.billing.v1 import MonthSummary
from contracts.dispatch.eligibility_v1 import CategoryApproved
from contracts.dispatch.v1 import CaregiverRegistered, HouseholdRegistered
from contracts.scheduling.v1 import VisitCompleted
from services.billing.model import CategoryFrom, Visit, count_month, month_bounds
from services.billing.running import note_late_input
from services.billing.store import categories, parties_caregivers, parties_households, visits
from services.infra.bus.store import MessageStore, Tx
from services.infra.upsert import insert_ignore, upsert


async def record_category(tx: Tx, evt: HouseholdRegistered) -> None:
    await note_late_input(tx, evt.enrolled_on)
    party = {
        "household_id": evt.household_id,
        "station_id": evt.station_id,
        "street": evt.street,
        "name": evt.name,
        "address": evt.address,
    }
    await upsert(tx.conn, parties_households, party, key=["household_id"])
    await upsert(
        tx.conn,
        categories,
        {"household_id": evt.household_id, "from_date": evt.enrolled_on, "category": evt.category},
        key=["household_id", "from_date"],
    )


async def record_caregiver(tx: Tx, evt: CaregiverRegistered) -> None:
    """Names for payslips."""
    await upsert(
        tx.conn,
        parties_caregivers,
        {"caregiver_id": evt.caregiver_id, "name": evt.name, "station_id": evt.station_id},
        key=["caregiver_id"],
    )


async def record_approved_category(tx: Tx, evt: CategoryApproved) -> None:
    """An approved category holds from its round's first day (a later approval overrides)."""
    await note_late_input(tx, evt.effective_from)
    await upsert(
        tx.conn,
        categories,
        {
            "household_id": evt.household_id,
            "from_date": evt.effective_from,
            "category": evt.category,
        },
        key=["household_id", "from_date"],
    )


async def record_visit(tx: Tx, evt: VisitCompleted) -> None:
    # The visit id is the key too, so even a re-sent event under a new id counts once.
    added = await insert_ignore(
        tx.conn,
        visits,
        {
            "visit_id": evt.visit_id,
            "household_id": evt.household_id,
            "caregiver_id": evt.caregiver_id,
            "date": evt.date,
        },
    )
    if added:
        await note_late_input(tx, evt.date)


async def month_summary(store: MessageStore, month: str) -> MonthSummary:
    first, last = month_bounds(month)
    cats = [
        CategoryFrom(r.household_id, r.from_date, r.category)
        for r in await store.read(sa.select(categories))
    ]
    seen = [
        Visit(r.household_id, r.caregiver_id, r.date)
        for r in await store.read(sa.select(visits).where(visits.c.date.between(first, last)))
    ]
    count = count_month(month, cats, seen)
    return MonthSummary(
        month=month,
        households_served=len(count.served),
        served_days=count.served_days,
        visits=count.visits,
        caregivers=len(count.caregivers),
        unenrolled_visits=count.unenrolled_visits,
        served_days_by_category=dict(sorted(count.category_days.items())),
    )
