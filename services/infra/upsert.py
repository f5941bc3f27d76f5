"""Insert-or-update that works on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection


async def upsert(
    conn: AsyncConnection, table: sa.Table, row: dict[str, Any], key: list[str]
) -> None:
    dialect = conn.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(**row)
    updates = {k: stmt.excluded[k] for k in row if k not in key}
    await conn.execute(stmt.on_conflict_do_update(index_elements=key, set_=updates))


async def insert_ignore(conn: AsyncConnection, table: sa.Table, row: dict[str, Any]) -> bool:
    """Insert unless the primary/unique key exists; True when a row was inserted."""
    dialect = conn.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await conn.execute(insert(table).values(**row).on_conflict_do_nothing())
    return bool(result.rowcount)
