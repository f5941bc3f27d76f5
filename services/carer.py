"""A caregiver's phone on the bus: their own messages (shifts, reminders, cancellations) from
the HC_CARER stream, through a durable consumer of their own, so a phone that was offline gets
every message it missed, each once (a message counts as received when it is acknowledged).
Shift messages are confirmed to scheduling with ``AcknowledgeShift``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts import subjects
from contracts.scheduling.v1 import AcknowledgeShift
from services.client import BusClient

ACKNOWLEDGED_TYPES = ("scheduling.ShiftScheduled", "scheduling.ShiftReminder")


@dataclass(frozen=True)
class CarerMessage:
    subject: str
    type: str
    event_id: str
    payload: dict[str, Any]

    @classmethod
    def of(cls, msg: Any) -> CarerMessage:
        """From a JetStream message carrying an envelope."""
        envelope = json.loads(msg.data)
        return cls(msg.subject, envelope["type"], envelope["event_id"], envelope["payload"])

    def line(self) -> str:
        """One line for the console, Chinese first."""
        p = self.payload
        window = "-".join(t[:5] for t in p.get("visit_window", ()))
        if p.get("holiday"):
            window += f" ({p['holiday']})"
        if self.type == "scheduling.ShiftScheduled":
            return f"新班次 new shift {p['date']} {window} {p['household_id']} {p['address']}"
        if self.type == "scheduling.ShiftReminder":
            return f"今日提醒 reminder {p['date']} {window} {p['household_id']} {p['address']}"
        if self.type == "scheduling.ShiftCancelled":
            return f"班次取消 cancelled {p['date']} {p['household_id']} ({p['reason']})"
        return f"{self.type} {json.dumps(p, ensure_ascii=False)}"


class CarerInbox:
    def __init__(
        self,
        client: BusClient,
        caregiver_id: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._now = now
        self.caregiver_id = caregiver_id
        self.durable = f"carer_{caregiver_id}"
        self._sub: Any = None

    async def open(self) -> CarerInbox:
        """Create (or find) this caregiver's consumer: from then on their messages wait for
        them in the stream, also while the phone is off."""
        await self._client.js.add_consumer(
            subjects.CARER_STREAM,
            ConsumerConfig(
                # with the name set, nats-py asks the server through the create call that
                # names the filter subject: the only one a caregiver's credentials allow
                # (docs/bus-permissions.md)
                name=self.durable,
                durable_name=self.durable,
                filter_subject=subjects.carer_subjects(self.caregiver_id),
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=30,
            ),
        )
        self._sub = await self._client.js.pull_subscribe_bind(
            self.durable, stream=subjects.CARER_STREAM
        )
        return self

    async def close(self) -> None:
        """Leave the consumer in place (messages keep waiting for the next session)."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None

    async def __aenter__(self) -> CarerInbox:
        return await self.open()

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def receive(self, wait: float = 1.0, acknowledge: bool = True) -> list[CarerMessage]:
        """Everything waiting now (up to ``wait`` seconds for the first), in order, each
        acknowledged; shift messages also confirmed to scheduling unless ``acknowledge`` is off."""
        assert self._sub is not None, "open() first"
        got: list[CarerMessage] = []
        while True:
            try:
                batch = await self._sub.fetch(100, timeout=wait if not got else 0.2)
            except (NatsTimeoutError, TimeoutError):
                return got
            for msg in batch:
                message = CarerMessage.of(msg)
                if acknowledge and message.type in ACKNOWLEDGED_TYPES:
                    await self._client.send(
                        subjects.ACKNOWLEDGE_SHIFT,
                        AcknowledgeShift(
                            shift_id=message.payload["shift_id"],
                            caregiver_id=self.caregiver_id,
                            at=self._now(),
                        ),
                    )
                await msg.ack()
                got.append(message)
