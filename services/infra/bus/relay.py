"""The outbox relay: publishes committed outbox rows to JetStream and deletes them.

Each message carries ``Nats-Msg-Id`` = event id, so a row published twice (a crash between
publish and delete) is dropped by JetStream's duplicate window; consumers' inboxes catch
anything older than that window."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import sqlalchemy as sa
from nats.js import JetStreamContext

from services.infra.bus.store import MessageStore
from services.infra.logging import get_logger
from services.infra.metrics import counters_for

log = get_logger("homecare.relay")


class OutboxRelay:
    def __init__(
        self,
        store: MessageStore,
        js: JetStreamContext,
        batch: int = 500,
        poll_interval: float = 1.0,
        publish_timeout: float = 5.0,
    ) -> None:
        self._store = store
        self._js = js
        self._batch = batch
        self._poll = poll_interval
        self._timeout = publish_timeout
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self._counters = counters_for(store)  # metrics: homecare_messages_out_total
        store.on_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._store.producer}")

    async def stop(self, flush_timeout: float = 5.0) -> None:
        """Stop the loop, then publish what is left (what cannot be sent stays for next start)."""
        self._stopping = True
        self._wake.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            async with asyncio.timeout(flush_timeout):
                while await self.publish_batch():
                    pass

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            # Cleared before reading, so a commit during the read still wakes the next wait.
            self._wake.clear()
            try:
                sent = await self.publish_batch()
                failures = 0
            except Exception as exc:  # the relay must outlive a broker or database outage
                failures += 1
                log.warning("outbox relay failed; will retry", error=repr(exc), attempt=failures)
                sent = 0
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))
            if sent == 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()

    async def publish_batch(self) -> int:
        """Publish up to one batch; returns how many rows were published and removed."""
        outbox = self._store.tables.outbox
        rows = await self._store.read(
            sa.select(outbox.c.id, outbox.c.subject, outbox.c.headers, outbox.c.body)
            .order_by(outbox.c.id)
            .limit(self._batch)
        )
        if not rows:
            return 0
        futures: list[Any] = []
        for row in rows:
            futures.append(
                await self._js.publish_async(row.subject, row.body, headers=dict(row.headers))
            )
        async with asyncio.timeout(self._timeout):
            results = await asyncio.gather(*futures, return_exceptions=True)
        done = [
            row.id
            for row, res in zip(rows, results, strict=True)
            if not isinstance(res, BaseException)
        ]
        failed = len(rows) - len(done)
        if done:
            async with self._store.transaction() as tx:
                await tx.conn.execute(sa.delete(outbox).where(outbox.c.id.in_(done)))
            self.published += len(done)
            self._counters.published(len(done))
        if failed:
            first = next(r for r in results if isinstance(r, BaseException))
            raise RuntimeError(
                f"{failed} of {len(rows)} outbox messages not acknowledged: {first!r}"
            )
        return len(done)
