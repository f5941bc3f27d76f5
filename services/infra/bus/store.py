"""A service's message store: one transaction holds state changes, outgoing events (outbox)
and the ids of events already processed (inbox), so nothing is lost or applied twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.envelope import Envelope, P, headers_for
from contracts.subjects import dlq_subject
from contracts.system.v1 import DeadLettered
from services.infra.bus.tables import PlumbingTables
from services.infra.clock import Clock
from services.infra.upsert import insert_ignore


class Tx:
    """One unit of work: a connection in a transaction, plus ``emit``, which writes to the
    outbox in that transaction. Events emitted while handling a message inherit its
    correlation id."""

    def __init__(
        self,
        conn: AsyncConnection,
        tables: PlumbingTables,
        producer: str,
        clock: Clock,
        cause: Envelope[Any] | None,
        correlation_id: str | None = None,
    ) -> None:
        self.conn = conn
        self._correlation_id = cause.correlation_id if cause else correlation_id
        self._tables = tables
        self._producer = producer
        self._clock = clock
        self._cause = cause
        self.emitted: list[Envelope[Any]] = []

    @property
    def clock(self) -> Clock:
        return self._clock

    async def lock(self, name: str) -> None:
        """Hold a named lock until this transaction ends, for use cases that read then write
        shared state (a caregiver's load, a day's shifts). PostgreSQL: an advisory lock, so it
        also holds across instances. SQLite: writers are already one at a time."""
        if self.conn.dialect.name == "postgresql":
            await self.conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name}
            )

    async def emit(self, subject: str, payload: P) -> Envelope[P]:
        envelope = Envelope.wrap(
            payload,
            producer=self._producer,
            occurred_at=self._clock.now(),
            correlation_id=self._correlation_id,
            causation_id=self._cause.event_id if self._cause else None,
        )
        await self.conn.execute(
            sa.insert(self._tables.outbox).values(
                event_id=envelope.event_id,
                subject=subject,
                headers=headers_for(envelope),
                body=envelope.to_json(),
                created_at=self._clock.now(),
            )
        )
        self.emitted.append(envelope)
        return envelope


Work = Callable[[Tx], Awaitable[None]]


class MessageStore:
    def __init__(
        self, engine: AsyncEngine, tables: PlumbingTables, producer: str, clock: Clock
    ) -> None:
        self.engine = engine
        self.tables = tables
        self.producer = producer
        self.clock = clock
        self._committed_listeners: list[Callable[[], None]] = []
        # SQLite has one writer at a time and its busy handler sleeps in coarse steps, so
        # concurrent handlers queue here instead; PostgreSQL runs them concurrently.
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Called after every commit that emitted events (the relay wakes up)."""
        self._committed_listeners.append(listener)

    @asynccontextmanager
    async def transaction(
        self, cause: Envelope[Any] | None = None, correlation_id: str | None = None
    ) -> AsyncIterator[Tx]:
        """``cause``: the message being handled (its ids flow into emitted events);
        ``correlation_id``: the flow to join when only the id is known."""
        async with self._serialized(), self.engine.begin() as conn:
            tx = Tx(conn, self.tables, self.producer, self.clock, cause, correlation_id)
            yield tx
        if tx.emitted:
            for listener in self._committed_listeners:
                listener()

    @asynccontextmanager
    async def _serialized(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
        else:
            async with self._write_lock:
                yield

    async def process_once(self, consumer: str, envelope: Envelope[Any], work: Work) -> bool:
        """Run ``work`` for ``envelope`` unless ``consumer`` already did; False for a duplicate.

        The inbox row commits with the work, so a redelivery after a crash either finds
        nothing done (and does it) or finds the row (and skips)."""
        async with self.transaction(cause=envelope) as tx:
            claimed = await insert_ignore(
                tx.conn,
                self.tables.inbox,
                {
                    "consumer": consumer,
                    "event_id": envelope.event_id,
                    "processed_at": self.clock.now(),
                },
            )
            if not claimed:
                return False
            await work(tx)
        return True

    async def dead_letter(
        self,
        *,
        consumer: str,
        subject: str,
        reason: str,
        data: bytes,
        headers: dict[str, str],
        deliveries: int,
        correlation_id: str | None = None,
    ) -> int:
        """Keep the message and its reason, and announce it on the DLQ subject (via the outbox)."""
        event_id = headers.get("Nats-Msg-Id")
        # The announcement joins the original flow when the message named one.
        correlation = correlation_id or headers.get("Homecare-Correlation-Id") or None
        async with self.transaction(correlation_id=correlation[:64] if correlation else None) as tx:
            row_id = await tx.conn.scalar(
                sa.insert(self.tables.dead_letters)
                .values(
                    consumer=consumer,
                    subject=subject,
                    reason=reason[:4000],
                    deliveries=deliveries,
                    event_id=event_id[:64] if event_id else None,
                    headers=headers,
                    data=data,
                    created_at=self.clock.now(),
                )
                .returning(self.tables.dead_letters.c.id)
            )
            assert row_id is not None
            await tx.emit(
                dlq_subject(self.producer),
                DeadLettered(
                    dead_letter_id=row_id,
                    service=self.producer,
                    consumer=consumer,
                    subject=subject,
                    reason=reason[:1000],
                    deliveries=deliveries,
                    original_event_id=event_id,
                    data_preview=data[:512].decode("utf-8", errors="backslashreplace"),
                ),
            )
        return row_id

    async def count(self, table: sa.Table) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)

    async def outbox_backlog(self) -> int:
        return await self.count(self.tables.outbox)

    async def dead_letter_count(self) -> int:
        return await self.count(self.tables.dead_letters)

    async def read(self, query: sa.Select[Any]) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).all())
