"""The approval workflow, one use case per command: applications are assessed on arrival and
queued for their monthly round; the district officer decides; the B2 own-child-caregiver case
goes through a 3-day public notice, which an objection sends back to investigation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from contracts import subjects
from contracts.dispatch.eligibility_v1 import (
    ApplicationAssessed,
    ApplicationDecided,
    CategoryApproved,
    CloseNotices,
    DecideApplication,
    NoticeObjected,
    NoticePosted,
    ObjectToNotice,
    RoundApplications,
    SubmitApplication,
)
from contracts.dispatch.values import RoundEntry
from services.dispatch.audit import record_decision, reject
from services.dispatch.eligibility.policy import DEFAULT_POLICY_BOOK, PolicyError
from services.dispatch.eligibility.rounds import round_start
from services.dispatch.eligibility.rules import assess
from services.dispatch.store import applications, households, notices
from services.infra.bus.poison import PoisonMessage
from services.infra.bus.store import MessageStore, Tx

NOTICE_DAYS = 3  # 张榜公布3天: posted on day 1, confirmed when day 3 ends without objection
# An undecided application may be sent again (a corrected form), and so may one an objection
# sent back to investigation; decided ones may not.
RESUBMITTABLE = ("assessed", "investigation")
# Each step reads an application's state, then writes it: one step at a time.
APPLICATIONS_LOCK = "dispatch.applications"


async def submit_application(tx: Tx, cmd: SubmitApplication) -> None:
    try:
        result = assess(cmd.form, DEFAULT_POLICY_BOOK)
    except PolicyError as exc:  # received before any policy was in force: never assessable
        raise PoisonMessage(f"form.received_on: {exc}") from exc
    await tx.lock(APPLICATIONS_LOCK)
    resubmitted = applications.c.application_id == cmd.application_id
    # an objected notice goes with the application it belonged to: a new notice may follow
    await tx.conn.execute(
        sa.delete(notices).where(
            notices.c.application_id == cmd.application_id, notices.c.status == "objected"
        )
    )
    await tx.conn.execute(
        sa.delete(applications).where(resubmitted, applications.c.status.in_(RESUBMITTABLE))
    )
    if await _application(tx, cmd.application_id):
        return await reject(tx, cmd, cmd.application_id, "application already decided")
    await tx.conn.execute(
        sa.insert(applications).values(
            application_id=cmd.application_id,
            household_id=cmd.form.household_id,
            round=result.round,
            received_on=cmd.form.received_on,
            form=cmd.form.model_dump(mode="json"),
            category=result.category,
            rules=result.rules,
            monthly_subsidy=str(result.monthly_subsidy),
            child_caregiver_id=cmd.child_caregiver_id,
            status="assessed",
        )
    )
    await tx.emit(
        subjects.APPLICATION_ASSESSED,
        ApplicationAssessed(
            application_id=cmd.application_id,
            household_id=cmd.form.household_id,
            round=result.round,
            category=result.category,
            rules=tuple(result.rules),
            monthly_subsidy=result.monthly_subsidy,
        ),
    )


async def decide_application(tx: Tx, cmd: DecideApplication) -> None:
    await tx.lock(APPLICATIONS_LOCK)
    app = await _application(tx, cmd.application_id)
    if app is None or app.status != "assessed":
        state = app.status if app else "unknown"
        return await reject(tx, cmd, cmd.application_id, f"application is {state}")
    if not cmd.approve and not cmd.reason:
        return await reject(tx, cmd, cmd.application_id, "a refusal needs a reason")
    if cmd.approve and app.category is None:
        return await reject(tx, cmd, cmd.application_id, "the household is not eligible")
    if cmd.approve and app.child_caregiver_id and "B2" not in app.rules:
        return await reject(
            tx,
            cmd,
            cmd.application_id,
            "an elder's own child may be the caregiver only in the B2 case",
        )
    needs_notice = cmd.approve and app.child_caregiver_id is not None
    outcome = "refused" if not cmd.approve else "notice" if needs_notice else "approved"
    await _set_status(tx, app.application_id, outcome, cmd.decided_by, cmd.reason)
    await record_decision(
        tx, cmd.decided_by, f"application_{outcome}", app.application_id, cmd.reason
    )
    await tx.emit(
        subjects.APPLICATION_DECIDED,
        ApplicationDecided(
            application_id=app.application_id,
            household_id=app.household_id,
            round=app.round,
            outcome=outcome,
            category=app.category,
            decided_by=cmd.decided_by,
            reason=cmd.reason,
        ),
    )
    if outcome == "approved":
        await _approve(tx, app)
    elif outcome == "notice":
        posted = tx.clock.today()
        last = notice_last_day(posted)
        await tx.conn.execute(
            sa.insert(notices).values(
                application_id=app.application_id, posted_on=posted, ends_on=last, status="posted"
            )
        )
        await tx.emit(
            subjects.NOTICE_POSTED,
            NoticePosted(
                application_id=app.application_id,
                household_id=app.household_id,
                child_caregiver_id=app.child_caregiver_id,
                posted_on=posted,
                last_day=last,
            ),
        )


async def object_to_notice(tx: Tx, cmd: ObjectToNotice) -> None:
    await tx.lock(APPLICATIONS_LOCK)
    notice = (
        await tx.conn.execute(
            sa.select(notices).where(notices.c.application_id == cmd.application_id)
        )
    ).first()
    if notice is None or notice.status != "posted" or tx.clock.today() > notice.ends_on:
        return await reject(tx, cmd, cmd.application_id, "no notice open for objections")
    app = await _application(tx, cmd.application_id)
    assert app is not None
    await tx.conn.execute(
        sa.update(notices)
        .where(notices.c.application_id == cmd.application_id)
        .values(status="objected", objection=cmd.objection)
    )
    await _set_status(tx, app.application_id, "investigation", cmd.raised_by, cmd.objection)
    await record_decision(tx, cmd.raised_by, "notice_objected", app.application_id, cmd.objection)
    await tx.emit(
        subjects.NOTICE_OBJECTED,
        NoticeObjected(
            application_id=app.application_id,
            household_id=app.household_id,
            objection=cmd.objection,
        ),
    )


async def close_notices(tx: Tx, cmd: CloseNotices) -> None:
    """Confirm each posted notice whose last day ended before ``cmd.on``. A date ahead of
    the service's clock counts as today: a notice cannot be closed before its days pass."""
    await tx.lock(APPLICATIONS_LOCK)
    today = min(cmd.on, tx.clock.today())
    due = (
        await tx.conn.execute(
            sa.select(notices.c.application_id).where(
                notices.c.status == "posted", notices.c.ends_on < today
            )
        )
    ).all()
    for (application_id,) in due:
        await tx.conn.execute(
            sa.update(notices)
            .where(notices.c.application_id == application_id)
            .values(status="confirmed")
        )
        app = await _application(tx, application_id)
        assert app is not None
        await _set_status(tx, application_id, "approved", app.decided_by, app.reason)
        await _approve(tx, app)


async def _approve(tx: Tx, app: Any) -> None:
    effective = round_start(app.round)
    await tx.conn.execute(
        sa.update(households)
        .where(households.c.household_id == app.household_id)
        .values(category=app.category)
    )
    await tx.emit(
        subjects.CATEGORY_APPROVED,
        CategoryApproved(
            application_id=app.application_id,
            household_id=app.household_id,
            category=app.category,
            monthly_subsidy=Decimal(app.monthly_subsidy),
            effective_from=effective,
            child_caregiver_id=app.child_caregiver_id,
        ),
    )


async def _application(tx: Tx, application_id: str) -> Any:
    return (
        await tx.conn.execute(
            sa.select(applications).where(applications.c.application_id == application_id)
        )
    ).first()


async def _set_status(
    tx: Tx, application_id: str, status: str, by: str | None, reason: str | None
) -> None:
    await tx.conn.execute(
        sa.update(applications)
        .where(applications.c.application_id == application_id)
        .values(status=status, decided_by=by, reason=reason)
    )


def notice_last_day(posted: date) -> date:
    return posted + timedelta(days=NOTICE_DAYS - 1)


async def round_applications(store: MessageStore, round_month: str) -> RoundApplications:
    rows = await store.read(
        sa.select(applications)
        .where(applications.c.round == round_month)
        .order_by(applications.c.received_on, applications.c.application_id)
    )
    return RoundApplications(
        round=round_month,
        applications=[
            RoundEntry(
                application_id=r.application_id,
                household_id=r.household_id,
                received_on=r.received_on,
                category=r.category,
                rules=tuple(r.rules),
                monthly_subsidy=r.monthly_subsidy,
                status=r.status,
                decided_by=r.decided_by,
            )
            for r in rows
        ],
    )
