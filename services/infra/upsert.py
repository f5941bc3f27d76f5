"""Insert-or-update that works on SQLite and PostgreSQL alike."""

from __future__ import annotations

import functools
import operator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.infra.bulk import BULK, gc_paused


async def upsert(
    conn: AsyncConnection, table: sa.Table, row: dict[str, Any], key: list[str]
) -> None:
    stmt = _upsert_statement(conn.dialect.name, table, tuple(row), tuple(key))
    await conn.execute(stmt, row)


@functools.lru_cache(maxsize=512)
def _upsert_statement(
    dialect: str, table: sa.Table, columns: tuple[str, ...], key: tuple[str, ...]
) -> Any:
    """One statement per table and column set, the row given as parameters: building
    ``excluded`` for every call cost about 8% of a registering consumer's CPU, and the same
    statement object also lets SQLAlchemy reuse its compiled form."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table)
    updates = {k: stmt.excluded[k] for k in columns if k not in key}
    return stmt.on_conflict_do_update(index_elements=list(key), set_=updates)


async def insert_ignore(conn: AsyncConnection, table: sa.Table, row: dict[str, Any]) -> bool:
    """Insert unless the primary/unique key exists; True when a row was inserted."""
    dialect = conn.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await conn.execute(insert(table).values(**row).on_conflict_do_nothing())
    return bool(result.rowcount)


async def insert_many(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys, as one bulk write: SQLAlchemy's per-row
    parameter handling otherwise costs more than the database's insert itself (a day's
    100,000 shifts and their outbox rows). The values go through the columns' own
    conversions, then straight to the driver: SQLite's executemany, PostgreSQL's COPY (in
    the same transaction). Columns left out take their server default."""
    if not rows:
        return
    postgres = conn.dialect.name == "postgresql"
    if postgres and len(rows) < BULK:  # COPY's set-up costs more than a few rows
        await conn.execute(sa.insert(table), rows)
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    missing_defaults = [c.name for c in table.c if c.default is not None and c.name not in names]
    if missing_defaults:
        raise ValueError(f"insert_many: {table.name} needs values for {missing_defaults}")
    pick = operator.itemgetter(*names)
    convert = [
        (i, process)
        for i, c in enumerate(columns)
        if (process := c.type._cached_bind_processor(conn.dialect)) is not None
    ]

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        picked = pick(row)
        if len(names) == 1:
            picked = (picked,)
        if not convert:
            return picked
        out = list(picked)
        for i, process in convert:
            out[i] = process(out[i])
        return tuple(out)

    with gc_paused(len(rows)):
        params = [values(row) for row in rows]
    if postgres:
        await _copy(conn, table, names, params)
        return
    quote = conn.dialect.identifier_preparer
    sql = (
        f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    await conn.exec_driver_sql(sql, params)


async def _copy(
    conn: AsyncConnection, table: sa.Table, names: list[str], records: list[tuple[Any, ...]]
) -> None:
    """PostgreSQL COPY through asyncpg on the connection's own transaction; a violated
    constraint is raised as SQLAlchemy's IntegrityError, as an INSERT's would be."""
    import asyncpg

    sync = conn.sync_connection
    assert sync is not None
    translate = sync.get_execution_options().get("schema_translate_map") or {}
    driver: Any = (await conn.get_raw_connection()).driver_connection
    try:
        await driver.copy_records_to_table(
            table.name,
            schema_name=translate.get(table.schema, table.schema),
            columns=names,
            records=records,
        )
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise sa.exc.IntegrityError(f"COPY {table.name}", None, exc) from exc
