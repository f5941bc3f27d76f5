"""The metrics' pure parts: counting, the exposition text, the middleware's outcomes, the
health verdict and the HTTP endpoint, on fake services (no NATS, no database)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from faststream.exceptions import NackMessage
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from services.infra import metrics
from services.infra.bus.middleware import reliability_middleware
from services.infra.bus.poison import PoisonMessage
from services.infra.bus.streams import DurableSpec
from services.infra.metrics import (
    BUCKETS,
    METRIC_NAMES,
    MetricsServer,
    ServiceCounters,
    ServiceState,
    SystemMetrics,
    counters_for,
    families,
)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(series name, labels) -> value of a Prometheus text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text)[(name, frozenset(labels.items()))]


class _Families(Collector):
    def __init__(self, made: Any) -> None:
        self.made = list(made)

    def collect(self) -> Any:
        return iter(self.made)


def exposition(*args: Any) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families(*args)))
    return generate_latest(registry).decode()


# -- counting and exposition -----------------------------------------------------------------


def test_counters_count_by_consumer_and_outcome_and_bucket_latency() -> None:
    c = ServiceCounters()
    c.handled("billing_on_visit", "ok", 0.003)
    c.handled("billing_on_visit", "ok", 0.005)  # exactly on a bound: that bucket (le)
    c.handled("billing_on_visit", "retry", 0.2)
    c.handled("billing_on_x", "dead_letter", 99.0)  # above every bound: +Inf
    c.published(3)
    c.published(2)
    text = exposition([("billing", c, ["billing_on_visit"])], [])
    on_visit = {"service": "billing", "consumer": "billing_on_visit"}
    assert value(text, "homecare_messages_in_total", **on_visit, outcome="ok") == 2
    assert value(text, "homecare_messages_in_total", **on_visit, outcome="retry") == 1
    assert value(text, "homecare_messages_in_total", **on_visit, outcome="dead_letter") == 0
    on_x = {"service": "billing", "consumer": "billing_on_x"}
    assert value(text, "homecare_messages_in_total", **on_x, outcome="dead_letter") == 1
    assert value(text, "homecare_messages_out_total", service="billing") == 5
    assert value(text, "homecare_handler_seconds_bucket", **on_visit, le="0.0025") == 0
    assert value(text, "homecare_handler_seconds_bucket", **on_visit, le="0.005") == 2
    assert value(text, "homecare_handler_seconds_bucket", **on_visit, le="0.25") == 3
    assert value(text, "homecare_handler_seconds_bucket", **on_visit, le="+Inf") == 3
    assert value(text, "homecare_handler_seconds_count", **on_visit) == 3
    assert value(text, "homecare_handler_seconds_sum", **on_visit) == pytest.approx(0.208)
    assert value(text, "homecare_handler_seconds_bucket", **on_x, le="30.0") == 0
    assert value(text, "homecare_handler_seconds_bucket", **on_x, le="+Inf") == 1


def test_known_consumers_are_exposed_with_zeros_before_their_first_message() -> None:
    text = exposition([("dispatch", ServiceCounters(), ["dispatch_on_a"])], [])
    labels = {"service": "dispatch", "consumer": "dispatch_on_a"}
    for outcome in ("ok", "retry", "dead_letter"):
        assert value(text, "homecare_messages_in_total", **labels, outcome=outcome) == 0
    assert value(text, "homecare_handler_seconds_count", **labels) == 0
    assert value(text, "homecare_handler_seconds_bucket", **labels, le="+Inf") == 0
    assert value(text, "homecare_messages_out_total", service="dispatch") == 0


def test_gauges_from_the_states_read_with_minus_one_when_not_read() -> None:
    states = [
        ServiceState(
            "dispatch",
            "host-1-dispatch",
            started=True,
            nats="connected",
            outbox_backlog=4,
            dead_letters=1,
            consumers={"dispatch_on_a": (7, 2), "dispatch_on_b": (-1, -1)},
        ),
        ServiceState("billing", "host-1-billing", started=False, nats="closed"),
    ]
    text = exposition([], states)
    assert value(text, "homecare_outbox_backlog", service="dispatch") == 4
    assert value(text, "homecare_dead_letters", service="dispatch") == 1
    assert value(text, "homecare_consumer_lag", service="dispatch", consumer="dispatch_on_a") == 7
    on_a = {"service": "dispatch", "consumer": "dispatch_on_a"}
    assert value(text, "homecare_consumer_ack_pending", **on_a) == 2
    assert value(text, "homecare_consumer_lag", service="dispatch", consumer="dispatch_on_b") == -1
    assert value(text, "homecare_outbox_backlog", service="billing") == -1
    assert value(text, "homecare_dead_letters", service="billing") == -1
    assert value(text, "homecare_up", service="dispatch", instance="host-1-dispatch") == 1
    assert value(text, "homecare_up", service="billing", instance="host-1-billing") == 0


def test_every_exposed_series_is_a_declared_name() -> None:
    c = ServiceCounters()
    c.handled("s_on_a", "ok", 0.01)
    state = ServiceState("s", "i", True, "connected", "ok", 0, 0, {"s_on_a": (0, 0)})
    names = {name for name, _ in samples(exposition([("s", c, ["s_on_a"])], [state]))}
    assert names == METRIC_NAMES
    assert sorted(BUCKETS) == list(BUCKETS)


def test_each_store_has_its_own_counters() -> None:
    first, second = FakeStore(), FakeStore()
    assert counters_for(first) is counters_for(first)  # type: ignore[arg-type]
    assert counters_for(first) is not counters_for(second)  # type: ignore[arg-type]


# -- the middleware's outcomes ---------------------------------------------------------------


class FakeStore:
    producer = "billing"

    def __init__(self) -> None:
        self.dead: list[dict[str, Any]] = []

    async def dead_letter(self, **fields: Any) -> int:
        self.dead.append(fields)
        return len(self.dead)


def js_msg(consumer: str = "billing_on_visit", delivered: int = 1) -> Any:
    msg = SimpleNamespace(
        subject="scheduling.evt.visit_completed.v1",
        reply=f"$JS.ACK.HC_SCHEDULING.{consumer}.{delivered}.10.10.1700000000000000000.0",
        data=b"{}",
        headers={},
    )
    msg.metadata = SimpleNamespace(consumer=consumer, num_delivered=delivered)
    return msg


async def run_middleware(store: FakeStore, msg: Any, exc: BaseException | None) -> Any:
    middleware = reliability_middleware(store, max_deliver=3)(msg, context=None)  # type: ignore[arg-type]
    await middleware.on_receive()
    return await middleware.after_processed(type(exc) if exc else None, exc, None)


async def test_middleware_counts_ok_retry_and_dead_letter() -> None:
    store = FakeStore()
    await run_middleware(store, js_msg(), None)
    with pytest.raises(NackMessage):
        await run_middleware(store, js_msg(), RuntimeError("database down"))
    assert await run_middleware(store, js_msg(), PoisonMessage("bad")) is True
    assert await run_middleware(store, js_msg(delivered=3), RuntimeError("again")) is True
    assert len(store.dead) == 2
    counts = counters_for(store).messages_in  # type: ignore[arg-type]
    assert counts == {
        ("billing_on_visit", "ok"): 1,
        ("billing_on_visit", "retry"): 1,
        ("billing_on_visit", "dead_letter"): 2,
    }
    assert sum(counters_for(store).hist_counts["billing_on_visit"]) == 4  # type: ignore[arg-type]


async def test_middleware_does_not_count_core_requests() -> None:
    store = FakeStore()
    request = SimpleNamespace(subject="homecare.health.billing", reply="_INBOX.abc", headers={})
    await run_middleware(store, request, None)
    await run_middleware(store, request, RuntimeError("boom"))
    assert counters_for(store).messages_in == {}  # type: ignore[arg-type]


# -- health and the endpoint, on fake services -----------------------------------------------


class FakeServiceStore:
    def __init__(self, backlog: int = 0, dead: int = 0, fail: bool = False, hang: bool = False):
        self.backlog, self.dead, self.fail, self.hang = backlog, dead, fail, hang

    async def outbox_backlog(self) -> int:
        if self.hang:
            await asyncio.sleep(60)
        if self.fail:
            raise ConnectionError("database unreachable")
        return self.backlog

    async def dead_letter_count(self) -> int:
        return self.dead


class FakeJetStream:
    async def consumer_info(self, stream: str, durable: str) -> Any:
        if durable.endswith("_broken"):
            raise TimeoutError
        return SimpleNamespace(num_pending=5, num_ack_pending=1)


class FakeConnection:
    def __init__(self, state: str) -> None:
        self.is_connected = state == "connected"
        self.is_closed = state == "closed"

    def jetstream(self) -> FakeJetStream:
        return FakeJetStream()


class StoppedBroker:
    @property
    def connection(self) -> Any:
        raise RuntimeError("Connection is not available yet. Please, connect the broker first.")


def fake_service(name: str, nats: str = "connected", **store: Any) -> Any:
    broker = (
        StoppedBroker()
        if nats == "not connected"
        else SimpleNamespace(connection=FakeConnection(nats))
    )
    return SimpleNamespace(
        name=name,
        instance=f"host-1-{name}",
        started_at=datetime(2026, 11, 1, tzinfo=UTC),
        store=FakeServiceStore(**store),
        broker=broker,
        consumers=[f"{name}_on_a", f"{name}_broken"],
        durables=[
            DurableSpec("HC_X", f"{name}_on_a", "x.a"),
            DurableSpec("HC_X", f"{name}_broken", "x.b"),
        ],
    )


async def test_health_is_ok_only_when_every_service_is_started_and_connected() -> None:
    system = SystemMetrics([fake_service("dispatch", backlog=2), fake_service("billing", dead=1)])
    status, body = await system.health()
    assert status == 503  # the System has not said it started
    system.started = True
    status, body = await system.health()
    assert status == 200
    assert body["status"] == "ok"
    assert body["services"]["dispatch"] == {
        "status": "ok",
        "instance": "host-1-dispatch",
        "started": True,
        "database": "ok",
        "nats": "connected",
        "outbox_backlog": 2,
        "dead_letters": 0,
    }
    assert body["services"]["billing"]["dead_letters"] == 1


@pytest.mark.parametrize(
    ("service", "why"),
    [
        (fake_service("billing", nats="closed"), {"nats": "closed", "started": False}),
        (
            fake_service("billing", nats="not connected"),
            {"nats": "not connected", "started": False},
        ),
        (fake_service("billing", nats="reconnecting"), {"nats": "reconnecting", "started": True}),
        (fake_service("billing", fail=True), {"dead_letters": -1, "outbox_backlog": -1}),
    ],
)
async def test_health_is_503_when_one_service_is_not_well(
    service: Any, why: dict[str, Any]
) -> None:
    system = SystemMetrics([fake_service("dispatch"), service])
    system.started = True
    status, body = await system.health()
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["services"]["dispatch"]["status"] == "ok"
    assert body["services"]["billing"]["status"] == "unavailable"
    assert why.items() <= body["services"]["billing"].items()


async def test_a_service_not_started_yet_is_not_read() -> None:
    starting = fake_service("billing", nats="not connected")
    starting.started_at = None
    starting.store = FakeServiceStore(fail=True)  # the database is not migrated yet
    system = SystemMetrics([fake_service("dispatch"), starting])
    system.started = True
    status, body = await system.health()
    assert status == 503
    assert body["services"]["billing"] | {"instance": "-"} == {
        "status": "unavailable",
        "instance": "-",
        "started": False,
        "database": "not started",
        "nats": "not connected",
        "outbox_backlog": -1,
        "dead_letters": -1,
    }
    text = (await system.exposition()).decode()
    assert value(text, "homecare_consumer_lag", service="billing", consumer="billing_on_a") == -1


async def test_a_gauge_that_cannot_be_read_is_minus_one_and_the_scrape_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(metrics, "DB_TIMEOUT", 0.05)
    system = SystemMetrics([fake_service("dispatch", hang=True), fake_service("billing")])
    system.started = True
    text = (await system.exposition()).decode()
    assert value(text, "homecare_outbox_backlog", service="dispatch") == -1
    assert value(text, "homecare_outbox_backlog", service="billing") == 0
    assert value(text, "homecare_consumer_lag", service="billing", consumer="billing_on_a") == 5
    broken = {"service": "billing", "consumer": "billing_broken"}
    assert value(text, "homecare_consumer_lag", **broken) == -1
    assert value(text, "homecare_consumer_ack_pending", **broken) == -1


async def test_two_systems_with_the_same_services_in_one_process() -> None:
    first = SystemMetrics([fake_service("dispatch")])
    second = SystemMetrics([fake_service("dispatch")])
    counters_for(first.services[0].store).handled("dispatch_on_a", "ok", 0.01)
    text = (await second.exposition()).decode()
    on_a = {"service": "dispatch", "consumer": "dispatch_on_a", "outcome": "ok"}
    assert value(text, "homecare_messages_in_total", **on_a) == 0
    assert value((await first.exposition()).decode(), "homecare_messages_in_total", **on_a) == 1


async def test_the_endpoint_routes() -> None:
    system = SystemMetrics([fake_service("dispatch")])
    system.started = True
    server = MetricsServer(system, "127.0.0.1", 0)
    await server.start()
    try:
        assert server.address == f"http://127.0.0.1:{server.port}"
        assert server.port != 0
        async with httpx.AsyncClient(base_url=server.address, timeout=5) as http:
            scraped = await http.get("/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain; version=")
            assert value(
                scraped.text, "homecare_up", service="dispatch", instance="host-1-dispatch"
            )
            health = await http.get("/health")
            assert (health.status_code, health.json()["status"]) == (200, "ok")
            assert (await http.get("/health/live")).json() == {"status": "ok"}
            assert (await http.get("/nothing")).status_code == 404
            assert (await http.post("/metrics")).status_code == 405
            head = await http.head("/health/live")
            assert (head.status_code, head.content) == (200, b"")
            system.started = False
            assert (await http.get("/health")).status_code == 503
            assert (await http.get("/health/live")).status_code == 200
        # garbage is not answered, and does not take the endpoint down
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"\x00\x01 nonsense\r\n\r\n")
        await writer.drain()
        assert await reader.read() == b""
        writer.close()
        async with httpx.AsyncClient(base_url=server.address, timeout=5) as http:
            assert (await http.get("/health/live")).status_code == 200
    finally:
        await server.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            await http.get("/health/live")
