"""JetStream streams and consumer settings, declared in code and applied idempotently."""

from __future__ import annotations

from dataclasses import dataclass

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


async def ensure_streams(js: JetStreamContext, replicas: int = 1) -> None:
    """Create each stream, or bring an existing one up to the declared config."""
    for spec in STREAMS:
        config = stream_config(spec, replicas)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


@dataclass(frozen=True)
class DurableSpec:
    stream: str
    durable: str
    subject: str


async def ensure_consumers(
    js: JetStreamContext, durables: list[DurableSpec], ack_wait: float
) -> None:
    """Create each durable consumer, or update it to the declared config (so a changed
    HOMECARE_ACK_WAIT_SECONDS takes effect on the next start)."""
    for spec in durables:
        config = consumer_config(ack_wait)
        config.durable_name = spec.durable
        config.filter_subject = spec.subject
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
