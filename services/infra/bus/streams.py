"""JetStream streams and consumer settings, declared in code and applied idempotently."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Any

import nats
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from contracts.subjects import STREAMS, StreamSpec

DUPLICATE_WINDOW_SECONDS = 120.0  # the outbox relay's retries land inside it
MAX_AGE_SECONDS = 90 * 24 * 3600.0  # a quarter: enough to rebuild a month's projections


def stream_config(spec: StreamSpec, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=MAX_AGE_SECONDS,
    )


async def ensure_streams(js: JetStreamContext, replicas: int = 1) -> list[str]:
    """Create each stream, or bring an existing one up to the declared config; returns what
    was done to each, e.g. ``"HC_DISPATCH: created (R3)"``. A stream already as declared is
    left alone: on a cluster every update is a round of the meta group, and every instance
    of every service declares the streams when it starts."""
    done = []
    for spec in STREAMS:
        config = stream_config(spec, replicas)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
            done.append(f"{spec.name}: created (R{replicas})")
            continue
        if _differs(info.config, config, STREAM_FIELDS):
            await js.update_stream(config)
            done.append(f"{spec.name}: updated (R{replicas})")
        else:
            done.append(f"{spec.name}: up to date (R{replicas})")
    return done


STREAM_FIELDS = (
    "subjects",
    "description",
    "retention",
    "storage",
    "num_replicas",
    "duplicate_window",
    "max_age",
)
CONSUMER_FIELDS = (
    "filter_subject",
    "ack_policy",
    "ack_wait",
    "max_deliver",
    "deliver_policy",
    "max_ack_pending",
)


def _differs(current: Any, wanted: Any, fields: tuple[str, ...]) -> bool:
    def norm(value: Any) -> Any:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, list):
            return sorted(value)
        if isinstance(value, float | int) and not isinstance(value, bool):
            return round(float(value), 3)  # durations come back from the server as floats
        return value

    return any(norm(getattr(current, name, None)) != norm(getattr(wanted, name)) for name in fields)


@dataclass(frozen=True)
class DurableSpec:
    stream: str
    durable: str
    subject: str


async def ensure_consumers(
    js: JetStreamContext, durables: list[DurableSpec], ack_wait: float
) -> None:
    """Create each durable consumer, or update it to the declared config (so a changed
    HOMECARE_ACK_WAIT_SECONDS takes effect on the next start); one already as declared is
    left alone."""
    for spec in durables:
        config = consumer_config(ack_wait)
        config.durable_name = spec.durable
        config.filter_subject = spec.subject
        try:
            info = await js.consumer_info(spec.stream, spec.durable)
        except NotFoundError:
            pass
        else:
            if not _differs(info.config, config, CONSUMER_FIELDS):
                continue
        await js.add_consumer(spec.stream, config)


def consumer_config(ack_wait: float) -> ConsumerConfig:
    # max_deliver is unlimited on the server on purpose: the middleware dead-letters after
    # HOMECARE_MAX_DELIVER attempts, and if storing the dead letter fails the message must
    # come back rather than be dropped by the server.
    return ConsumerConfig(
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=-1,
        deliver_policy=DeliverPolicy.ALL,
        max_ack_pending=1000,
    )


async def apply_definitions(
    servers: list[str],
    durables: list[DurableSpec],
    replicas: int,
    ack_wait: float,
    connect_timeout: float = 10.0,
) -> list[str]:
    """What ``homecare migrate`` does on the bus: every stream with ``replicas`` copies and
    every durable consumer of the services, created or brought up to the declared config
    (services do the same at start; running it first means a new cluster is ready before any
    service, and the operator sees what changed). Returns one line per stream and consumer."""
    nc = await nats.connect(
        servers, connect_timeout=connect_timeout, max_reconnect_attempts=2, allow_reconnect=True
    )
    try:
        js = nc.jetstream()
        done = await ensure_streams(js, replicas)
        await ensure_consumers(js, durables, ack_wait)
        per_stream = Counter(spec.stream for spec in durables)
        done += [f"{stream}: {n} durable consumers declared" for stream, n in per_stream.items()]
        return done
    finally:
        await nc.close()
