"""What every service is made of at run time: settings, clock, database with outbox/inbox,
a FastStream NATS broker with the reliability middleware, the outbox relay and a health
responder. Each service's app.py builds one of these (its composition root)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import nats.errors
import pydantic
import sqlalchemy as sa
import structlog
from faststream import AckPolicy
from faststream._internal.endpoint.subscriber.mixins import TasksMixin
from faststream.nats import JStream, NatsBroker, PullSub
from pydantic import BaseModel

from contracts.envelope import Envelope, Payload, envelope_of
from contracts.subjects import dlq_subject, health_subject, stream_for
from contracts.system.v1 import DeadLettered, HealthQuery, HealthReport
from services.infra.bus.compat import install_fetch_timeout_shim
from services.infra.bus.middleware import reliability_middleware
from services.infra.bus.poison import HandlerBug
from services.infra.bus.relay import OutboxRelay
from services.infra.bus.store import GroupWork, MessageStore, Tx
from services.infra.bus.streams import (
    DurableSpec,
    consumer_config,
    ensure_consumers,
    ensure_streams,
)
from services.infra.bus.tables import PlumbingTables
from services.infra.clock import Clock
from services.infra.db import create_engine_for, ensure_sqlite_dir, schema_for
from services.infra.jobs import Job, JobRunner
from services.infra.logging import get_logger
from services.infra.migrate import upgrade_to_head
from services.infra.settings import Settings

# How long a pull loop waits for messages before asking again (also bounds a graceful stop).
FETCH_TIMEOUT = 0.5
# A message handed back at stop is redelivered after this delay: by then the stopping
# service's last pull requests (which live up to FETCH_TIMEOUT) have expired, so it goes to
# another instance or to this one after its restart, not back into a request nobody reads.
HAND_BACK_DELAY = FETCH_TIMEOUT + 0.5

# Only for building a broker to document it (AsyncAPI); start() refuses to run without a URL,
# so a service never connects to whatever server listens on the default port.
PLACEHOLDER_NATS = "nats://127.0.0.1:4222"


class Worker(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


class Service:
    def __init__(
        self,
        name: str,
        settings: Settings,
        clock: Clock,
        metadata: sa.MetaData,
        tables: PlumbingTables,
        migrations: Path,
    ) -> None:
        self.name = name
        self.settings = settings
        self.clock = clock
        self.metadata = metadata
        self.migrations = migrations
        self.instance = f"{socket.gethostname()}-{os.getpid()}-{name}"
        self.log = get_logger(f"homecare.{name}")
        url = settings.database_url_for(name)
        self.database_url = url
        self.engine = create_engine_for(
            url, name, settings.database_pool_size, settings.database_max_overflow
        )
        self.store = MessageStore(self.engine, tables, producer=name, clock=clock)
        install_fetch_timeout_shim()
        self.broker = NatsBroker(
            settings.nats_servers() if settings.nats_url else [PLACEHOLDER_NATS],
            name=f"homecare-{name}",
            middlewares=[reliability_middleware(self.store, settings.max_deliver)],
            ack_policy=AckPolicy.NACK_ON_ERROR,
            logger=logging.getLogger(f"faststream.{name}"),
            log_level=logging.DEBUG,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            graceful_timeout=settings.ack_wait_seconds,
            description=f"homecare {name} service",
        )
        self.relay: OutboxRelay | None = None
        self.jobs: JobRunner | None = None
        self.workers: list[Worker] = []
        self._scheduled: list[Job] = []
        self._job_runs: sa.Table | None = None
        self.consumers: list[str] = []
        # subject → the payload its consumer takes (for documentation and the poison tests)
        self.subscribed: dict[str, type[Payload]] = {}
        self._durables: list[DurableSpec] = []
        self.started_at: datetime | None = None
        self.rpc(
            health_subject(name), HealthQuery, HealthReport, self._health, "Health of this service"
        )
        self.emits(
            dlq_subject(name),
            DeadLettered,
            "A message this service gave up on, with the reason (see dead_letters)",
        )

    # -- registration (before start) -------------------------------------------------

    def consume(
        self,
        subject: str,
        payload: type[Payload],
        handler: Callable[..., Any],
        *,
        durable: str,
        description: str,
        batch: int = 50,
        with_subject: bool = False,
    ) -> None:
        """A durable JetStream pull consumer (shared by every instance of this service).
        ``handler(envelope)``, or with ``with_subject`` ``handler(envelope, subject)``: the
        subject the message was published on (``subject`` may be a wildcard pattern)."""
        name = f"{self.name}_{durable}"
        self.consumers.append(name)
        self.subscribed[subject] = payload
        self._durables.append(DurableSpec(stream_for(subject).name, name, subject))
        model = envelope_of(payload)

        async def subscriber(message: Any) -> None:
            bind_envelope(message)
            try:
                if with_subject:
                    await handler(message, self._delivered_subject())
                else:
                    await handler(message)
            except pydantic.ValidationError as exc:
                raise HandlerBug(f"{name}: {exc}") from exc

        subscriber.__annotations__ = {"message": model, "return": None}  # what FastStream validates
        subscriber.__name__ = name
        pull = self.broker.subscriber(
            subject,
            stream=JStream(stream_for(subject).name, declare=False),
            durable=name,
            pull_sub=PullSub(batch_size=batch, timeout=FETCH_TIMEOUT),
            config=consumer_config(self.settings.ack_wait_seconds),
            title=name,  # AsyncAPI 3 keys allow letters, digits, . - _ only
            description=description,
        )
        pull(subscriber)
        _hand_back_when_stopping(pull)

    @property
    def durables(self) -> list[DurableSpec]:
        """This service's durable consumers (``homecare migrate`` declares them too)."""
        return list(self._durables)

    def _delivered_subject(self) -> str:
        """The subject of the message being handled (FastStream keeps it in its context)."""
        current = self.broker.context.get_local("message")
        return str(current.raw_message.subject)

    def once(
        self,
        consumer: str,
        handler: Callable[[Tx, Any], Awaitable[None]],
        many: Callable[[list[tuple[Tx, Any]]], Awaitable[None]] | None = None,
    ) -> Callable[[Envelope[Any]], Awaitable[None]]:
        """Wrap a use case ``handler(tx, payload)`` so it runs at most once per event id.
        ``many``: the same use case for several messages handled together (one Tx each, in
        arrival order), when reading for all of them at once is cheaper."""
        inbox_name = f"{self.name}.{consumer}"
        group_work: GroupWork | None = None
        if many is not None:
            run_many = many

            async def group_work(txs: list[Tx]) -> None:
                await run_many([(tx, tx.cause.payload if tx.cause else None) for tx in txs])

        async def run(message: Envelope[Any]) -> None:
            await self.store.process_once(
                inbox_name, message, lambda tx: handler(tx, message.payload), group_work
            )

        return run

    def rpc(
        self,
        subject: str,
        payload: type[Payload],
        reply: type[BaseModel],
        handler: Callable[[Envelope[Any]], Awaitable[BaseModel]],
        description: str,
    ) -> None:
        """A core request/reply responder (not stored: a query, not a fact)."""
        model = envelope_of(payload)

        async def responder(message: Any) -> Any:
            bind_envelope(message)
            return await handler(message)

        responder.__annotations__ = {"message": model, "return": reply}
        responder.__name__ = f"{self.name}_{payload.TYPE}"
        self.broker.subscriber(
            subject, title=f"{self.name}_answers_{payload.TYPE}", description=description
        )(responder)

    def schedule(self, job: Job, runs: sa.Table) -> None:
        """A job on the service clock, run once per fire time across instances (``runs``:
        this service's job_runs table, see infra/jobs.py)."""
        self._scheduled.append(job)
        self._job_runs = runs

    def background(self, worker: Worker) -> None:
        """Work of this service's own (not a message handler): started with the service,
        stopped with its consumers."""
        self.workers.append(worker)

    async def publish_core(self, subject: str, data: bytes) -> None:
        """A core NATS message, not stored (progress notes and the like)."""
        await self.broker.connection.publish(subject, data)

    def emits(self, subject: str, payload: type[Payload], description: str) -> None:
        """Document an event this service publishes (through the outbox) in AsyncAPI."""
        self.broker.publisher(
            subject,
            schema=envelope_of(payload),
            title=f"{self.name}_publishes_{payload.TYPE}",
            description=description,
            include_in_schema=True,
        )

    # -- life cycle ---------------------------------------------------------------------

    async def migrate(self) -> None:
        ensure_sqlite_dir(self.database_url)
        await upgrade_to_head(
            self.engine, self.migrations, schema_for(self.database_url, self.name)
        )

    async def start(self) -> None:
        if not self.settings.nats_url:
            raise RuntimeError(f"{self.name}: no NATS URL (HOMECARE_NATS_URL) to connect to")
        await self.migrate()
        await self.broker.connect()
        js = self.broker.connection.jetstream()
        await self._declare_bus()
        await self.broker.start()
        self.relay = OutboxRelay(self.store, js, batch=self.settings.relay_batch)
        self.relay.start()
        if self._scheduled:
            assert self._job_runs is not None
            self.jobs = JobRunner(
                self.store,
                self._job_runs,
                self._scheduled,
                self.instance,
                self.settings.job_tick_seconds,
            )
            self.jobs.start()
        for worker in self.workers:
            worker.start()
        self.started_at = self.clock.now()
        self.log.info("service started", instance=self.instance, consumers=self.consumers)

    async def _declare_bus(self, patience: float = 120.0) -> None:
        """Streams and this service's durable consumers, as declared in code. A cluster
        that is electing leaders, or busy with other instances declaring the same, answers
        late or not at all for a while: try again with back-off instead of failing."""
        # the meta leader of a busy cluster takes longer than a publish to answer
        js = self.broker.connection.jetstream(timeout=15)
        deadline = asyncio.get_running_loop().time() + patience
        delay = 0.5
        while True:
            try:
                await ensure_streams(js, self.settings.stream_replicas)
                await ensure_consumers(js, self._durables, self.settings.ack_wait_seconds)
                return
            except (nats.errors.Error, TimeoutError) as exc:
                if asyncio.get_running_loop().time() + delay > deadline:
                    raise
                self.log.warning(
                    "declaring streams and consumers failed; trying again",
                    error=repr(exc),
                    retry_in=delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def stop(self) -> None:
        """Graceful: stop consuming (in-flight messages finish), the relay publishes what the
        outbox holds, then the connection drains. Whatever the relay could not send stays in
        the outbox for the next start."""
        await self.stop_consuming()
        if self.relay:
            await self.relay.stop()
        await self.disconnect()

    async def stop_consuming(self) -> None:
        """No new jobs or fetches; what the last fetches brought is handled or handed back."""
        if self.jobs:
            await self.jobs.stop()
        for worker in self.workers:
            await worker.stop()
        await self._finish_fetches()

    async def disconnect(self) -> None:
        """After ``stop_consuming`` and the relay: hand back whatever arrived meanwhile for
        an expiring pull request, then close subscriptions and connection."""
        with contextlib.suppress(Exception):
            await self.broker.connection.flush(timeout=2)
        for subscriber in self.broker.subscribers:
            await _hand_back_unfetched(subscriber)
            try:
                await subscriber.stop()
            except Exception as exc:  # a lost connection: the server forgets the interest anyway
                self.log.warning("subscriber did not stop cleanly", error=repr(exc))
        try:
            await self.broker.stop()
        except Exception as exc:
            self.log.warning("connection did not drain cleanly", error=repr(exc))
        await self.engine.dispose()
        self.log.info("service stopped", instance=self.instance)

    async def _finish_fetches(self) -> None:
        """Let each pull loop finish the fetch it is waiting on and handle what it brings,
        instead of cancelling it: messages the server already handed over to a cancelled
        fetch would wait out the whole ack wait before being delivered again."""
        loops: list[asyncio.Task[Any]] = []
        for subscriber in self.broker.subscribers:
            if isinstance(subscriber, TasksMixin):
                subscriber.running = False
                loops.extend(t for t in subscriber.tasks if not t.done())
        if loops:
            await asyncio.wait(loops, timeout=FETCH_TIMEOUT + self.settings.ack_wait_seconds)

    async def _health(self, _query: Envelope[Any]) -> HealthReport:
        started = self.started_at or self.clock.now()
        try:
            backlog = await self.store.outbox_backlog()
            dead = await self.store.dead_letter_count()
            db_state = "ok"
        except Exception as exc:
            backlog, dead, db_state = -1, -1, f"error: {exc!r}"[:200]
        return HealthReport(
            service=self.name,
            instance=self.instance,
            status="ok" if db_state == "ok" else "degraded",
            started_at=started,
            uptime_seconds=round((self.clock.now() - started).total_seconds(), 3),
            database=db_state,
            outbox_backlog=backlog,
            dead_letters=dead,
            consumers=self.consumers,
        )


def bind_envelope(message: Envelope[Any]) -> None:
    """Log context from the envelope itself: the headers carry the same ids, but a client
    following only the published schemas may not send them. The middleware resets these
    keys when the message is done."""
    structlog.contextvars.bind_contextvars(
        correlation_id=message.correlation_id,
        event_id=message.event_id,
        event_type=message.type,
    )


def _hand_back_when_stopping(subscriber: Any) -> None:
    """FastStream drops a fetched message without an answer once its subscriber is stopping,
    and JetStream then holds it for the whole ack wait. Answer it with a NAK instead, so it
    is delivered again soon (see HAND_BACK_DELAY)."""
    consume = subscriber.consume

    async def consume_or_hand_back(msg: Any) -> Any:
        if not subscriber.running:
            with contextlib.suppress(Exception):  # a closed connection: the ack wait decides
                await msg.nak(delay=HAND_BACK_DELAY)
            return None
        return await consume(msg)

    subscriber.consume = consume_or_hand_back


async def _hand_back_unfetched(subscriber: Any) -> None:
    """Messages the server sent for a pull request after its fetch returned wait in the
    subscription's queue for the next fetch, which will not come: hand them back."""
    queue = getattr(
        getattr(getattr(subscriber, "subscription", None), "_sub", None), "_pending_queue", None
    )
    while queue is not None and not queue.empty():
        msg = queue.get_nowait()
        if msg.data and msg.reply:  # status messages (no data, no reply) need no answer
            with contextlib.suppress(Exception):
                await msg.nak(delay=HAND_BACK_DELAY)
