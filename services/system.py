"""The services in one process (``homecare up`` and the demo): dispatch, scheduling and
billing by default, and the web console when named; with ``HOMECARE_METRICS_PORT`` set, one
``/metrics`` and ``/health`` endpoint for all of them (docs/observability.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from services.billing import app as billing_app
from services.console import app as console_app
from services.dispatch import app as dispatch_app
from services.infra.clock import Clock
from services.infra.logging import get_logger
from services.infra.metrics import MetricsServer, SystemMetrics
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling import app as scheduling_app

BUILDERS: dict[str, Callable[[Settings, Clock], Service]] = {
    "dispatch": dispatch_app.build,
    "scheduling": scheduling_app.build,
    "billing": billing_app.build,
    "console": console_app.build,
}
CORE = ("dispatch", "scheduling", "billing")


def build_services(
    settings: Settings,
    clock: Clock,
    names: tuple[str, ...] | None = None,
    nats_urls: Mapping[str, str] | None = None,
) -> list[Service]:
    """``nats_urls``: a service's own NATS URL (its credentials), else the settings' one."""
    urls = nats_urls or {}
    return [
        BUILDERS[n](
            settings.model_copy(update={"nats_url": urls[n]}) if n in urls else settings, clock
        )
        for n in (names or CORE)
    ]


# Stopping normally takes a second or two; longer means something waits (a fetch, a drain).
SLOW_STOP_SECONDS = 15.0
log = get_logger("homecare.system")


async def _report_slow_stop(after: float) -> None:
    """Log what every task is waiting on when a stop takes longer than ``after`` seconds."""
    await asyncio.sleep(after)
    me = asyncio.current_task()
    waiting = []
    for task in asyncio.all_tasks():
        if task is me or task.done():
            continue
        frames = task.get_stack(limit=3)
        where = [f"{f.f_code.co_filename}:{f.f_lineno} {f.f_code.co_name}" for f in frames]
        waiting.append({"task": task.get_name(), "at": where})
    log.warning("stopping is slow; still waiting", seconds=after, tasks=waiting)


class System:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        names: tuple[str, ...] | None = None,
        nats_urls: Mapping[str, str] | None = None,
    ):
        self.settings = settings
        self.services = build_services(settings, clock, names, nats_urls)
        self.metrics = SystemMetrics(self.services)
        self.metrics_server: MetricsServer | None = None

    def __getitem__(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    @property
    def metrics_address(self) -> str | None:
        """``http://host:port`` of the metrics and health endpoint while it runs."""
        return self.metrics_server.address if self.metrics_server else None

    async def start(self) -> None:
        """The endpoint first: /health/live answers (and /health says 503) while the
        services migrate and connect."""
        if self.settings.metrics_port is not None:
            server = MetricsServer(
                self.metrics, self.settings.metrics_host, self.settings.metrics_port
            )
            await server.start()
            self.metrics_server = server
            log.info(
                "metrics endpoint listening",
                address=server.address,
                metrics=f"{server.address}/metrics",
                health=f"{server.address}/health",
            )
        try:
            for svc in self.services:
                await svc.start()
        except BaseException:
            await self._stop_metrics()
            raise
        self.metrics.started = True

    async def stop(self) -> None:
        """Every service stops consuming before any relay sends its last events, so those
        events wait in their streams for the next start instead of landing in the last,
        expiring pull requests of a service that is going away."""
        watchdog = asyncio.create_task(_report_slow_stop(SLOW_STOP_SECONDS))
        self.metrics.started = False  # /health: 503 from now on
        try:
            await asyncio.gather(*(svc.stop_consuming() for svc in self.services))
            for svc in reversed(self.services):
                if svc.relay:
                    await svc.relay.stop()
            for svc in reversed(self.services):
                await svc.disconnect()
        finally:
            watchdog.cancel()
            await self._stop_metrics()

    async def _stop_metrics(self) -> None:
        if self.metrics_server is not None:
            await self.metrics_server.stop()
            self.metrics_server = None

    async def migrate(self) -> None:
        for svc in self.services:
            await svc.migrate()
            await svc.engine.dispose()
