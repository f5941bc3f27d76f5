"""The inline SQLite dialect: plain SQLite URLs get it, statements run on the event loop's
thread, and transactions, rollbacks and JSON behave as with any SQLAlchemy driver."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.infra.db import create_engine_for
from services.infra.sqlite_inline import inline_url

METADATA = sa.MetaData()
ITEMS = sa.Table(
    "items",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("data", sa.JSON, nullable=True),
)


@pytest.mark.parametrize("url", ["sqlite:///x.db", "sqlite+pysqlite:///x.db"])
def test_plain_sqlite_urls_get_the_inline_driver(url: str) -> None:
    parsed = inline_url(url)
    assert parsed.drivername == "sqlite+inline"
    assert parsed.database == "x.db"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///x.db",
        "postgresql+asyncpg://postgres@127.0.0.1:5432/homecare",
        "postgresql://postgres@127.0.0.1/homecare",
    ],
)
def test_other_urls_are_left_alone(url: str) -> None:
    assert inline_url(url) == make_url(url)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'a.db'}", "svc")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        yield engine
    finally:
        await engine.dispose()


async def names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.scalars(sa.select(ITEMS.c.name).order_by(ITEMS.c.id))).all())


async def test_create_engine_for_plain_sqlite_uses_the_inline_driver(engine: AsyncEngine) -> None:
    assert engine.dialect.name == "sqlite"
    assert engine.dialect.driver == "inline"
    assert engine.dialect.is_async
    async with engine.connect() as conn:  # the service's pragmas were applied
        assert await conn.scalar(sa.text("PRAGMA journal_mode")) == "wal"


async def test_statements_run_on_the_event_loops_thread(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _thread_function(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)

    await engine.dispose()  # new connections, with the function
    async with engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT thread_id()")) == threading.get_ident()


async def test_round_trip_commit_and_rollback(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(sa.insert(ITEMS), [{"name": "a"}, {"name": "b"}])
        assert list((await conn.scalars(sa.select(ITEMS.c.name))).all()) == ["a", "b"]
        await conn.commit()
    assert await names(engine) == ["a", "b"]

    async with engine.connect() as conn:
        await conn.execute(sa.insert(ITEMS).values(name="gone"))
        assert "gone" in (await conn.scalars(sa.select(ITEMS.c.name))).all()  # visible inside
        await conn.rollback()
    assert await names(engine) == ["a", "b"]


async def test_begin_block_that_raises_rolls_back(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.insert(ITEMS).values(name="kept"))

    class Failure(Exception):
        pass

    with pytest.raises(Failure):
        async with engine.begin() as conn:
            await conn.execute(sa.insert(ITEMS).values(name="lost"))
            raise Failure
    assert await names(engine) == ["kept"]


async def test_json_column_round_trips(engine: AsyncEngine) -> None:
    value = {"visits": [1, 2.5, None], "nested": {"ok": True, "name": "王芳"}, "empty": []}
    async with engine.begin() as conn:
        await conn.execute(sa.insert(ITEMS).values(name="j", data=value))
    async with engine.connect() as conn:
        assert await conn.scalar(sa.select(ITEMS.c.data).where(ITEMS.c.name == "j")) == value
