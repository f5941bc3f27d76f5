"""Fault run (tests/chaos.py): the short form here in `make test`; `make chaos` runs a
month with many more faults (CHAOS_DAYS, CHAOS_KILLS, CHAOS_NATS_RESTARTS) on SQLite and
PostgreSQL (CHAOS_DATABASES)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chaos import ChaosPlan, run_chaos

pytestmark = [pytest.mark.integration, pytest.mark.chaos]


def plan_from_env() -> ChaosPlan:
    return ChaosPlan(
        days=int(os.environ.get("CHAOS_DAYS", "2")),
        households=int(os.environ.get("CHAOS_HOUSEHOLDS", "24")),
        service_kills=int(os.environ.get("CHAOS_KILLS", "3")),
        nats_restarts=int(os.environ.get("CHAOS_NATS_RESTARTS", "2")),
        day_seconds=float(os.environ.get("CHAOS_DAY_SECONDS", "8")),
    )


# The short form on SQLite (the cluster fault test, test_cluster.py, runs on PostgreSQL);
# `make chaos` runs both.
DATABASES = os.environ.get("CHAOS_DATABASES", "sqlite").split()


@pytest.mark.parametrize("backend", DATABASES, indirect=True)
async def test_faults_lose_nothing_and_double_nothing(
    tmp_path: Path, database_url: str | None
) -> None:
    plan = plan_from_env()
    report = await run_chaos(tmp_path, database_url, plan)
    print("\n" + "\n".join(report.lines()))
    assert len(report.faults) == plan.service_kills + plan.nats_restarts
    assert sum(report.sent.values()) > 0 and report.found["visits billed"] > 0
    assert report.lost == dict.fromkeys(report.lost, 0), report.lines()
    assert report.duplicated == dict.fromkeys(report.duplicated, 0), report.lines()
    assert report.totals == report.expected_totals, report.lines()
