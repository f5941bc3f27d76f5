"""Async SQLAlchemy engine per service: its own SQLite file, or its own schema in PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_core import to_json
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.infra.sqlite_inline import inline_url


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def schema_for(url: str, service: str) -> str | None:
    """PostgreSQL: one schema per service. SQLite: the file is the boundary, no schema."""
    return service if is_postgres(url) else None


def create_engine_for(
    url: str, service: str, pool_size: int = 10, max_overflow: int = 10
) -> AsyncEngine:
    """``pool_size``/``max_overflow``: PostgreSQL connections kept / opened beyond them for
    a burst (closed after use). A consumer handles a fetched batch concurrently, so a pool
    smaller than that concurrency opens and closes a session every few messages."""
    parsed = inline_url(url)
    options: dict[str, Any] = {}
    schema = schema_for(url, service)
    if schema:
        options["schema_translate_map"] = {None: schema}
    kwargs: dict[str, Any] = {"execution_options": options, "json_serializer": _json_text}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = max_overflow
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    return engine


def _json_text(value: Any) -> str:
    """JSON columns (outbox headers, diaries) written by pydantic's serializer: a fifth of
    json.dumps' cost, which counts when a day's shifts put 100,000 rows in the outbox."""
    return to_json(value).decode()


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers (health, status) run beside the writer; NORMAL is durable in WAL mode
        # except for the last transactions on power loss, which the outbox/inbox then replays.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file (at start, not when an engine is merely built)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
