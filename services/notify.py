"""Notifiers: more ways to reach caregivers than their phone's bus subscription.

Every message for a caregiver is already on the bus (the HC_CARER stream, one subject tree per
caregiver). A deployment that also wants SMS or a chat app adds a notifier: a class with an
``async deliver(message)`` that sends one ``CarerMessage`` through its gateway. ``NotifierRunner``
reads every caregiver's messages through one durable consumer per notifier and hands each to
its notifier; a message is acknowledged only after it was delivered, and one that fails is
offered again after a pause, so a gateway outage delays messages but loses none.

``--via console`` (the default) prints each message; ``--via package.module:ClassName`` loads
a notifier class (constructed without arguments; read its settings from the environment)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from typing import Any, Protocol

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts import subjects
from services.carer import CarerMessage
from services.client import BusClient
from services.infra.logging import get_logger

log = get_logger("homecare.notify")
RETRY_SECONDS = 5.0


class Notifier(Protocol):
    name: str

    async def deliver(self, message: CarerMessage) -> None: ...


class ConsoleNotifier:
    """Prints each message (a station's terminal, or a log collector reading stdout)."""

    name = "console"

    async def deliver(self, message: CarerMessage) -> None:
        print(f"[{message.payload.get('caregiver_id', '?')}] {message.line()}", flush=True)


def load_notifier(spec: str) -> Notifier:
    """``console`` or ``package.module:ClassName``."""
    if spec == "console":
        return ConsoleNotifier()
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"{spec!r}: use console or package.module:ClassName")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{spec!r}: cannot load it ({exc})") from exc
    notifier: Notifier = cls()
    if not getattr(notifier, "name", None) or not hasattr(notifier, "deliver"):
        raise ValueError(f"{spec!r}: a notifier needs a name and an async deliver(message)")
    return notifier


class NotifierRunner:
    def __init__(self, client: BusClient, notifier: Notifier, batch: int = 50) -> None:
        self._client = client
        self.notifier = notifier
        self.durable = f"notifier_{notifier.name}"
        self._batch = batch
        self._sub: Any = None
        self.delivered = 0
        self.failed = 0

    async def open(self) -> NotifierRunner:
        await self._client.js.add_consumer(
            subjects.CARER_STREAM,
            ConsumerConfig(
                durable_name=self.durable,
                filter_subject=f"{subjects.ROOT}.carer.>",
                deliver_policy=DeliverPolicy.NEW,  # a new gateway starts from now on
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=60,
            ),
        )
        self._sub = await self._client.js.pull_subscribe_bind(
            self.durable, stream=subjects.CARER_STREAM
        )
        return self

    async def close(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def run_once(self, wait: float = 1.0) -> int:
        """Deliver what is waiting now; how many were delivered."""
        assert self._sub is not None, "open() first"
        try:
            batch = await self._sub.fetch(self._batch, timeout=wait)
        except (NatsTimeoutError, TimeoutError):
            return 0
        done = 0
        for msg in batch:
            message = CarerMessage.of(msg)
            try:
                await self.notifier.deliver(message)
            except Exception as exc:  # the gateway is down: offer it again later
                self.failed += 1
                log.warning(
                    "notifier failed; will retry",
                    notifier=self.notifier.name,
                    event_id=message.event_id,
                    error=repr(exc),
                )
                await msg.nak(delay=RETRY_SECONDS)
                continue
            await msg.ack()
            done += 1
        self.delivered += done
        return done

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_once()
