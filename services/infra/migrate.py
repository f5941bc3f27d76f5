"""Alembic, run programmatically per service (no alembic.ini needed)."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(script_location: Path, schema: str | None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["schema"] = schema
    return cfg


async def upgrade_to_head(engine: AsyncEngine, script_location: Path, schema: str | None) -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # instances of a service starting together migrate one after another (until
            # commit): CREATE SCHEMA IF NOT EXISTS and Alembic's version table race otherwise
            key = zlib.crc32(f"homecare-migrate:{schema}".encode())
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        if schema:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            # Alembic's ALTER statements ignore the schema translate map; unqualified names in
            # this transaction resolve to the service's schema instead.
            await conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
        await conn.run_sync(_upgrade, alembic_config(script_location, schema))


def _upgrade(sync_conn: Any, cfg: Config) -> None:
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


def run_env() -> None:
    """Body of every service's migrations/env.py."""
    from alembic import context

    cfg = context.config
    schema = cfg.attributes.get("schema")
    context.configure(
        connection=cfg.attributes["connection"],
        target_metadata=None,
        version_table_schema=schema,
    )
    with context.begin_transaction():
        context.run_migrations()
