"""Appraisal use cases: the station's ratings and complaints, and the monthly appraisal of
every caregiver (with the quarterly review when a quarter ends)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from contracts import subjects
from contracts.scheduling.appraisal_v1 import (
    AppraisalBelowThreshold,
    AppraiseMonth,
    CaregiverAppraised,
    QuarterReviewed,
    RecordComplaint,
    RecordSatisfaction,
)
from services.infra.bus.store import Tx
from services.infra.clock import in_zone
from services.infra.upsert import insert_ignore, upsert
from services.scheduling.appraisal import VisitFacts, appraise, quarter_of
from services.scheduling.store import (
    appraisals,
    complaints,
    diaries,
    satisfaction,
    shifts,
    visits,
)


async def record_satisfaction(tx: Tx, cmd: RecordSatisfaction) -> None:
    """The latest rating of a household for its caregiver and month holds."""
    await upsert(
        tx.conn,
        satisfaction,
        {
            "household_id": cmd.household_id,
            "caregiver_id": cmd.caregiver_id,
            "month": cmd.month,
            "score": cmd.score,
            "recorded_by": cmd.recorded_by,
        },
        key=["household_id", "caregiver_id", "month"],
    )


async def record_complaint(tx: Tx, cmd: RecordComplaint) -> None:
    await insert_ignore(
        tx.conn,
        complaints,
        {
            "complaint_id": cmd.complaint_id,
            "household_id": cmd.household_id,
            "caregiver_id": cmd.caregiver_id,
            "date": cmd.date,
            "text": cmd.text,
            "recorded_by": cmd.recorded_by,
        },
    )


async def appraise_month(tx: Tx, cmd: AppraiseMonth, threshold: float) -> None:
    first = date.fromisoformat(cmd.month + "-01")
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    facts = await _visit_facts(tx, first, last)
    ratings: defaultdict[str, list[int]] = defaultdict(list)
    for caregiver_id, score in await tx.conn.execute(
        sa.select(satisfaction.c.caregiver_id, satisfaction.c.score).where(
            satisfaction.c.month == cmd.month
        )
    ):
        ratings[caregiver_id].append(score)
    complained: dict[str, int] = dict(
        (
            await tx.conn.execute(
                sa.select(complaints.c.caregiver_id, sa.func.count())
                .where(complaints.c.date >= first, complaints.c.date <= last)
                .group_by(complaints.c.caregiver_id)
            )
        ).all()
    )
    for caregiver_id in sorted(set(facts) | set(ratings) | set(complained)):
        result = appraise(
            facts.get(caregiver_id, []), ratings[caregiver_id], complained.get(caregiver_id, 0)
        )
        details = {
            "satisfaction": result.satisfaction,
            "diary_completeness": result.diary_completeness,
            "punctuality": result.punctuality,
            "complaints": result.complaints,
            "visits": result.visits,
        }
        await upsert(
            tx.conn,
            appraisals,
            {
                "caregiver_id": caregiver_id,
                "month": cmd.month,
                "score": result.score,
                "details": details,
            },
            key=["caregiver_id", "month"],
        )
        await tx.emit(
            subjects.CAREGIVER_APPRAISED,
            CaregiverAppraised(
                caregiver_id=caregiver_id, month=cmd.month, score=result.score, **details
            ),
        )
        if result.score < threshold:
            await tx.emit(
                subjects.APPRAISAL_BELOW_THRESHOLD,
                AppraisalBelowThreshold(
                    caregiver_id=caregiver_id,
                    month=cmd.month,
                    score=result.score,
                    threshold=threshold,
                ),
            )
    quarter, months = quarter_of(cmd.month)
    if cmd.month == months[-1]:
        await _review_quarter(tx, quarter, months)


async def monthly_appraisal(tx: Tx, fire_time: datetime, threshold: float) -> None:
    """The job on the 1st: appraise the month that just ended."""
    past = fire_time.date().replace(day=1) - timedelta(days=1)
    await appraise_month(tx, AppraiseMonth(month=f"{past:%Y-%m}"), threshold)


async def _review_quarter(tx: Tx, quarter: str, months: list[str]) -> None:
    scores: defaultdict[str, dict[str, float]] = defaultdict(dict)
    for caregiver_id, month, score in await tx.conn.execute(
        sa.select(appraisals.c.caregiver_id, appraisals.c.month, appraisals.c.score).where(
            appraisals.c.month.in_(months)
        )
    ):
        scores[caregiver_id][month] = score
    for caregiver_id, by_month in sorted(scores.items()):
        await tx.emit(
            subjects.QUARTER_REVIEWED,
            QuarterReviewed(
                caregiver_id=caregiver_id,
                quarter=quarter,
                score=round(sum(by_month.values()) / len(by_month), 1),
                months=dict(sorted(by_month.items())),
            ),
        )


async def _visit_facts(tx: Tx, first: date, last: date) -> dict[str, list[VisitFacts]]:
    written = {
        (h, d)
        for h, d in await tx.conn.execute(
            sa.select(diaries.c.household_id, diaries.c.date).where(
                diaries.c.date >= first, diaries.c.date <= last
            )
        )
    }
    found: defaultdict[str, list[VisitFacts]] = defaultdict(list)
    for row in await tx.conn.execute(
        sa.select(visits, shifts.c.visit_start)
        .join(shifts, shifts.c.shift_id == visits.c.shift_id)
        .where(visits.c.date >= first, visits.c.date <= last)
    ):
        found[row.caregiver_id].append(
            VisitFacts(
                household_id=row.household_id,
                date=row.date,
                window_start=row.visit_start,
                checked_in_at=in_zone(row.checked_in_at, tx.clock.tz),
                has_diary=(row.household_id, row.date) in written,
            )
        )
    return found
