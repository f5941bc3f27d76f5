"""What every service is made of at run time: settings, clock, database with outbox/inbox,
a FastStream NATS broker with the reliability middleware, the outbox relay and a health
responder. Each service's app.py builds one of these (its composition root)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pydantic
import sqlalchemy as sa
import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from pydantic import BaseModel

from contracts.envelope import Envelope, Payload, envelope_of
from contracts.subjects import dlq_subject, health_subject, stream_for
from contracts.system.v1 import DeadLettered, HealthQuery, HealthReport
from services.infra.bus.compat import install_fetch_timeout_shim
from services.infra.bus.middleware import reliability_middleware
from services.infra.bus.poison import HandlerBug
from services.infra.bus.relay import OutboxRelay
from services.infra.bus.store import MessageStore, Tx
from services.infra.bus.streams import (
    DurableSpec,
    consumer_config,
    ensure_consumers,
    ensure_streams,
)
from services.infra.bus.tables import PlumbingTables
from services.infra.clock import Clock
from services.infra.db import create_engine_for, ensure_sqlite_dir, schema_for
from services.infra.logging import get_logger
from services.infra.migrate import upgrade_to_head
from services.infra.settings import Settings

# Only for building a broker to document it (AsyncAPI); start() refuses to run without a URL,
# so a service never connects to whatever server listens on the default port.
PLACEHOLDER_NATS = "nats://127.0.0.1:4222"


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
        self.engine = create_engine_for(url, name)
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
        self.consumers: list[str] = []
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
        handler: Callable[[Envelope[Any]], Any],
        *,
        durable: str,
        description: str,
        batch: int = 50,
    ) -> None:
        """A durable JetStream pull consumer (shared by every instance of this service)."""
        name = f"{self.name}_{durable}"
        self.consumers.append(name)
        self._durables.append(DurableSpec(stream_for(subject).name, name, subject))
        model = envelope_of(payload)

        async def subscriber(message: Any) -> None:
            bind_envelope(message)
            try:
                await handler(message)
            except pydantic.ValidationError as exc:
                raise HandlerBug(f"{name}: {exc}") from exc

        subscriber.__annotations__ = {"message": model, "return": None}  # what FastStream validates
        subscriber.__name__ = name
        self.broker.subscriber(
            subject,
            stream=JStream(stream_for(subject).name, declare=False),
            durable=name,
            pull_sub=PullSub(batch_size=batch, timeout=1.0),
            config=consumer_config(self.settings.ack_wait_seconds),
            title=name,  # AsyncAPI 3 keys allow letters, digits, . - _ only
            description=description,
        )(subscriber)

    def once(
        self, consumer: str, handler: Callable[[Tx, Any], Awaitable[None]]
    ) -> Callable[[Envelope[Any]], Awaitable[None]]:
        """Wrap a use case ``handler(tx, payload)`` so it runs at most once per event id."""
        inbox_name = f"{self.name}.{consumer}"

        async def run(message: Envelope[Any]) -> None:
            await self.store.process_once(
                inbox_name, message, lambda tx: handler(tx, message.payload)
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
        await ensure_streams(js)
        await ensure_consumers(js, self._durables, self.settings.ack_wait_seconds)
        await self.broker.start()
        self.relay = OutboxRelay(self.store, js, batch=self.settings.relay_batch)
        self.relay.start()
        self.started_at = self.clock.now()
        self.log.info("service started", instance=self.instance, consumers=self.consumers)

    async def stop(self) -> None:
        """Graceful: subscribers stop after their in-flight messages (unacknowledged ones are
        redelivered later), the relay publishes what the outbox holds, then the connection
        drains. Whatever the relay could not send stays in the outbox for the next start."""
        for subscriber in self.broker.subscribers:
            try:
                await subscriber.stop()
            except Exception as exc:  # a lost connection: the server forgets the interest anyway
                self.log.warning("subscriber did not stop cleanly", error=repr(exc))
        if self.relay:
            await self.relay.stop()
        try:
            await self.broker.stop()
        except Exception as exc:
            self.log.warning("connection did not drain cleanly", error=repr(exc))
        await self.engine.dispose()
        self.log.info("service stopped", instance=self.instance)

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
