"""Caregivers' phones, simulated: they receive shift messages from the stream and check in/out."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts import subjects
from contracts.envelope import Envelope
from contracts.scheduling.v1 import CompleteVisit, ShiftScheduled


class Phones:
    def __init__(self, js: JetStreamContext, tz: Any, seed: int = 7, miss_rate: float = 0.03):
        self._js = js
        self._tz = tz
        self._rng = random.Random(seed)
        self.miss_rate = miss_rate
        self.received: dict[date, list[ShiftScheduled]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None

    async def start(self) -> None:
        sub = await self._js.pull_subscribe(
            subjects.CARER_SHIFT_WILDCARD,
            durable="demo_phones",
            stream=subjects.CARER_STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL),
        )
        self._sub = sub
        self._task = asyncio.create_task(self._receive(sub))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self._sub.unsubscribe()

    async def _receive(self, sub: Any) -> None:
        envelope = Envelope[ShiftScheduled]
        while True:
            try:
                msgs = await sub.fetch(200, timeout=1)
            except TimeoutError:  # an empty stream answers fetch with a timeout: nothing new
                continue
            for m in msgs:
                shift = envelope.model_validate_json(m.data).payload
                self.received[shift.date].append(shift)
                await m.ack()

    def visits_for(self, day: date) -> tuple[list[CompleteVisit], int]:
        """Check-ins/outs for the day's shifts; about ``miss_rate`` of visits are missed."""
        done, missed = [], 0
        for shift in self.received[day]:
            if self._rng.random() < self.miss_rate:
                missed += 1
                continue
            start = datetime.combine(day, shift.visit_window[0], self._tz)
            checked_in = start + timedelta(minutes=self._rng.randint(0, 20))
            done.append(
                CompleteVisit(
                    shift_id=shift.shift_id,
                    caregiver_id=shift.caregiver_id,
                    checked_in_at=checked_in,
                    checked_out_at=checked_in + timedelta(minutes=self._rng.randint(60, 110)),
                )
            )
        return done, missed
