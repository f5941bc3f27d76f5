"""Two things every dispatch use case may do: record who decided what, and tell the sender
why a well-formed command cannot be applied."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from contracts import subjects
from contracts.dispatch.v1 import CommandRejected
from contracts.envelope import Payload
from services.dispatch.store import decisions
from services.infra.bus.store import Tx


async def record_decision(tx: Tx, actor: str, action: str, subject_id: str, detail: Any) -> None:
    await tx.conn.execute(
        sa.insert(decisions).values(
            at=tx.clock.now(),
            actor=actor,
            action=action,
            subject_id=subject_id,
            detail=detail if isinstance(detail, dict) else {"detail": detail},
        )
    )


async def reject(tx: Tx, cmd: Payload, subject_id: str, reason: str) -> None:
    await tx.emit(
        subjects.COMMAND_REJECTED,
        CommandRejected(command=cmd.TYPE, subject_id=subject_id, reason=reason),
    )
