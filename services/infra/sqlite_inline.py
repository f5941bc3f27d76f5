"""SQLite for the asyncio engine without a thread hop per statement.

aiosqlite runs every call on its own thread and awaits the answer: a use case of fifteen
statements pays some thirty hand-overs between threads, each a GIL switch that costs more
than the statement. A local SQLite statement on a small table takes microseconds, and in WAL
mode with ``synchronous=NORMAL`` a commit does not wait for the disk, so this dialect runs
the standard ``sqlite3`` driver directly on the event loop's thread and presents it to
SQLAlchemy's asyncio extension as an async driver. (SQLAlchemy insists that an execute
passes through ``await_``; the cursor awaits a coroutine that runs the statement and never
suspends, which costs a greenlet switch and no trip through the event loop.)

The price: a statement blocks the loop while it runs. That suits the short transactions of
the services; a long report should run in a thread of its own (``asyncio.to_thread`` with a
sync engine). Another process holding SQLite's write lock makes this loop wait in the busy
handler; each service owns its file, so that is rare (two instances of one service on one
SQLite file: use PostgreSQL for that).

URLs: ``sqlite:///path`` and ``sqlite+inline:///path`` use this dialect;
``sqlite+aiosqlite:///path`` keeps aiosqlite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import greenlet
from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import ConnectArgsType
from sqlalchemy.util import await_


async def _at_once(call: Callable[..., Any], *args: Any) -> Any:
    return call(*args)


def _in_sqlalchemy_greenlet() -> bool:
    return bool(getattr(greenlet.getcurrent(), "__sqlalchemy_greenlet_provider__", False))


class _InlineCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _InlineCursor:
        if _in_sqlalchemy_greenlet():
            return await_(_at_once(super().execute, sql, parameters))
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> _InlineCursor:
        if _in_sqlalchemy_greenlet():
            return await_(_at_once(super().executemany, sql, parameters))
        return super().executemany(sql, parameters)

    async def _async_soft_close(self) -> None:
        """Called by SQLAlchemy's asyncio results for drivers that buffer: rows here are
        read on demand from the same thread, so there is nothing to release early."""


class _InlineConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _InlineCursor) -> Any:
        return super().cursor(factory)


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    driver = "inline"
    is_async = True
    supports_statement_cache = True

    def create_connect_args(self, url: URL) -> ConnectArgsType:
        args, kwargs = super().create_connect_args(url)
        kwargs.setdefault("factory", _InlineConnection)
        return args, kwargs

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        # The asyncio-aware queue: a caller waiting for a connection awaits, never blocks.
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool


registry.register("sqlite.inline", __name__, "SQLiteDialect_inline")


def inline_url(url: str) -> URL:
    """``url`` with the inline driver when it names plain SQLite (no driver given)."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite+inline")
    return parsed
