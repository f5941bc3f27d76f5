"""Commands a service refused after the console sent them: each service's *Rejected event
names the command it answers (its causation id, the event id the audit line keeps), so the
user who sent it is told why, on whatever page they are, until they dismiss it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from contracts import subjects
from contracts.billing.runs_v1 import BillingRunRejected
from contracts.dispatch.v1 import CommandRejected
from contracts.envelope import Payload
from contracts.scheduling.diary_v1 import LedgerEntryRejected
from contracts.scheduling.leave_v1 import LeaveRejected
from contracts.scheduling.v1 import VisitRejected
from services.console.store import audit_log, refusals
from services.infra.bus.store import MessageStore, Tx
from services.infra.upsert import insert_ignore

# (subject, event, durable name) of every refusal a console user's command may get
REFUSALS: tuple[tuple[str, type[Payload], str], ...] = (
    (subjects.COMMAND_REJECTED, CommandRejected, "on_command_rejected"),
    (subjects.VISIT_REJECTED, VisitRejected, "on_visit_rejected"),
    (subjects.LEAVE_REJECTED, LeaveRejected, "on_leave_rejected"),
    (subjects.LEDGER_ENTRY_REJECTED, LedgerEntryRejected, "on_ledger_entry_rejected"),
    (subjects.BILLING_RUN_REJECTED, BillingRunRejected, "on_billing_run_rejected"),
)
# shown for a day at most: older ones are in the audit log's history, not news
SHOWN_FOR = timedelta(days=1)


async def record_refusal(tx: Tx, event: Any) -> None:
    cause = tx.cause
    if cause is None or cause.causation_id is None:
        return  # not an answer to a command (nothing the console sent)
    await insert_ignore(
        tx.conn,
        refusals,
        {
            "refusal_id": cause.event_id,
            "command_id": cause.causation_id,
            "kind": event.TYPE,
            "reason": str(event.reason)[:1000],
            "reason_zh": (getattr(event, "reason_zh", None) or None),
            "at": tx.clock.now(),
            "dismissed": False,
        },
    )


@dataclass(frozen=True)
class Refusal:
    refusal_id: str
    action: str
    target: str
    reason: str
    reason_zh: str | None
    at: datetime


async def refusals_of(store: MessageStore, user_id: str, now: datetime) -> list[Refusal]:
    """The user's refused commands of the last day not yet dismissed, newest first."""
    rows = await store.read(
        sa.select(refusals, audit_log.c.action, audit_log.c.target)
        .join(audit_log, audit_log.c.event_id == refusals.c.command_id)
        .where(
            audit_log.c.user_id == user_id,
            refusals.c.dismissed.is_(False),
            refusals.c.at >= now - SHOWN_FOR,
        )
        .order_by(refusals.c.at.desc())
        .limit(20)
    )
    return [Refusal(r.refusal_id, r.action, r.target, r.reason, r.reason_zh, r.at) for r in rows]


async def dismiss(store: MessageStore, user_id: str, refusal_id: str) -> bool:
    """Dismiss one of the user's own refusals (False: not theirs or not found)."""
    mine = sa.select(audit_log.c.event_id).where(audit_log.c.user_id == user_id)
    async with store.transaction() as tx:
        done = await tx.conn.execute(
            refusals.update()
            .where(refusals.c.refusal_id == refusal_id, refusals.c.command_id.in_(mine))
            .values(dismissed=True)
        )
    return bool(done.rowcount)
