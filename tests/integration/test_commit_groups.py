"""MessageStore.process_once: on SQLite, messages handled at the same time commit in one
transaction (a group); one failing message never takes the others with it; the inbox still
makes a message count once. On PostgreSQL each message runs alone, concurrently.

A real SQLite file (and PostgreSQL where the backend says so), a tiny schema: the plumbing
tables plus ``notes``, where each unit of work writes a row."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import Envelope
from contracts.system.v1 import HealthQuery
from services.infra.bus.store import MessageStore, Tx, Work
from services.infra.bus.tables import plumbing_tables
from services.infra.clock import SimulatedClock
from services.infra.db import create_engine_for

METADATA = sa.MetaData()
TABLES = plumbing_tables(METADATA)
NOTES = sa.Table(
    "notes",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("text", sa.String(200), nullable=False),
)


class Boom(Exception):
    """What a failing unit of work raises."""


def message() -> Envelope[HealthQuery]:
    return Envelope.wrap(HealthQuery(), producer="test")


def noting(text: str, ran: list[str] | None = None) -> Work:
    """Work that writes one note (and records that it ran)."""

    async def work(tx: Tx) -> None:
        if ran is not None:
            ran.append(text)
        await tx.conn.execute(sa.insert(NOTES).values(text=text))

    return work


async def together(*calls: Awaitable[bool]) -> list[bool | BaseException]:
    """Run the calls at the same time (so they queue as one group), their results in order;
    a unit left waiting forever fails the test instead of hanging it."""
    async with asyncio.timeout(5):
        return await asyncio.gather(*calls, return_exceptions=True)


async def notes(store: MessageStore) -> list[str]:
    return [row.text for row in await store.read(sa.select(NOTES.c.text).order_by(NOTES.c.id))]


async def inbox(store: MessageStore) -> set[tuple[str, str]]:
    inbox = TABLES.inbox
    return {
        (row.consumer, row.event_id)
        for row in await store.read(sa.select(inbox.c.consumer, inbox.c.event_id))
    }


async def outbox(store: MessageStore) -> list[dict[str, Any]]:
    """The outbox bodies (envelopes as JSON) in id order, the order the relay publishes."""
    out = TABLES.outbox
    rows = await store.read(sa.select(out.c.subject, out.c.body).order_by(out.c.id))
    return [{"subject": row.subject, **json.loads(row.body)} for row in rows]


@pytest.fixture
async def store(tmp_path: Path, clock: SimulatedClock) -> AsyncIterator[MessageStore]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'svc.db'}", "svc")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        store = MessageStore(engine, TABLES, "svc", clock)
        assert store.engine.dialect.name == "sqlite"
        yield store
    finally:
        await engine.dispose()


async def test_concurrent_messages_commit_together(store: MessageStore) -> None:
    envelopes = [message() for _ in range(5)]
    conns: list[AsyncConnection] = []

    def work_for(i: int) -> Work:
        async def work(tx: Tx) -> None:
            conns.append(tx.conn)
            assert tx.cause is envelopes[i]
            await tx.conn.execute(sa.insert(NOTES).values(text=f"n{i}"))

        return work

    results = await together(
        *(store.process_once("c", env, work_for(i)) for i, env in enumerate(envelopes))
    )

    assert results == [True] * 5
    assert store.groups == 1  # one transaction for all five
    assert len(conns) == 5 and all(conn is conns[0] for conn in conns)
    assert await notes(store) == [f"n{i}" for i in range(5)]  # arrival order
    assert await inbox(store) == {("c", env.event_id) for env in envelopes}


async def test_one_failing_unit_fails_alone_and_the_others_commit_once(
    store: MessageStore,
) -> None:
    envelopes = [message() for _ in range(5)]

    async def failing(tx: Tx) -> None:
        await tx.conn.execute(sa.insert(NOTES).values(text="bad"))
        raise Boom("message 2 is bad")

    works = [noting(f"n{i}") for i in range(5)]
    works[2] = failing
    results = await together(
        *(store.process_once("c", env, work) for env, work in zip(envelopes, works, strict=True))
    )

    assert isinstance(results[2], Boom)  # the culprit's caller gets its exception...
    assert [r for i, r in enumerate(results) if i != 2] == [True] * 4  # ...and only it
    assert store.groups == 0  # the group itself was rolled back
    assert await notes(store) == ["n0", "n1", "n3", "n4"]  # each exactly once, no "bad"
    assert await inbox(store) == {("c", env.event_id) for i, env in enumerate(envelopes) if i != 2}

    # nothing of the failed message was kept, so its redelivery runs it
    assert await store.process_once("c", envelopes[2], noting("n2 again")) is True
    assert await notes(store) == ["n0", "n1", "n3", "n4", "n2 again"]


async def test_same_event_twice_in_a_group_runs_once(store: MessageStore) -> None:
    env = message()
    ran: list[str] = []

    results = await together(
        store.process_once("c", env, noting("first", ran)),
        store.process_once("c", env, noting("second", ran)),
        # the inbox is per consumer: another consumer of the same event is no duplicate
        store.process_once("other", env, noting("other", ran)),
    )

    assert results == [True, False, True]
    assert store.groups == 1
    assert ran == ["first", "other"]
    assert await inbox(store) == {("c", env.event_id), ("other", env.event_id)}

    # a redelivery alone finds the inbox row (insert-ignore path)...
    assert await store.process_once("c", env, noting("redelivered", ran)) is False
    # ...and so does one arriving in a group (the group's select on the inbox)
    fresh = message()
    results = await together(
        store.process_once("c", env, noting("redelivered in a group", ran)),
        store.process_once("c", fresh, noting("fresh", ran)),
    )
    assert results == [False, True]
    assert store.groups == 2
    assert ran == ["first", "other", "fresh"]
    assert await notes(store) == ["first", "other", "fresh"]


async def test_group_outbox_keeps_emit_order_and_wakes_the_listener(
    store: MessageStore,
) -> None:
    commits: list[int] = []
    store.on_commit(lambda: commits.append(len(commits)))

    # a group that emits nothing wakes nobody
    await together(*(store.process_once("c", message(), noting("quiet")) for _ in range(2)))
    assert store.groups == 1 and commits == []

    emitted: list[tuple[str, str]] = []  # (event_id, cause's event_id), as emitted

    async def emit_three(tx: Tx) -> None:
        assert tx.cause is not None
        for k in range(3):
            env = await tx.emit(f"homecare.test.{k}", HealthQuery())
            emitted.append((env.event_id, tx.cause.event_id))

    units = [("a", message()), ("b", message()), ("a", message()), ("b", message())]
    results = await together(
        *(store.process_once(consumer, env, emit_three) for consumer, env in units)
    )

    assert results == [True] * 4
    assert store.groups == 2
    assert commits == [0]  # one commit, one wake-up
    rows = await outbox(store)
    assert len(rows) == 12
    # ids increase in emit order: unit after unit, and within a unit event after event
    assert [(row["event_id"], row["causation_id"]) for row in rows] == emitted
    assert [row["subject"] for row in rows] == [f"homecare.test.{k}" for k in range(3)] * 4
    causes = {env.event_id: env for _, env in units}
    for row in rows:  # each event joins the flow of the message that caused it
        assert row["correlation_id"] == causes[row["causation_id"]].correlation_id
    assert {row["causation_id"] for row in rows} == set(causes)


async def test_group_work_gets_its_consumers_units_in_one_call(store: MessageStore) -> None:
    a_envs = [message() for _ in range(3)]
    b_env = message()
    batches: list[list[Tx]] = []
    b_txs: list[Tx] = []
    single_calls: list[Tx] = []

    async def a_single(tx: Tx) -> None:
        single_calls.append(tx)
        await tx.conn.execute(sa.insert(NOTES).values(text="A single"))

    async def a_group(txs: list[Tx]) -> None:
        batches.append(list(txs))
        for tx in txs:
            assert tx.cause is not None
            await tx.conn.execute(sa.insert(NOTES).values(text=f"A {tx.cause.event_id}"))
            await tx.emit("homecare.test.a", HealthQuery())

    async def b_work(tx: Tx) -> None:
        b_txs.append(tx)
        await tx.conn.execute(sa.insert(NOTES).values(text="B"))

    results = await together(
        store.process_once("A", a_envs[0], a_single, a_group),
        store.process_once("B", b_env, b_work),
        store.process_once("A", a_envs[1], a_single, a_group),
        store.process_once("A", a_envs[2], a_single, a_group),
    )

    assert results == [True] * 4
    assert store.groups == 1
    assert len(batches) == 1  # one call for all of A's units...
    batch = batches[0]
    assert [tx.cause for tx in batch] == a_envs  # ...in arrival order, each with its cause
    assert all(tx.cause is env for tx, env in zip(batch, a_envs, strict=True))
    assert len({id(tx) for tx in batch}) == 3
    assert single_calls == []  # A's per-message work is not used in a group
    assert len(b_txs) == 1 and b_txs[0].cause is b_env  # B ran through its own work
    assert all(tx.conn is b_txs[0].conn for tx in batch)  # all in the one transaction
    assert sorted(await notes(store)) == sorted([*(f"A {e.event_id}" for e in a_envs), "B"])
    assert [row["causation_id"] for row in await outbox(store)] == [e.event_id for e in a_envs]


async def test_cancelled_waiting_unit_is_skipped(store: MessageStore) -> None:
    envelopes = [message() for _ in range(3)]
    ran: list[str] = []

    # The store's write lock is held while this transaction is open, so the grouping task
    # cannot take the waiting units before the middle one's handler is cancelled.
    async with store.transaction():
        tasks = [
            asyncio.create_task(store.process_once("c", env, noting(f"n{i}", ran)))
            for i, env in enumerate(envelopes)
        ]
        for _ in range(100):
            if len(store._waiting) == 3:
                break
            await asyncio.sleep(0)
        assert len(store._waiting) == 3
        tasks[1].cancel()
        await asyncio.sleep(0)
        assert ran == []
    results = await together(*tasks)

    assert results[0] is True and results[2] is True
    assert isinstance(results[1], asyncio.CancelledError)
    assert ran == ["n0", "n2"]  # the cancelled unit's work never ran
    assert store.groups == 1
    assert await notes(store) == ["n0", "n2"]
    assert await inbox(store) == {("c", envelopes[0].event_id), ("c", envelopes[2].event_id)}

    # its message comes again (it was never acknowledged) and is handled then
    assert await store.process_once("c", envelopes[1], noting("n1", ran)) is True
    assert ran == ["n0", "n2", "n1"]


async def test_concurrent_messages_all_commit_on_each_backend(
    backend: str, database_url: str | None, tmp_path: Path, clock: SimulatedClock
) -> None:
    """SQLite groups them into one transaction; PostgreSQL runs each in its own transaction,
    all at the same time (each work waits at a barrier until all five are inside theirs)."""
    engine = create_engine_for(database_url or f"sqlite:///{tmp_path / 'svc.db'}", "svc")
    try:
        async with engine.begin() as conn:
            if backend == "postgres":
                await conn.execute(sa.text("CREATE SCHEMA svc"))
            await conn.run_sync(METADATA.create_all)
        store = MessageStore(engine, TABLES, "svc", clock)
        assert store.engine.dialect.name == ("postgresql" if backend == "postgres" else "sqlite")
        n = 5
        envelopes = [message() for _ in range(n)]
        conns: list[AsyncConnection] = []
        barrier = asyncio.Barrier(n) if backend == "postgres" else None

        def work_for(i: int) -> Work:
            async def work(tx: Tx) -> None:
                conns.append(tx.conn)
                await tx.conn.execute(sa.insert(NOTES).values(text=f"n{i}"))
                await tx.emit("homecare.test.done", HealthQuery())
                if barrier is not None:
                    await asyncio.wait_for(barrier.wait(), 5)

            return work

        results = await together(
            *(store.process_once("c", env, work_for(i)) for i, env in enumerate(envelopes))
        )

        assert results == [True] * n
        assert sorted(await notes(store)) == [f"n{i}" for i in range(n)]
        assert await inbox(store) == {("c", env.event_id) for env in envelopes}
        assert sorted(row["causation_id"] for row in await outbox(store)) == sorted(
            env.event_id for env in envelopes
        )
        assert len(conns) == n
        if backend == "postgres":
            assert store.groups == 0
            assert len({id(conn) for conn in conns}) == n  # a transaction each
        else:
            assert store.groups == 1
            assert all(conn is conns[0] for conn in conns)
    finally:
        await engine.dispose()


async def test_a_failing_commit_listener_neither_undoes_answers_nor_stops_grouping(
    store: MessageStore,
) -> None:
    """The commit stands whatever a listener does: callers get their results, and messages
    that arrive afterwards are still grouped and answered."""

    def broken_listener() -> None:
        raise RuntimeError("listener broke")

    store.on_commit(broken_listener)

    def emitting(text: str) -> Work:
        async def work(tx: Tx) -> None:
            await tx.conn.execute(sa.insert(NOTES).values(text=text))
            await tx.emit("test.noted", HealthQuery())

        return work

    first = await together(
        *(store.process_once("c", message(), emitting(f"a{i}")) for i in range(3))
    )
    later = await together(
        *(store.process_once("c", message(), emitting(f"b{i}")) for i in range(3))
    )

    assert first == [True] * 3 and later == [True] * 3
    assert await notes(store) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert len(await outbox(store)) == 6
