"""Routing tests: a service's real subscribers and database, FastStream's in-memory broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.dispatch import app as dispatch_app
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service
from services.infra.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Never connected: the in-memory broker stands in for NATS."""
    return Settings(nats_url="nats://127.0.0.1:1", var_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def dispatch(settings: Settings, clock: SimulatedClock) -> AsyncIterator[Service]:
    svc = dispatch_app.build(settings, clock)
    await svc.migrate()
    yield svc
    await svc.engine.dispose()
