"""Caregivers' phones, simulated: they receive shift messages and cancellations from the
stream, check in/out and write the day's diary."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts import subjects
from contracts.envelope import Envelope
from contracts.scheduling.v1 import CompleteVisit, ShiftCancelled, ShiftScheduled


def chance(*key: object) -> random.Random:
    """A generator seeded by what it decides about (a string seed is hashed the same way in
    every process), so a decision does not depend on the order messages arrived in."""
    return random.Random(":".join(str(k) for k in key))


class Phones:
    def __init__(
        self,
        js: JetStreamContext,
        tz: Any,
        seed: int = 7,
        miss_rate: float = 0.03,
        never_miss: Callable[[str, date], bool] = lambda household_id, day: False,
    ):
        self._js = js
        self._tz = tz
        self._seed = seed
        self.miss_rate = miss_rate
        self.never_miss = never_miss  # the households of the demo's diary and ledger stories
        self.received: dict[date, list[ShiftScheduled]] = defaultdict(list)  # every message
        self.cancelled: list[ShiftCancelled] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Any] = []

    async def start(self) -> None:
        for durable, subject, on_message in (
            ("demo_phones", subjects.CARER_SHIFT_WILDCARD, self._on_shift),
            (
                "demo_phones_cancel",
                subjects.CARER_CANCEL_PATTERN.format(caregiver_id="*"),
                self._on_cancel,
            ),
        ):
            sub = await self._js.pull_subscribe(
                subject,
                durable=durable,
                stream=subjects.CARER_STREAM,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL
                ),
            )
            self._subs.append(sub)
            self._tasks.append(asyncio.create_task(self._receive(sub, on_message)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sub in self._subs:
            await sub.unsubscribe()

    async def _receive(self, sub: Any, on_message: Callable[[bytes], None]) -> None:
        while True:
            try:
                msgs = await sub.fetch(200, timeout=1)
            except TimeoutError:  # an empty stream answers fetch with a timeout: nothing new
                continue
            for m in msgs:
                on_message(m.data)
                await m.ack()

    def _on_shift(self, data: bytes) -> None:
        shift = Envelope[ShiftScheduled].model_validate_json(data).payload
        self.received[shift.date].append(shift)

    def _on_cancel(self, data: bytes) -> None:
        self.cancelled.append(Envelope[ShiftCancelled].model_validate_json(data).payload)

    def shifts_of(self, day: date) -> list[ShiftScheduled]:
        """The day's shifts each phone holds: what it received, less what was cancelled."""
        gone = {(c.shift_id, c.caregiver_id) for c in self.cancelled}
        return [s for s in self.received[day] if (s.shift_id, s.caregiver_id) not in gone]

    def visits_for(self, day: date) -> tuple[list[CompleteVisit], list[ShiftScheduled]]:
        """Check-ins/outs for the day's shifts, and the shifts nobody went to (about
        ``miss_rate`` of them)."""
        done, missed = [], []
        for shift in sorted(self.shifts_of(day), key=lambda s: s.shift_id):
            rng = chance(self._seed, shift.shift_id, shift.caregiver_id)
            if rng.random() < self.miss_rate and not self.never_miss(shift.household_id, day):
                missed.append(shift)
                continue
            start = datetime.combine(day, shift.visit_window[0], self._tz)
            checked_in = start + timedelta(minutes=rng.randint(0, 20))
            done.append(
                CompleteVisit(
                    shift_id=shift.shift_id,
                    caregiver_id=shift.caregiver_id,
                    checked_in_at=checked_in,
                    checked_out_at=checked_in + timedelta(minutes=rng.randint(60, 110)),
                )
            )
        return done, missed
