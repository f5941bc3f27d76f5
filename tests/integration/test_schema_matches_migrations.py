"""Each service's tables as its code declares them (store.py) are exactly what its migrations
create, on SQLite and on PostgreSQL (where each service has its own schema)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from services.infra.clock import SimulatedClock
from services.infra.settings import Settings
from services.system import BUILDERS


@pytest.mark.parametrize("service", sorted(BUILDERS))
async def test_declared_tables_equal_migrated_tables(
    service: str, database_url: str | None, tmp_path: Path, clock: SimulatedClock
) -> None:
    settings = Settings(
        nats_url="nats://127.0.0.1:1", var_dir=tmp_path, database_url=database_url, _env_file=None
    )  # type: ignore[call-arg]
    svc = BUILDERS[service](settings, clock)
    await svc.migrate()
    schema = service if database_url else None

    def migrated(conn: sa.Connection) -> dict[str, set[str]]:
        inspector = sa.inspect(conn)
        return {
            t: {c["name"] for c in inspector.get_columns(t, schema=schema)}
            for t in inspector.get_table_names(schema=schema)
            if t != "alembic_version"
        }

    async with svc.engine.connect() as conn:
        actual = await conn.run_sync(migrated)
    declared = {t.name: {c.name for c in t.columns} for t in svc.metadata.tables.values()}
    await svc.engine.dispose()
    assert actual == declared
