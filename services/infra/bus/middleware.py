"""Per-message plumbing, once for every subscriber: log context from the envelope headers,
and the decision after a failure (dead-letter now, retry later, or dead-letter after N)."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.exceptions import HandlerException, NackMessage

from services.infra.bus.poison import poison_reason
from services.infra.bus.store import MessageStore
from services.infra.logging import get_logger
from services.infra.metrics import DEAD_LETTER, OK, RETRY, counters_for

log = get_logger("homecare.consumer")


def retry_delay(deliveries: int) -> float:
    """Back off 0.5 s, 1 s, 2 s ... capped at 30 s, so a passing outage is waited out."""
    return float(min(0.5 * 2 ** min(max(deliveries - 1, 0), 6), 30.0))


def reliability_middleware(store: MessageStore, max_deliver: int) -> type[BaseMiddleware]:
    handled = counters_for(store).handled  # metrics: one dict update per message

    class ReliabilityMiddleware(BaseMiddleware):
        _tokens: Any = None
        _started = 0.0

        async def on_receive(self) -> None:
            self._started = time.perf_counter()
            headers = getattr(self.msg, "headers", None) or {}
            self._tokens = structlog.contextvars.bind_contextvars(
                service=store.producer,
                subject=getattr(self.msg, "subject", ""),
                correlation_id=headers.get("Homecare-Correlation-Id"),
                event_id=headers.get("Nats-Msg-Id"),
                event_type=headers.get("Homecare-Type"),
            )

        async def after_processed(
            self,
            exc_type: type[BaseException] | None = None,
            exc_val: BaseException | None = None,
            exc_tb: TracebackType | None = None,
        ) -> bool | None:
            outcome = RETRY
            try:
                if exc_val is None:
                    outcome = OK
                    log.debug("processed", ms=round((time.perf_counter() - self._started) * 1e3, 2))
                    return False
                if isinstance(exc_val, HandlerException | asyncio.CancelledError):
                    # NackMessage or a stop (handed back): delivered again; Ack/Reject: done
                    if not isinstance(exc_val, NackMessage | asyncio.CancelledError):
                        outcome = OK
                    return False
                dead_lettered = await self._failed(exc_val)
                if dead_lettered:
                    outcome = DEAD_LETTER
                return dead_lettered
            finally:
                msg: Any = self.msg
                reply = getattr(msg, "reply", None)
                if reply and reply.startswith("$JS.ACK."):  # core request/reply: not counted
                    handled(msg.metadata.consumer, outcome, time.perf_counter() - self._started)
                if self._tokens:
                    structlog.contextvars.reset_contextvars(**self._tokens)

        async def _failed(self, exc: BaseException) -> bool:
            msg: Any = self.msg
            metadata = _jetstream_metadata(msg)
            if metadata is None:  # core request/reply: the requester sees no reply and retries
                log.error("request handler failed", error=repr(exc))
                return False
            deliveries = metadata.num_delivered
            reason = poison_reason(exc, getattr(msg, "data", None))
            if reason is None and deliveries >= max_deliver:
                reason = f"failed {deliveries} deliveries, last error: {exc!r}"
            if reason is None:
                delay = retry_delay(deliveries)
                log.warning(
                    "handler failed; will retry",
                    error=repr(exc),
                    deliveries=deliveries,
                    retry_in=delay,
                )
                raise NackMessage(delay=delay) from exc
            try:
                dead_letter_id = await store.dead_letter(
                    consumer=metadata.consumer,
                    subject=msg.subject,
                    reason=reason,
                    data=msg.data,
                    headers=dict(msg.headers or {}),
                    deliveries=deliveries,
                    # bound from the envelope when it was valid, else from the headers
                    correlation_id=structlog.contextvars.get_contextvars().get("correlation_id"),
                )
            except Exception as store_error:  # keep the message; try again after a pause
                log.error("dead letter not stored; will retry", error=repr(store_error))
                raise NackMessage(delay=retry_delay(deliveries)) from store_error
            log.warning(
                "dead-lettered",
                reason=reason,
                dead_letter_id=dead_letter_id,
                consumer=metadata.consumer,
            )
            return True  # handled: the message is acknowledged and the consumer moves on

    return ReliabilityMiddleware


def _jetstream_metadata(msg: Any) -> Any:
    reply = getattr(msg, "reply", "") or ""
    if not reply.startswith("$JS.ACK."):
        return None
    return msg.metadata
