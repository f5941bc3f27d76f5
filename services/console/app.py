"""Console composition root: its own service on the bus (users, audit log and an outbox for
the commands it sends) with the web server as a background worker."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from services.console.core import Console
from services.console.refusals import REFUSALS, record_refusal
from services.console.store import metadata, plumbing
from services.console.web import create_app
from services.infra.clock import Clock
from services.infra.runtime import Service
from services.infra.settings import Settings

NAME = "console"


class _QuietServer(uvicorn.Server):
    """Uvicorn without its own signal handlers: the process that runs the services decides
    when to stop (``homecare up`` stops everything gracefully on Ctrl-C)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """Uvicorn in the service's event loop, on a socket bound at start (port 0: a free one,
    so ``address`` is known before the first request)."""

    def __init__(self, console: Console, host: str, port: int) -> None:
        self.console = console
        self.host, self.port = host, port
        self.address: str | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[Any] | None = None

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        host, port = sock.getsockname()[:2]
        self.address = f"http://{host}:{port}"
        config = uvicorn.Config(
            create_app(self.console),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._serve(sock), name="console-web")

    async def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        await self.console.live.start(self.console.svc.broker.connection)
        self.console.svc.log.info("console listening", address=self.address)
        await self._server.serve(sockets=[sock])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            # live pages hold their event streams open: let them go at once
            self._server.force_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, timeout=5)
        await self.console.live.stop()


def build(settings: Settings, clock: Clock) -> Service:
    svc = Service(NAME, settings, clock, metadata, plumbing, Path(__file__).parent / "migrations")
    for subject, event, durable in REFUSALS:
        svc.consume(
            subject,
            event,
            svc.once(durable, record_refusal),
            durable=durable,
            description="A command a console user sent was refused: tell them why",
        )
    console = Console(svc)
    web = WebServer(console, settings.console_host, settings.console_port)
    svc.background(web)
    svc.console = console  # type: ignore[attr-defined]
    svc.web = web  # type: ignore[attr-defined]
    return svc


def console_of(svc: Service) -> Console:
    console: Console = svc.console  # type: ignore[attr-defined]
    return console


def web_of(svc: Service) -> WebServer:
    web: WebServer = svc.web  # type: ignore[attr-defined]
    return web
