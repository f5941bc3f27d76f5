"""The metrics and health endpoint of a running System (HOMECARE_METRICS_PORT=0): real
commands raise the message counters, lag and backlog drain to 0, a poison message shows up
as a dead letter, and /health turns 503 when a service stops (its NATS connection gone)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from builders import household
from conftest import eventually
from prometheus_client.parser import text_string_to_metric_families

from contracts import subjects
from services.billing.store import categories
from services.client import BusClient
from services.infra.clock import SimulatedClock
from services.infra.settings import Settings
from services.system import CORE, System

pytestmark = pytest.mark.integration

HOUSEHOLDS = 3
Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def observed(settings: Settings, clock: SimulatedClock) -> AsyncIterator[System]:
    running = System(settings.model_copy(update={"metrics_port": 0}), clock)
    await running.start()
    try:
        yield running
    finally:
        if running.metrics_address is not None:  # not stopped by the test
            await running.stop()


async def scrape(http: httpx.AsyncClient) -> Series:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def pick(series: Series, name: str, **labels: str) -> dict[frozenset[tuple[str, str]], float]:
    """The series called ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return {key: v for (n, key), v in series.items() if n == name and want <= key}


def one(series: Series, name: str, **labels: str) -> float:
    found = pick(series, name, **labels)
    assert len(found) == 1, (name, labels, found)
    return next(iter(found.values()))


async def test_metrics_follow_real_traffic_and_health_follows_the_connection(
    observed: System, client: BusClient
) -> None:
    address = observed.metrics_address
    assert address is not None and not address.endswith(":0")
    async with httpx.AsyncClient(base_url=address, timeout=10) as http:
        before = await scrape(http)
        for svc in observed.services:
            assert one(before, "homecare_up", service=svc.name, instance=svc.instance) == 1
        register = {"service": "dispatch", "consumer": "dispatch_register_household"}
        assert one(before, "homecare_messages_in_total", **register, outcome="ok") == 0

        await client.send_many(
            [(subjects.REGISTER_HOUSEHOLD, household(f"H{i}")) for i in range(HOUSEHOLDS)]
        )

        async def in_billing() -> bool:
            found = await observed["billing"].store.read(
                sa.select(sa.func.count()).select_from(categories)
            )
            return int(found[0][0]) == HOUSEHOLDS

        await eventually(in_billing, "the households in billing", timeout=20)
        series: Series = {}

        async def settled() -> bool:
            nonlocal series
            series = await scrape(http)
            lag = pick(series, "homecare_consumer_lag") | pick(
                series, "homecare_consumer_ack_pending"
            )
            backlog = pick(series, "homecare_outbox_backlog")
            return set(lag.values()) == {0} and set(backlog.values()) == {0}

        await eventually(settled, "no lag, nothing unacknowledged, empty outboxes", timeout=20)
        assert one(series, "homecare_messages_in_total", **register, outcome="ok") == HOUSEHOLDS
        assert one(series, "homecare_messages_in_total", **register, outcome="dead_letter") == 0
        on_registered = {"service": "billing", "consumer": "billing_on_household_registered"}
        assert (
            one(series, "homecare_messages_in_total", **on_registered, outcome="ok") == HOUSEHOLDS
        )
        assert one(series, "homecare_handler_seconds_count", **register) == HOUSEHOLDS
        assert one(series, "homecare_handler_seconds_bucket", **register, le="+Inf") == HOUSEHOLDS
        assert one(series, "homecare_handler_seconds_sum", **register) > 0
        assert one(series, "homecare_messages_out_total", service="dispatch") >= HOUSEHOLDS
        lags = pick(series, "homecare_consumer_lag")
        assert len(lags) == sum(len(svc.consumers) for svc in observed.services)
        for name in CORE:
            assert one(series, "homecare_dead_letters", service=name) == 0

        # a poison command: dead-lettered at once
        await client.js.publish(
            subjects.REGISTER_HOUSEHOLD, b"\xff not json", headers={"Nats-Msg-Id": "poison-1"}
        )

        async def dead_lettered() -> bool:
            nonlocal series
            series = await scrape(http)
            return one(series, "homecare_dead_letters", service="dispatch") == 1

        await eventually(dead_lettered, "the dead letter counted", timeout=20)
        assert one(series, "homecare_messages_in_total", **register, outcome="dead_letter") == 1
        assert one(series, "homecare_dead_letters", service="billing") == 0

        health = await http.get("/health")
        assert health.status_code == 200, health.text
        report = health.json()
        assert report["status"] == "ok"
        assert set(report["services"]) == set(CORE)
        assert report["services"]["dispatch"] | {"instance": "-"} == {
            "status": "ok",
            "instance": "-",
            "started": True,
            "database": "ok",
            "nats": "connected",
            "outbox_backlog": 0,
            "dead_letters": 1,
        }
        assert (await http.get("/health/live")).status_code == 200

        # billing stops on its own: the process is no longer healthy
        await observed["billing"].stop()
        health = await http.get("/health")
        assert health.status_code == 503
        billing = health.json()["services"]["billing"]
        assert (billing["status"], billing["nats"], billing["started"]) == (
            "unavailable",
            "not connected",
            False,
        )
        assert health.json()["services"]["dispatch"]["status"] == "ok"
        down = await scrape(http)
        billing_up = one(
            down, "homecare_up", service="billing", instance=observed["billing"].instance
        )
        assert billing_up == 0
        assert set(pick(down, "homecare_consumer_lag", service="billing").values()) == {-1}
        assert (await http.get("/health/live")).status_code == 200

    await observed.stop()
    assert observed.metrics_address is None
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=address, timeout=5) as http:
            await http.get("/health/live")
