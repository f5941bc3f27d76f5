"""Scale-out under faults (issue 8): two instances of every service as separate processes on
a three-node JetStream cluster (streams R3) and PostgreSQL. Mid-load one NATS node is killed
and later brought back, and one instance of each service is SIGKILLed and restarted; every
accepted event must still be applied exactly once (tests/chaos.py compares every effect
with what was sent, and the month's billing totals with a pure recomputation).

The short form runs in `make test`; CLUSTER_DAYS / CLUSTER_HOUSEHOLDS make it longer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chaos import ChaosPlan, run_chaos

pytestmark = [pytest.mark.integration, pytest.mark.chaos]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_cluster_with_two_instances_loses_and_doubles_nothing(
    tmp_path: Path, database_url: str | None
) -> None:
    plan = ChaosPlan(
        days=int(os.environ.get("CLUSTER_DAYS", "2")),
        households=int(os.environ.get("CLUSTER_HOUSEHOLDS", "24")),
        nats_nodes=3,
        instances=2,
        service_kills=3,  # one instance of each service
        nats_restarts=0,
        node_stops=1,
        startup_seconds=45.0,  # six service processes and three nats-servers on two cores
        day_seconds=float(os.environ.get("CLUSTER_DAY_SECONDS", "10")),
    )
    report = await run_chaos(tmp_path, database_url, plan)
    print("\n" + "\n".join(report.lines()))
    killed = sorted(f.split()[-1].split("#")[0] for f in report.faults if f.startswith("SIGKILL"))
    assert killed == ["billing", "dispatch", "scheduling"], report.faults
    assert [f for f in report.faults if f.startswith("NATS node")], report.faults
    assert set(report.replicas.values()) == {3}, report.replicas
    assert sum(report.sent.values()) > 0 and report.found["visits billed"] > 0
    assert report.lost == dict.fromkeys(report.lost, 0), report.lines()
    assert report.duplicated == dict.fromkeys(report.duplicated, 0), report.lines()
    assert report.totals == report.expected_totals, report.lines()
