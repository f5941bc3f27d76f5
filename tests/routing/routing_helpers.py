"""Send a payload through the in-memory broker; read what a service put in its outbox."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from contracts.envelope import Envelope, Payload
from services.infra.runtime import Service


async def send(broker: Any, subject: str, payload: Payload) -> None:
    await broker.publish(Envelope.wrap(payload, producer="test").model_dump(mode="json"), subject)


async def emitted(svc: Service) -> list[tuple[str, dict[str, Any]]]:
    """(subject, payload) of every event the service emitted, in order."""
    outbox = svc.store.tables.outbox
    rows = await svc.store.read(sa.select(outbox.c.subject, outbox.c.body).order_by(outbox.c.id))
    return [(r.subject, json.loads(r.body)["payload"]) for r in rows]


async def events(svc: Service, subject: str) -> list[dict[str, Any]]:
    """The payloads emitted on one subject, in order."""
    return [payload for s, payload in await emitted(svc) if s == subject]


async def outbox_subjects(svc: Service) -> list[str]:
    return [s for s, _ in await emitted(svc)]
