"""Run scheduling use cases straight on its database, and read what they emitted."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from services.infra.runtime import Service


async def apply(svc: Service, use_case: Any, *commands: Any) -> None:
    """Each command in its own transaction, in order (as the consumer would)."""
    for cmd in commands:
        async with svc.store.transaction() as tx:
            await use_case(tx, cmd)


async def emitted(svc: Service, subject: str) -> list[dict[str, Any]]:
    """The payloads the service put in its outbox on ``subject``, in order."""
    out = svc.store.tables.outbox
    rows = await svc.store.read(
        sa.select(out.c.body).where(out.c.subject == subject).order_by(out.c.id)
    )
    return [json.loads(r.body)["payload"] for r in rows]
