"""Prometheus metrics and health of the services of one process (docs/observability.md).

Two halves:

- **Counting** on the hot paths (the consumer middleware, the outbox relay): each service's
  ``MessageStore`` has one ``ServiceCounters`` (``counters_for(store)``), plain dicts and ints
  that cost a dictionary update per message. No prometheus_client objects, no global registry:
  a process may hold any number of services, even several of the same name (tests, two
  instances), and each keeps its own.
- **Reading**, at scrape time: ``SystemMetrics`` (one per ``System``) turns those counters into
  metric families, and reads the gauges that need I/O (database counts, JetStream
  ``consumer_info``) concurrently, each with a short timeout. A gauge that cannot be read is
  reported as -1 and logged; it never fails the scrape.

``MetricsServer`` serves ``/metrics``, ``/health`` and ``/health/live`` over a minimal
asyncio HTTP/1.1 server (GET and HEAD, one request per connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from bisect import bisect_left
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from services.infra.logging import get_logger

if TYPE_CHECKING:
    from services.infra.bus.store import MessageStore
    from services.infra.runtime import Service

log = get_logger("homecare.metrics")

# -- names (docs/observability.md, deploy/grafana/homecare-dashboard.json) ----------------

MESSAGES_IN = "homecare_messages_in_total"
MESSAGES_OUT = "homecare_messages_out_total"
HANDLER_SECONDS = "homecare_handler_seconds"
DEAD_LETTERS = "homecare_dead_letters"
CONSUMER_LAG = "homecare_consumer_lag"
CONSUMER_ACK_PENDING = "homecare_consumer_ack_pending"
OUTBOX_BACKLOG = "homecare_outbox_backlog"
UP = "homecare_up"

# Every series name the endpoint exposes (a histogram adds _bucket, _sum and _count).
METRIC_NAMES: frozenset[str] = frozenset(
    {
        MESSAGES_IN,
        MESSAGES_OUT,
        f"{HANDLER_SECONDS}_bucket",
        f"{HANDLER_SECONDS}_sum",
        f"{HANDLER_SECONDS}_count",
        DEAD_LETTERS,
        CONSUMER_LAG,
        CONSUMER_ACK_PENDING,
        OUTBOX_BACKLOG,
        UP,
    }
)

OK, RETRY, DEAD_LETTER = "ok", "retry", "dead_letter"
OUTCOMES = (OK, RETRY, DEAD_LETTER)

# Handler latency buckets (seconds): a handler is one database transaction, usually a few ms.
BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

# Each I/O read at scrape time gives up after this long (the gauge is then -1).
DB_TIMEOUT = 2.0
NATS_TIMEOUT = 1.0
UNKNOWN = -1


# -- counting --------------------------------------------------------------------------------


class ServiceCounters:
    """The counters of one service (one ``MessageStore``). Not thread-safe: everything runs
    on the event loop."""

    __slots__ = ("__weakref__", "hist_counts", "hist_sums", "messages_in", "messages_out")

    def __init__(self) -> None:
        self.messages_in: dict[tuple[str, str], int] = {}  # (consumer, outcome) -> count
        self.messages_out = 0
        # consumer -> count per bucket (not cumulative; the last one is +Inf), and sum
        self.hist_counts: dict[str, list[int]] = {}
        self.hist_sums: dict[str, float] = {}

    def handled(self, consumer: str, outcome: str, seconds: float) -> None:
        """One message handled by ``consumer`` with ``outcome``, in ``seconds``."""
        key = (consumer, outcome)
        counts = self.messages_in
        counts[key] = counts.get(key, 0) + 1
        buckets = self.hist_counts.get(consumer)
        if buckets is None:
            buckets = self.hist_counts[consumer] = [0] * (len(BUCKETS) + 1)
            self.hist_sums[consumer] = 0.0
        buckets[bisect_left(BUCKETS, seconds)] += 1
        self.hist_sums[consumer] += seconds

    def published(self, n: int) -> None:
        self.messages_out += n


_COUNTERS: weakref.WeakKeyDictionary[Any, ServiceCounters] = weakref.WeakKeyDictionary()


def counters_for(store: MessageStore) -> ServiceCounters:
    """The counters of the service that owns ``store`` (made on first use)."""
    counters = _COUNTERS.get(store)
    if counters is None:
        counters = _COUNTERS[store] = ServiceCounters()
    return counters


# -- reading ---------------------------------------------------------------------------------


@dataclass
class ServiceState:
    """What one scrape or health check read about one service."""

    service: str
    instance: str
    started: bool
    nats: str  # connected | reconnecting | closed | not connected
    database: str = "ok"  # ok | not started | error: ...
    outbox_backlog: int = UNKNOWN
    dead_letters: int = UNKNOWN
    # consumer -> (num_pending, num_ack_pending); -1 when not read
    consumers: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.started and self.database == "ok" and self.nats == "connected"

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "unavailable",
            "instance": self.instance,
            "started": self.started,
            "database": self.database,
            "nats": self.nats,
            "outbox_backlog": self.outbox_backlog,
            "dead_letters": self.dead_letters,
        }


def nats_state(svc: Service) -> str:
    try:
        nc = svc.broker.connection
    except Exception:  # FastStream: not connected yet, or stopped
        return "not connected"
    if nc.is_closed:
        return "closed"
    if nc.is_connected:
        return "connected"
    return "reconnecting"


async def _within(seconds: float, work: Awaitable[Any]) -> Any:
    async with asyncio.timeout(seconds):
        return await work


async def _read_database(svc: Service, state: ServiceState) -> None:
    try:
        state.outbox_backlog, state.dead_letters = await _within(
            DB_TIMEOUT,
            asyncio.gather(svc.store.outbox_backlog(), svc.store.dead_letter_count()),
        )
    except Exception as exc:
        state.outbox_backlog = state.dead_letters = UNKNOWN
        state.database = f"error: {exc!r}"[:200]
        log.warning("metrics: database not read", service=svc.name, error=repr(exc))


async def _read_consumers(svc: Service, state: ServiceState) -> None:
    durables = svc.durables  # the consumers this service declared
    state.consumers = {d.durable: (UNKNOWN, UNKNOWN) for d in durables}
    if state.nats != "connected" or not durables:
        return
    js = svc.broker.connection.jetstream()
    failed: dict[str, str] = {}

    async def one(stream: str, durable: str) -> None:
        try:
            info = await _within(NATS_TIMEOUT, js.consumer_info(stream, durable))
            state.consumers[durable] = (int(info.num_pending or 0), int(info.num_ack_pending or 0))
        except Exception as exc:
            failed[durable] = repr(exc)

    await asyncio.gather(*(one(d.stream, d.durable) for d in durables))
    if failed:  # one line per scrape, not one per consumer
        log.warning("metrics: consumers not read", service=svc.name, errors=failed)


async def read_state(svc: Service, started: bool, consumers: bool = True) -> ServiceState:
    """Read one service's state; never raises (what cannot be read is -1 / an error)."""
    state = ServiceState(
        service=svc.name,
        instance=svc.instance,
        started=started and svc.started_at is not None,
        nats=nats_state(svc),
    )
    if svc.started_at is None:  # still migrating or connecting: leave the database alone
        state.database = "not started"
        state.consumers = {d.durable: (UNKNOWN, UNKNOWN) for d in svc.durables}
        return state
    work = [_read_database(svc, state)]
    if consumers:
        work.append(_read_consumers(svc, state))
    await asyncio.gather(*work)
    if state.nats in ("closed", "not connected"):
        state.started = False  # stopped on its own (Service.stop), or its connection gave up
    return state


def families(
    counters: Sequence[tuple[str, ServiceCounters, Iterable[str]]],
    states: Sequence[ServiceState],
) -> Iterator[Metric]:
    """Metric families from each service's (name, counters, consumer names) and the states
    read for this scrape. Known consumers appear with zeros before their first message."""
    msgs_in = CounterMetricFamily(
        MESSAGES_IN,
        "Messages handled by a JetStream consumer, by outcome (ok, retry, dead_letter).",
        labels=["service", "consumer", "outcome"],
    )
    msgs_out = CounterMetricFamily(
        MESSAGES_OUT,
        "Events the outbox relay published (acknowledged by JetStream).",
        labels=["service"],
    )
    latency = HistogramMetricFamily(
        HANDLER_SECONDS,
        "Time from receiving a message to its outcome (handler and inbox transaction).",
        labels=["service", "consumer"],
    )
    bounds = [_le(b) for b in BUCKETS] + ["+Inf"]
    for service, c, consumers in counters:
        known = dict.fromkeys(consumers)
        known.update(dict.fromkeys(c.hist_counts))
        known.update(dict.fromkeys(consumer for consumer, _ in c.messages_in))
        for consumer in known:
            for outcome in OUTCOMES:
                msgs_in.add_metric(
                    [service, consumer, outcome], c.messages_in.get((consumer, outcome), 0)
                )
            counts = c.hist_counts.get(consumer) or [0] * (len(BUCKETS) + 1)
            cumulative, running = [], 0
            for le, n in zip(bounds, counts, strict=True):
                running += n
                cumulative.append((le, float(running)))
            latency.add_metric(
                [service, consumer], cumulative, sum_value=c.hist_sums.get(consumer, 0.0)
            )
        msgs_out.add_metric([service], c.messages_out)
    yield msgs_in
    yield msgs_out
    yield latency

    dead = GaugeMetricFamily(
        DEAD_LETTERS, "Rows in the service's dead_letters table (-1: not read).", labels=["service"]
    )
    backlog = GaugeMetricFamily(
        OUTBOX_BACKLOG,
        "Events committed to the outbox, not yet published (-1: not read).",
        labels=["service"],
    )
    lag = GaugeMetricFamily(
        CONSUMER_LAG,
        "Messages in the stream not yet delivered to the durable consumer (-1: not read).",
        labels=["service", "consumer"],
    )
    ack_pending = GaugeMetricFamily(
        CONSUMER_ACK_PENDING,
        "Messages delivered to the durable consumer, not yet acknowledged (-1: not read).",
        labels=["service", "consumer"],
    )
    up = GaugeMetricFamily(
        UP,
        "1 while the service is started (and its NATS connection not closed).",
        labels=["service", "instance"],
    )
    for s in states:
        dead.add_metric([s.service], s.dead_letters)
        backlog.add_metric([s.service], s.outbox_backlog)
        for consumer, (pending, acks) in s.consumers.items():
            lag.add_metric([s.service, consumer], pending)
            ack_pending.add_metric([s.service, consumer], acks)
        up.add_metric([s.service, s.instance], 1 if s.started else 0)
    yield from (dead, backlog, lag, ack_pending, up)


def _le(bound: float) -> str:
    return repr(float(bound))


class SystemMetrics(Collector):
    """The collector of one ``System``: its services' counters, plus the gauges read by the
    last ``refresh()`` (the endpoint refreshes right before each exposition)."""

    def __init__(self, services: Sequence[Service]) -> None:
        self.services = list(services)
        self.started = False  # set by the System between start and stop
        self._states: list[ServiceState] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    async def read(self, consumers: bool = True) -> list[ServiceState]:
        return list(
            await asyncio.gather(*(read_state(s, self.started, consumers) for s in self.services))
        )

    async def refresh(self) -> None:
        self._states = await self.read()

    def collect(self) -> Iterator[Metric]:
        counters = [(s.name, counters_for(s.store), s.consumers) for s in self.services]
        return families(counters, self._states)

    async def exposition(self) -> bytes:
        await self.refresh()
        return generate_latest(self.registry)

    async def health(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body): 503 when any service is not started, cannot reach its
        database or is not connected to NATS."""
        states = await self.read(consumers=False)
        ok = all(s.healthy for s in states)
        return (200 if ok else 503), {
            "status": "ok" if ok else "unavailable",
            "services": {s.service: s.as_json() for s in states},
        }


# -- the endpoint ----------------------------------------------------------------------------

REQUEST_TIMEOUT = 5.0
MAX_REQUEST_LINE = 8192
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
REASONS |= {500: "Internal Server Error", 503: "Service Unavailable"}


class MetricsServer:
    """``GET /metrics``, ``/health`` and ``/health/live`` for one ``SystemMetrics``."""

    def __init__(self, metrics: SystemMetrics, host: str, port: int) -> None:
        self.metrics = metrics
        self.host, self.port = host, port
        self.address: str | None = None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, limit=MAX_REQUEST_LINE
        )
        host, port = self._server.sockets[0].getsockname()[:2]
        self.port = port
        self.address = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), timeout=2)
        self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                method, path = await _read_request(reader)
                status, content_type, body = await self.respond(method, path)
                head = (
                    f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                    f"Content-Type: {content_type}\r\n"
                    f"Content-Length: {len(body)}\r\n"
                    "Cache-Control: no-store\r\n"
                    "Connection: close\r\n\r\n"
                ).encode("ascii")
                writer.write(head if method == "HEAD" else head + body)
                await writer.drain()
        except (
            TimeoutError,
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
        ):
            pass  # a client that went away or sent garbage: nothing to answer
        except asyncio.CancelledError:
            pass  # the endpoint is stopping
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), timeout=1)
            if task is not None:
                self._handlers.discard(task)

    async def respond(self, method: str, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for one request."""
        if method not in ("GET", "HEAD"):
            return 405, "text/plain; charset=utf-8", b"GET only\n"
        route = path.split("?", 1)[0]
        try:
            if route == "/metrics":
                return 200, CONTENT_TYPE_LATEST, await self.metrics.exposition()
            if route == "/health":
                status, body = await self.metrics.health()
                return status, "application/json", json.dumps(body).encode()
            if route == "/health/live":
                return 200, "application/json", b'{"status": "ok"}'
        except Exception as exc:
            log.error("metrics endpoint failed", path=route, error=repr(exc))
            return 500, "text/plain; charset=utf-8", b"internal error\n"
        return 404, "text/plain; charset=utf-8", b"not found: /metrics, /health, /health/live\n"


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    """The method and path of one HTTP/1.x request (its headers are read and ignored)."""
    line = await reader.readuntil(b"\n")
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError("not an HTTP request line")
    for _ in range(100):  # headers, up to the empty line
        if (await reader.readuntil(b"\n")).strip() == b"":
            return parts[0].upper(), parts[1]
    raise ValueError("too many headers")
