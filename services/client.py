"""A small bus client for the CLI, the demo and tests: send commands, ask queries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from pydantic import BaseModel

from contracts.envelope import Envelope, Payload, headers_for
from contracts.subjects import health_subject
from contracts.system.v1 import HealthQuery, HealthReport

R = TypeVar("R", bound=BaseModel)


class BusClient:
    def __init__(self, nc: Client, producer: str) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.producer = producer

    @classmethod
    async def connect(cls, servers: list[str] | str, producer: str = "cli", **kw: Any) -> BusClient:
        """``servers``: a list, or one string with URLs comma separated (HOMECARE_NATS_URL)."""
        if isinstance(servers, str):
            servers = [url.strip() for url in servers.split(",") if url.strip()]
        options: dict[str, Any] = {
            "connect_timeout": 3,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.5,
            "name": producer,
        }
        options.update(kw)
        return cls(await nats.connect(servers, **options), producer)

    @classmethod
    async def connect_once(cls, servers: list[str], producer: str) -> BusClient:
        """For a command line tool: one quiet attempt at each server, then an error, instead
        of retrying for ever (nats-py treats max_reconnect_attempts=0 as unlimited)."""
        return await cls.connect(
            servers,
            producer=producer,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            error_cb=_quiet,
        )

    async def close(self) -> None:
        if self.nc.is_closed:
            return
        if self.nc.is_connected:
            await self.nc.drain()
        else:  # reconnecting: nothing can drain; just let go
            await self.nc.close()

    async def __aenter__(self) -> BusClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def envelope(
        self, payload: Payload, correlation_id: str | None = None, event_id: str | None = None
    ) -> Envelope[Any]:
        return Envelope.wrap(
            payload, producer=self.producer, correlation_id=correlation_id, event_id=event_id
        )

    async def send(
        self,
        subject: str,
        payload: Payload,
        correlation_id: str | None = None,
        event_id: str | None = None,
    ) -> Envelope[Any]:
        """Publish a command to JetStream; returns once the stream has stored it."""
        env = self.envelope(payload, correlation_id, event_id)
        await self.js.publish(subject, env.to_json(), headers=headers_for(env))
        return env

    async def send_many(
        self,
        items: list[tuple[str, Payload]],
        correlation_id: str | None = None,
        timeout: float = 10.0,
    ) -> list[Envelope[Any]]:
        """Publish many commands with up to a few thousand in flight; all stored on return.

        Raises TimeoutError when the acknowledgements do not all arrive within ``timeout``
        (a connection lost mid-batch drops them). Sending again is safe: receivers are
        idempotent on their business keys."""
        envs, futures = [], []
        for subject, payload in items:
            env = self.envelope(payload, correlation_id)
            envs.append(env)
            futures.append(
                await self.js.publish_async(subject, env.to_json(), headers=headers_for(env))
            )
        async with asyncio.timeout(timeout):
            await asyncio.gather(*futures)
        return envs

    async def caught_up(self, stream: str, consumer: str) -> bool:
        """True when a durable consumer has nothing pending and nothing unacknowledged."""
        info = await self.js.consumer_info(stream, consumer)
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def command(
        self, subject: str, payload: Payload, answers: list[str], timeout: float = 10.0
    ) -> tuple[str, dict[str, Any]]:
        """Send a command and wait for the first event it caused on one of ``answers``
        (matched by correlation id): (subject, payload). TimeoutError when none comes."""
        correlation_id = uuid.uuid4().hex
        first: asyncio.Future[tuple[str, dict[str, Any]]] = (
            asyncio.get_running_loop().create_future()
        )

        async def seen(msg: Any) -> None:
            mine = (msg.headers or {}).get("Homecare-Correlation-Id") == correlation_id
            if mine and not first.done():
                first.set_result((msg.subject, json.loads(msg.data)["payload"]))

        subs = [await self.nc.subscribe(s, cb=seen) for s in answers]
        try:
            await self.nc.flush()
            await self.send(subject, payload, correlation_id=correlation_id)
            async with asyncio.timeout(timeout):
                return await first
        finally:
            for sub in subs:
                await sub.unsubscribe()

    async def ask(self, subject: str, payload: Payload, reply: type[R], timeout: float = 5.0) -> R:
        env = self.envelope(payload)
        msg = await self.nc.request(
            subject, env.to_json(), timeout=timeout, headers=headers_for(env)
        )
        return reply.model_validate_json(msg.data)

    async def health(self, service: str, timeout: float = 2.0) -> HealthReport:
        return await self.ask(health_subject(service), HealthQuery(), HealthReport, timeout)

    async def health_of_instances(
        self, service: str, timeout: float = 2.0, linger: float = 0.3
    ) -> list[HealthReport]:
        """Every running instance of ``service`` answers: their reports, gathered until
        ``linger`` seconds pass without another (or ``timeout`` without any)."""
        inbox = self.nc.new_inbox()
        reports: list[HealthReport] = []
        arrived = asyncio.Event()

        async def answered(msg: Any) -> None:
            with contextlib.suppress(ValueError):  # not a report: ignore it
                reports.append(HealthReport.model_validate_json(msg.data))
                arrived.set()

        sub = await self.nc.subscribe(inbox, cb=answered)
        try:
            env = self.envelope(HealthQuery())
            await self.nc.publish(
                health_subject(service), env.to_json(), reply=inbox, headers=headers_for(env)
            )
            wait = timeout
            while True:
                try:
                    await asyncio.wait_for(arrived.wait(), wait)
                except TimeoutError:
                    break
                arrived.clear()
                wait = linger
        finally:
            await sub.unsubscribe()
        return sorted(reports, key=lambda r: r.instance)


async def _quiet(_error: Exception) -> None:
    """Connection errors reach the caller as an exception, not as logged tracebacks."""


async def ask_once(
    servers: list[str], name: str, subject: str, query: Payload, reply: type[R]
) -> R:
    """For a command line tool: connect, ask one question, go."""
    async with await BusClient.connect_once(servers, name) as client:
        return await client.ask(subject, query, reply)


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60.0) -> None:
    """Poll a condition held elsewhere (a consumer's state on the server, a service's answer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)
