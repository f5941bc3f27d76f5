"""insert_many: rows written through the driver's executemany on SQLite read back exactly as
SQLAlchemy's own insert writes them (dates, times, aware datetimes, JSON, bytes, booleans),
on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import SHANGHAI

from services.infra.bulk import BULK
from services.infra.clock import in_zone
from services.infra.db import create_engine_for
from services.infra.upsert import insert_many

metadata = sa.MetaData()
sample = sa.Table(
    "insert_many_sample",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(20), nullable=False, unique=True),
    sa.Column("day", sa.Date, nullable=True),
    sa.Column("at", sa.Time, nullable=True),
    sa.Column("moment", sa.DateTime(timezone=True), nullable=True),
    sa.Column("doc", sa.JSON, nullable=True),
    sa.Column("body", sa.LargeBinary, nullable=True),
    sa.Column("flag", sa.Boolean, nullable=False),
    sa.Column("note", sa.String(20), nullable=False, server_default="none"),
)
ROWS = [
    {
        "key": f"k{i}",
        "day": date(2026, 10, 1 + i),
        "at": time(9, 30, i),
        "moment": datetime(2026, 11, 2, 8, i, tzinfo=SHANGHAI),
        "doc": {"n": i, "名": "王"},
        "body": bytes([i, 0, 255]),
        "flag": i % 2 == 0,
    }
    for i in range(3)
] + [
    {
        "key": "empty",
        "day": None,
        "at": None,
        "moment": None,
        "doc": None,
        "body": None,
        "flag": False,
    }
]


@pytest.fixture
async def engine(
    database_url: str | None, tmp_path: Path
) -> AsyncIterator[sa.ext.asyncio.AsyncEngine]:
    url = database_url or f"sqlite:///{tmp_path / 'sample.db'}"
    engine = create_engine_for(url, "sample")
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS sample"))
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def read(engine: sa.ext.asyncio.AsyncEngine, prefix: str) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(sample).where(sample.c.key.like(f"{prefix}%")).order_by(sample.c.id)
        )
        return [tuple(r)[2:] for r in rows]  # without id and key


async def test_rows_read_back_as_sqlalchemy_writes_them(engine: sa.ext.asyncio.AsyncEngine) -> None:
    async with engine.begin() as conn:
        await insert_many(conn, sample, [dict(r, key="a" + r["key"]) for r in ROWS])
        await conn.execute(sa.insert(sample), [dict(r, key="b" + r["key"]) for r in ROWS])
        await insert_many(conn, sample, [])
    mine, theirs = await read(engine, "a"), await read(engine, "b")
    assert mine == theirs
    assert len(mine) == 4
    assert mine[0][-1] == "none"  # a column left out takes its server default


async def test_a_bulk_of_rows_reads_back_the_same(engine: sa.ext.asyncio.AsyncEngine) -> None:
    """Enough rows for the bulk path (PostgreSQL: COPY) and the collector held meanwhile."""
    many = [dict(ROWS[i % 4], key=f"m{i:05d}") for i in range(BULK + 1)]
    async with engine.begin() as conn:
        await insert_many(conn, sample, many)
        await conn.execute(sa.insert(sample), [dict(r, key="n" + r["key"][1:]) for r in many])
    assert gc.isenabled()
    mine, theirs = await read(engine, "m"), await read(engine, "n")
    assert len(mine) == BULK + 1 and mine == theirs
    assert in_zone(mine[0][2], SHANGHAI) == datetime(2026, 11, 2, 8, 0, tzinfo=SHANGHAI)


async def test_a_duplicate_fails_the_whole_insert(engine: sa.ext.asyncio.AsyncEngine) -> None:
    for size in (2, BULK + 1):
        rows = [dict(ROWS[i % 4], key=f"dup{i}") for i in range(size - 1)]
        with pytest.raises(sa.exc.IntegrityError):
            async with engine.begin() as conn:
                await insert_many(conn, sample, [*rows, dict(ROWS[0], key="dup0")])
        assert await read(engine, "dup") == []
