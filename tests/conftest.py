"""Shared fixtures: a real nats-server per test (free port, JetStream in a temp dir) and real
databases: SQLite always, PostgreSQL (127.0.0.1:5432, user postgres) when reachable; with CI
set, a missing PostgreSQL fails the run instead of skipping."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services.client import BusClient, until
from services.infra.clock import SimulatedClock
from services.infra.nats_server import NatsServer
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling import app as scheduling_app
from services.system import CORE, System

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=3
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_reachable() -> bool:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except Exception:
        return False
    return True


PG_REACHABLE = _pg_reachable()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not PG_REACHABLE:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required when CI is set")
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    return str(request.param)


@pytest.fixture
async def database_url(backend: str) -> AsyncIterator[str | None]:
    """None means the default: one SQLite file per service under var_dir. For PostgreSQL a
    fresh database per test, dropped afterwards."""
    if backend == "sqlite":
        yield None
        return
    name = f"homecare_test_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def settings(nats_server: NatsServer, database_url: str | None, tmp_path: Path) -> Settings:
    return Settings(
        nats_url=nats_server.url,
        var_dir=tmp_path / "var",
        database_url=database_url,
        max_deliver=3,
        ack_wait_seconds=10,
        # many services share this machine's PostgreSQL (max_connections 100) in a test
        database_pool_size=5,
        database_max_overflow=5,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI))


@pytest.fixture
async def scheduling_db(settings: Settings, clock: SimulatedClock) -> AsyncIterator[Service]:
    """The scheduling service's database, migrated, on the test's backend; not connected to
    NATS: for running its use cases and jobs directly."""
    svc = scheduling_app.build(settings, clock)
    await svc.migrate()
    yield svc
    await svc.engine.dispose()


@pytest.fixture
async def system(settings: Settings, clock: SimulatedClock) -> AsyncIterator[System]:
    running = System(settings, clock)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def console_system(settings: Settings, clock: SimulatedClock) -> AsyncIterator[System]:
    """The three services and the web console (on a free port: ``web_of(system["console"])``
    has its address)."""
    running = System(settings.model_copy(update={"console_port": 0}), clock, (*CORE, "console"))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def client(nats_server: NatsServer) -> AsyncIterator[BusClient]:
    bus = await BusClient.connect(nats_server.url, producer="test")
    try:
        yield bus
    finally:
        await bus.close()


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = 20.0
) -> None:
    """Poll ``check`` until it holds; fail the test naming ``what`` after ``timeout`` s."""
    try:
        await until(check, what, timeout)
    except TimeoutError as exc:
        pytest.fail(str(exc))
