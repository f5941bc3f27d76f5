"""Request/reply queries for the console, answered from dispatch's own tables: the open
requests with their shortlists, the caregivers' roster with their certificates, the
households with their current caregiver (station manager), and a round's public notices
(district officer). Read only; each answer is read in one statement, so it is one consistent
picture."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from contracts.dispatch.queries_v1 import (
    CertificateStatus,
    HouseholdEntry,
    HouseholdsList,
    HouseholdsQuery,
    NoticeEntry,
    OpenRequest,
    OpenRequests,
    OpenRequestsQuery,
    Roster,
    RosterEntry,
    RosterQuery,
    RoundNotices,
    RoundNoticesQuery,
)
from contracts.dispatch.values import Candidate
from contracts.types import CERTIFICATE_MODULES, CertificateModule
from services.dispatch.store import (
    applications,
    assignments,
    care_requests,
    caregivers,
    households,
    leaves,
    notices,
    shortlists,
    substitutes,
)
from services.infra.bus.store import MessageStore
from services.infra.clock import in_zone


async def open_requests(store: MessageStore, query: OpenRequestsQuery) -> OpenRequests:
    """Requests still ``open`` (shortlist: awaiting the station manager; batch: awaiting the
    street's AssignStreet), each with its stored shortlist in rank order."""
    select = (
        sa.select(
            care_requests.c.request_id,
            care_requests.c.household_id,
            care_requests.c.start_date,
            care_requests.c.mode,
            care_requests.c.received_at,
            households.c.name,
            households.c.address,
            households.c.station_id,
            households.c.street,
            shortlists.c.candidates,
            shortlists.c.blocked,
            shortlists.c.proposed_at,
        )
        .join(households, households.c.household_id == care_requests.c.household_id)
        .outerjoin(shortlists, shortlists.c.request_id == care_requests.c.request_id)
        .where(care_requests.c.status == "open")
        .order_by(
            care_requests.c.start_date, care_requests.c.received_at, care_requests.c.request_id
        )
    )
    if query.station_id is not None:
        select = select.where(households.c.station_id == query.station_id)
    tz = store.clock.tz  # the service's zone (SQLite keeps times without one), not its clock
    return OpenRequests(
        station_id=query.station_id,
        requests=[
            OpenRequest(
                request_id=row.request_id,
                household_id=row.household_id,
                household_name=row.name,
                address=row.address,
                station_id=row.station_id,
                street=row.street,
                start_date=row.start_date,
                mode=row.mode,
                requested_at=in_zone(row.received_at, tz),
                proposed_at=in_zone(row.proposed_at, tz) if row.proposed_at else None,
                candidates=sorted(
                    (Candidate.model_validate(c) for c in row.candidates or ()),
                    key=lambda c: c.rank,
                ),
                blocked=dict(row.blocked or {}),
            )
            for row in await store.read(select)
        ],
    )


async def roster(store: MessageStore, query: RosterQuery) -> Roster:
    """The caregivers with their load, leave and certificates on ``query.on`` (the asker's
    date; never the wall clock here)."""
    on = query.on
    assigned = (
        sa.select(assignments.c.caregiver_id, sa.func.count().label("n"))
        .where(assignments.c.active)
        .group_by(assignments.c.caregiver_id)
        .subquery()
    )
    covering = (
        sa.select(substitutes.c.caregiver_id, sa.func.count().label("n"))
        .where(substitutes.c.first_day <= on, substitutes.c.last_day >= on)
        .group_by(substitutes.c.caregiver_id)
        .subquery()
    )
    away = (
        sa.select(leaves.c.caregiver_id)
        .where(leaves.c.first_day <= on, leaves.c.last_day >= on)
        .distinct()
        .subquery()
    )
    select = (
        sa.select(
            caregivers,
            sa.func.coalesce(assigned.c.n, 0).label("assigned"),
            sa.func.coalesce(covering.c.n, 0).label("covering"),
            away.c.caregiver_id.label("away"),
        )
        .outerjoin(assigned, assigned.c.caregiver_id == caregivers.c.caregiver_id)
        .outerjoin(covering, covering.c.caregiver_id == caregivers.c.caregiver_id)
        .outerjoin(away, away.c.caregiver_id == caregivers.c.caregiver_id)
        .order_by(caregivers.c.station_id, caregivers.c.street, caregivers.c.caregiver_id)
    )
    if query.station_id is not None:
        select = select.where(caregivers.c.station_id == query.station_id)
    return Roster(
        station_id=query.station_id,
        on=on,
        expiring_within_days=query.expiring_within_days,
        caregivers=[
            _roster_entry(row, on, query.expiring_within_days) for row in await store.read(select)
        ],
    )


def _roster_entry(row: Any, on: date, within: int) -> RosterEntry:
    profile = row.profile or {}
    held = {
        c["module"]: date.fromisoformat(c["expires_on"]) for c in profile.get("certificates", ())
    }
    certificates = [
        certificate_status(module, held[module], on, within)
        for module in CERTIFICATE_MODULES
        if module in held
    ]
    score = row.appraisal_score
    return RosterEntry(
        caregiver_id=row.caregiver_id,
        name=row.name,
        station_id=row.station_id,
        street=row.street,
        sex=row.sex,
        active=row.active,
        capacity=row.capacity,
        assignments=row.assigned,
        substitute_duties=row.covering,
        on_leave=row.away is not None,
        # as matching reads it: the latest appraisal, else the registration's score
        appraisal_score=profile.get("appraisal_score") if score is None else score,
        appraised_month=row.appraised_month,
        certificates=certificates,
        missing_certificates=[m for m in CERTIFICATE_MODULES if m not in held],
        certificates_valid=len(certificates) == len(CERTIFICATE_MODULES)
        and not any(c.expired for c in certificates),
        expiring_soon=any(c.expiring for c in certificates),
    )


def certificate_status(
    module: CertificateModule, expires_on: date, on: date, within: int
) -> CertificateStatus:
    """Valid through ``expires_on`` (as matching's certificate constraint): expired from the
    day after; expiring when it ends within ``within`` days of ``on``."""
    days_left = (expires_on - on).days
    return CertificateStatus(
        module=module,
        expires_on=expires_on,
        days_left=days_left,
        expired=days_left < 0,
        expiring=0 <= days_left <= within,
    )


async def households_list(store: MessageStore, query: HouseholdsQuery) -> HouseholdsList:
    current = (
        sa.select(assignments.c.household_id, assignments.c.caregiver_id, assignments.c.start_date)
        .where(assignments.c.active)
        .subquery()
    )
    select = (
        sa.select(
            households.c.household_id,
            households.c.name,
            households.c.address,
            households.c.station_id,
            households.c.street,
            households.c.category,
            households.c.enrolled_on,
            households.c.visit_start,
            households.c.visit_end,
            current.c.caregiver_id,
            current.c.start_date.label("caregiver_since"),
        )
        .outerjoin(current, current.c.household_id == households.c.household_id)
        .order_by(households.c.station_id, households.c.street, households.c.household_id)
    )
    if query.station_id is not None:
        select = select.where(households.c.station_id == query.station_id)
    return HouseholdsList(
        station_id=query.station_id,
        households=[
            HouseholdEntry(
                household_id=row.household_id,
                name=row.name,
                address=row.address,
                station_id=row.station_id,
                street=row.street,
                category=row.category,
                enrolled_on=row.enrolled_on,
                visit_window=(row.visit_start, row.visit_end),
                caregiver_id=row.caregiver_id,
                caregiver_since=row.caregiver_since,
            )
            for row in await store.read(select)
        ],
    )


async def round_notices(store: MessageStore, query: RoundNoticesQuery) -> RoundNotices:
    """The notices of the round's applications, and the reasons of its refusals."""
    rows = await store.read(
        sa.select(
            applications.c.application_id,
            applications.c.household_id,
            applications.c.child_caregiver_id,
            applications.c.status.label("application_status"),
            applications.c.reason,
            notices.c.posted_on,
            notices.c.ends_on,
            notices.c.status,
            notices.c.objection,
        )
        .outerjoin(notices, notices.c.application_id == applications.c.application_id)
        .where(applications.c.round == query.round)
        .order_by(notices.c.posted_on, applications.c.application_id)
    )
    return RoundNotices(
        round=query.round,
        notices=[
            NoticeEntry(
                application_id=row.application_id,
                household_id=row.household_id,
                child_caregiver_id=row.child_caregiver_id,
                posted_on=row.posted_on,
                last_day=row.ends_on,
                status=row.status,
                objection=row.objection,
            )
            for row in rows
            if row.posted_on is not None
        ],
        refusals={
            row.application_id: row.reason or ""
            for row in rows
            if row.application_status == "refused"
        },
    )
