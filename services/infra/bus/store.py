"""A service's message store: one transaction holds state changes, outgoing events (outbox)
and the ids of events already processed (inbox), so nothing is lost or applied twice."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import Context
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.envelope import Envelope, P, headers_for
from contracts.subjects import dlq_subject
from contracts.system.v1 import DeadLettered
from services.infra.bus.tables import PlumbingTables
from services.infra.clock import Clock
from services.infra.logging import get_logger
from services.infra.upsert import insert_ignore, insert_many

log = get_logger("homecare.store")


class Tx:
    """One unit of work: a connection in a transaction, plus ``emit``, which adds an event to
    the outbox in that transaction. Events emitted while handling a message inherit its
    correlation id. The outbox rows are written together just before the commit (one
    statement for all of them, see ``MessageStore``)."""

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
        self.outbox_rows: list[dict[str, Any]] = []

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def cause(self) -> Envelope[Any] | None:
        """The message this unit of work handles (None for work not caused by a message)."""
        return self._cause

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
        self.outbox_rows.append(
            {
                "event_id": envelope.event_id,
                "subject": subject,
                "headers": headers_for(envelope),
                "body": envelope.to_json(),
                "created_at": self._clock.now(),
            }
        )
        self.emitted.append(envelope)
        return envelope


Work = Callable[[Tx], Awaitable[None]]
# The same use case for several messages at once, one Tx each (sharing one transaction),
# in arrival order: lets a use case read what all of them need in a few queries.
GroupWork = Callable[[list[Tx]], Awaitable[None]]

# Units of work committed together on SQLite (see MessageStore.process_once).
MAX_GROUP = 200


@dataclass
class _Unit:
    consumer: str
    envelope: Envelope[Any]
    work: Work
    group_work: GroupWork | None
    log_context: dict[str, Any]
    done: asyncio.Future[bool]


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
        self._waiting: deque[_Unit] = deque()
        self._grouper: asyncio.Task[None] | None = None
        self.groups = 0  # transactions that held more than one message (for benchmarks)

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Called after every commit that emitted events (the relay wakes up)."""
        self._committed_listeners.append(listener)

    @asynccontextmanager
    async def transaction(
        self, cause: Envelope[Any] | None = None, correlation_id: str | None = None
    ) -> AsyncIterator[Tx]:
        """``cause``: the message being handled (its ids flow into emitted events);
        ``correlation_id``: the flow to join when only the id is known."""
        async with self._serialized(), self._transaction(cause, correlation_id) as tx:
            yield tx

    @asynccontextmanager
    async def _transaction(
        self, cause: Envelope[Any] | None = None, correlation_id: str | None = None
    ) -> AsyncIterator[Tx]:
        """A transaction for a caller that already holds the write lock (or needs none)."""
        async with self.engine.begin() as conn:
            tx = Tx(conn, self.tables, self.producer, self.clock, cause, correlation_id)
            yield tx
            await self._write_outbox(conn, [tx])
        if tx.emitted:
            self._committed()

    async def _write_outbox(self, conn: AsyncConnection, txs: list[Tx]) -> None:
        rows = [row for tx in txs for row in tx.outbox_rows]
        if rows:  # one executemany, in emit order (the relay publishes by id)
            await insert_many(conn, self.tables.outbox, rows)

    def _committed(self) -> None:
        for listener in self._committed_listeners:
            try:
                listener()
            except Exception as exc:  # the commit stands; a listener must not undo its answer
                log.error("commit listener failed", error=repr(exc))

    @asynccontextmanager
    async def _serialized(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
        else:
            async with self._write_lock:
                yield

    async def process_once(
        self,
        consumer: str,
        envelope: Envelope[Any],
        work: Work,
        group_work: GroupWork | None = None,
    ) -> bool:
        """Run ``work`` for ``envelope`` unless ``consumer`` already did; False for a duplicate.

        The inbox row commits with the work, so a redelivery after a crash either finds
        nothing done (and does it) or finds the row (and skips).

        On SQLite, messages handled at the same time (a pulled batch) commit together: one
        writer at a time means one transaction each would queue anyway, and the transaction
        is the dear part. Messages of one consumer in such a group go to ``group_work``
        together when it is given. If anything in the group fails, the group is rolled back
        and each message runs again alone, so one bad message never takes the others with
        it. PostgreSQL runs each message in its own transaction, concurrently."""
        if self._write_lock is None:
            return await self._run_alone(consumer, envelope, work)
        unit = _Unit(
            consumer,
            envelope,
            work,
            group_work,
            structlog.contextvars.get_contextvars(),
            asyncio.get_running_loop().create_future(),
        )
        self._waiting.append(unit)
        if self._grouper is None or self._grouper.done():
            # its own empty context: each unit's log context is bound while it runs
            self._grouper = asyncio.create_task(
                self._run_groups(), name=f"commit-groups-{self.producer}", context=Context()
            )
        return await unit.done

    async def _run_alone(self, consumer: str, envelope: Envelope[Any], work: Work) -> bool:
        async with self._transaction(cause=envelope) as tx:
            claimed = await insert_ignore(
                tx.conn,
                self.tables.inbox,
                {
                    "consumer": consumer,
                    "event_id": envelope.event_id,
                    "processed_at": self.clock.now(),
                },
            )
            if claimed:
                await work(tx)
            return claimed

    async def _run_groups(self) -> None:
        assert self._write_lock is not None
        while self._waiting:
            async with self._write_lock:
                group: list[_Unit] = []
                while self._waiting and len(group) < MAX_GROUP:
                    unit = self._waiting.popleft()
                    if not unit.done.done():  # its handler was cancelled: redelivered later
                        group.append(unit)
                try:
                    await self._run_group(group)
                except BaseException as exc:
                    # Nobody may wait forever: this group's callers get the error; when the
                    # task itself is cancelled (shutdown), so do those still waiting.
                    unanswered = group + (
                        list(self._waiting) if not isinstance(exc, Exception) else []
                    )
                    for unit in unanswered:
                        if not unit.done.done():
                            unit.done.set_exception(exc)
                    if not isinstance(exc, Exception):
                        self._waiting.clear()
                        raise

    async def _run_group(self, group: list[_Unit]) -> None:
        if len(group) == 1:
            await self._run_unit(group[0])
            return
        try:
            async with self.engine.begin() as conn:
                claimed = await self._claim(conn, group)
                txs = await self._work_group(
                    conn, [u for u, c in zip(group, claimed, strict=True) if c]
                )
                await self._write_outbox(conn, txs)
        except Exception:
            # Nothing of the group was kept; each again alone, so only the culprit fails.
            for unit in group:
                await self._run_unit(unit)
            return
        self.groups += 1
        for unit, result in zip(group, claimed, strict=True):
            if not unit.done.done():
                unit.done.set_result(result)
        if any(tx.emitted for tx in txs):
            self._committed()

    async def _claim(self, conn: AsyncConnection, group: list[_Unit]) -> list[bool]:
        """The inbox for a whole group: one query for what was done before, one insert."""
        inbox = self.tables.inbox
        seen = {
            (row.consumer, row.event_id)
            for row in await conn.execute(
                sa.select(inbox.c.consumer, inbox.c.event_id).where(
                    inbox.c.event_id.in_({u.envelope.event_id for u in group})
                )
            )
        }
        claimed = []
        for unit in group:
            key = (unit.consumer, unit.envelope.event_id)
            claimed.append(key not in seen)
            seen.add(key)  # the same message twice in one group: the second is a duplicate
        now = self.clock.now()
        rows = [
            {"consumer": u.consumer, "event_id": u.envelope.event_id, "processed_at": now}
            for u, c in zip(group, claimed, strict=True)
            if c
        ]
        if rows:
            await conn.execute(sa.insert(inbox), rows)
        return claimed

    async def _work_group(self, conn: AsyncConnection, units: list[_Unit]) -> list[Tx]:
        """Each consumer's units in arrival order; a consumer with ``group_work`` gets all of
        its units in one call. (Consumers are independent streams of work: FastStream runs a
        pulled batch concurrently, so no order between them is promised anyway.)"""
        by_consumer: dict[str, list[_Unit]] = {}
        for unit in units:
            by_consumer.setdefault(unit.consumer, []).append(unit)
        txs: list[Tx] = []
        for same in by_consumer.values():
            batch = [Tx(conn, self.tables, self.producer, self.clock, u.envelope) for u in same]
            txs.extend(batch)
            group_work = same[0].group_work
            if group_work is not None:
                with _log_context(same[0].log_context):
                    await group_work(batch)
                continue
            for unit, tx in zip(same, batch, strict=True):
                with _log_context(unit.log_context):
                    await unit.work(tx)
        return txs

    async def _run_unit(self, unit: _Unit) -> None:
        with _log_context(unit.log_context):
            try:
                result = await self._run_alone(unit.consumer, unit.envelope, unit.work)
            except Exception as exc:
                if not unit.done.done():
                    unit.done.set_exception(exc)
                return
        if not unit.done.done():
            unit.done.set_result(result)

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


@contextmanager
def _log_context(values: dict[str, Any]) -> Iterator[None]:
    """Log with the context of the message whose work runs now (in the grouping task)."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
