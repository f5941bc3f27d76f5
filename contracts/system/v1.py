"""System wire contracts, version 1."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from contracts.envelope import Payload


class HealthQuery(Payload):
    """Request (rpc) on homecare.rpc.health.<service>."""

    TYPE = "system.HealthQuery"


class HealthReport(BaseModel):
    service: str
    instance: str
    status: str = Field(examples=["ok", "degraded"])
    started_at: datetime
    uptime_seconds: float
    database: str
    outbox_backlog: int
    dead_letters: int
    consumers: list[str]


class DeadLettered(Payload):
    """Event on homecare.dlq.<service>: a message a consumer gave up on, and why."""

    TYPE = "system.DeadLettered"
    dead_letter_id: int
    service: str
    consumer: str
    subject: str
    reason: str
    deliveries: int
    original_event_id: str | None
    data_preview: str = Field(description="Start of the original body, undecodable bytes escaped.")
