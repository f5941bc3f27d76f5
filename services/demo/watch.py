"""What the demo sees on the bus: every homecare message, counted as it passes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg


class BusWatcher:
    """A core subscription on ``homecare.>``: JetStream publishes reach it too."""

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self.by_type: Counter[str] = Counter()
        self.payloads: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.shifts_by_date: Counter[str] = Counter()  # shift messages (not kept) per day
        self._changed = asyncio.Condition()
        self._sub: Any = None

    async def start(self) -> None:
        self._sub = await self._nc.subscribe("homecare.>", cb=self._on_message)

    async def stop(self) -> None:
        if self._sub:
            await self._sub.unsubscribe()

    async def _on_message(self, msg: Msg) -> None:
        kind = (msg.headers or {}).get("Homecare-Type", "?")
        if msg.subject.startswith("homecare.rpc."):
            return
        self.by_type[kind] += 1
        with contextlib.suppress(ValueError, KeyError):
            payload = json.loads(msg.data)["payload"]
            if kind.startswith("scheduling.ShiftScheduled"):  # the phones keep those
                self.shifts_by_date[payload["date"]] += 1
            else:
                self.payloads[kind].append(payload)
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, done: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
        """Wait for ``done()``; re-checked on every message and every 0.1 s (for conditions
        that other tasks change, such as the phones' inbox)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            if loop.time() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.1)
