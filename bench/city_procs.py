"""Process harness for bench/city.py: a NATS cluster (or one server), a scratch PostgreSQL
database, and the services as `homecare run <service>` subprocesses, several instances each
(the ideas of tests/chaos.py's Cluster, which bench cannot import)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from contracts.envelope import headers_for
from contracts.subjects import health_subject
from contracts.system.v1 import HealthQuery, HealthReport
from services.client import BusClient
from services.infra import nats_server
from services.infra.clock import AcceleratedClock
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.system import BUILDERS, CORE

HOMECARE = str(Path(sys.executable).parent / "homecare")
STOP_TIMEOUT_SECONDS = 30.0


class Nats:
    """A NatsCluster of ``nodes`` servers (streams with as many replicas, at most 3), or one
    NatsServer; every write synced to disk before it is acknowledged, as deploy/ runs it."""

    def __init__(self, root: Path, nodes: int) -> None:
        self.clustered = nodes > 1
        self.nodes = nodes
        self.replicas = min(self.nodes, 3)
        self.server: nats_server.NatsCluster | nats_server.NatsServer = (
            nats_server.NatsCluster(root, size=nodes, sync_always=True)
            if self.clustered
            else nats_server.NatsServer(root / "nats", sync_always=True)
        )

    @property
    def url(self) -> str:
        """Every node, comma separated (HOMECARE_NATS_URL)."""
        return str(self.server.url)

    @property
    def urls(self) -> list[str]:
        return [u.strip() for u in self.url.split(",")]

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def pids(self) -> list[int]:
        nodes = self.server.nodes if self.clustered else [self.server]
        return [n.process.pid for n in nodes if n.process is not None]

    def describe(self) -> str:
        if self.clustered:
            return f"NATS cluster of {self.nodes} nodes, streams R{self.replicas}"
        return "one nats-server (no NatsCluster available), streams R1"


class ScratchDatabase:
    """A fresh PostgreSQL database beside the one ``base_url`` names; dropped at the end."""

    def __init__(self, base_url: str, name: str) -> None:
        head, _, _ = base_url.rpartition("/")
        self.base_url = base_url
        self.name = name
        self.url = f"{head}/{name}"

    @contextlib.asynccontextmanager
    async def _connection(self, url: str) -> AsyncIterator[asyncpg.Connection]:
        """A plain asyncpg connection to ``url`` (the base database or the scratch one)."""
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            yield conn
        finally:
            await conn.close()

    async def create(self) -> None:
        async with self._connection(self.base_url) as conn:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{self.name}"')

    async def stats(self) -> dict[str, int]:
        """Sessions opened and transactions committed in the database so far (what the
        services' connection pools and transactions cost PostgreSQL)."""
        async with self._connection(self.base_url) as conn:
            row = await conn.fetchrow(
                "SELECT sessions, xact_commit FROM pg_stat_database WHERE datname = $1",
                self.name,
            )
        return {"pg_sessions": int(row["sessions"]), "pg_commits": int(row["xact_commit"])}

    async def autovacuum(self) -> bool:
        """Whether the server runs autovacuum (a development server may have it off)."""
        async with self._connection(self.base_url) as conn:
            return str(await conn.fetchval("SHOW autovacuum")) == "on"

    async def vacuum_analyze(self) -> None:
        """What autovacuum does: dead outbox and inbox rows cleared, and the planner's
        statistics brought up to date (without them it plans for the empty tables of the
        start, with sequential scans that grow with the city)."""
        async with self._connection(self.url) as conn:
            await conn.execute("VACUUM (ANALYZE)")

    async def drop(self) -> None:
        async with self._connection(self.base_url) as conn:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def vm_field(pid: int, field: str) -> int | None:
    """A field of /proc/<pid>/status in bytes (VmHWM: the peak resident size)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class ServiceProcesses:
    """``instances`` `homecare run` processes of each core service, sharing one environment."""

    def __init__(
        self,
        root: Path,
        nats_url: str,
        database_url: str,
        replicas: int,
        clock_start: datetime,
        instances: int,
    ) -> None:
        self.root = root
        self.nats_url = nats_url
        self.database_url = database_url
        self.replicas = replicas
        self.clock_start = clock_start
        self.wall_start = time.time()
        self.instances = instances
        self.procs: dict[str, list[asyncio.subprocess.Process]] = {n: [] for n in CORE}

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOMECARE_")}
        env.update(
            HOMECARE_NATS_URL=self.nats_url,
            HOMECARE_DATABASE_URL=self.database_url,
            HOMECARE_STREAM_REPLICAS=str(self.replicas),
            HOMECARE_VAR_DIR=str(self.root / "var"),
            # simulated time at normal speed from 08:00 the day before the generated day: no
            # scheduled job (evening shifts at 18:00, missed visits of D) fires during the run
            HOMECARE_CLOCK_START=self.clock_start.isoformat(),
            HOMECARE_CLOCK_WALL_START=repr(self.wall_start),
            HOMECARE_CLOCK_SPEED="1.0",
            HOMECARE_LOG_FORMAT="json",
            HOMECARE_LOG_LEVEL="WARNING",
            # 12 connections kept per process and none opened beyond (a connection past the
            # pool is closed after use: a new session every few messages): two instances of
            # three services stay within a default PostgreSQL's 100 connections, beside the
            # benchmark's own readers
            HOMECARE_DATABASE_POOL_SIZE="12",
            HOMECARE_DATABASE_MAX_OVERFLOW="0",
        )
        return env

    def settings(self) -> Settings:
        return Settings(
            nats_url=self.nats_url,
            var_dir=self.root / "var",
            database_url=self.database_url,
            stream_replicas=self.replicas,
            _env_file=None,  # type: ignore[call-arg]
        )

    def clock(self) -> AcceleratedClock:
        return AcceleratedClock(self.clock_start, self.wall_start, 1.0)

    def readers(self) -> dict[str, Service]:
        """Each service's database, read directly (not started: no bus, no jobs)."""
        return {name: BUILDERS[name](self.settings(), self.clock()) for name in CORE}

    async def migrate(self) -> None:
        """`homecare migrate`: every schema, stream and durable consumer, once, before the
        instances start (so two instances do not race to create them)."""
        log = self.root / "migrate.log"
        with open(log, "ab") as out:  # noqa: ASYNC230 - a small local file
            proc = await asyncio.create_subprocess_exec(
                HOMECARE, "migrate", env=self.env(), stdout=out, stderr=out
            )
            if await proc.wait() != 0:
                raise RuntimeError(f"homecare migrate failed; see {log}")

    async def start(self) -> None:
        for name in CORE:
            for i in range(self.instances):
                log = open(self.root / f"{name}-{i}.log", "ab")  # noqa: SIM115, ASYNC230
                self.procs[name].append(
                    await asyncio.create_subprocess_exec(
                        HOMECARE, "run", name, env=self.env(), stdout=log, stderr=log
                    )
                )

    def check_alive(self) -> None:
        for name, procs in self.procs.items():
            for i, proc in enumerate(procs):
                if proc.returncode is not None:
                    raise RuntimeError(
                        f"{name} instance {i} exited with {proc.returncode}; "
                        f"see {self.root / f'{name}-{i}.log'}"
                    )

    def pids(self) -> list[int]:
        return [p.pid for procs in self.procs.values() for p in procs]

    def peak_memory(self) -> dict[str, list[int | None]]:
        """VmHWM of each instance, by service."""
        return {
            name: [vm_field(p.pid, "VmHWM") for p in procs] for name, procs in self.procs.items()
        }

    async def stop(self) -> None:
        everyone = [p for procs in self.procs.values() for p in procs]
        for proc in everyone:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc in everyone:
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()


async def quiet(client: BusClient, dbs: dict[str, Service]) -> bool:
    """Every durable consumer has everything acknowledged and every outbox is empty."""
    try:
        for svc in dbs.values():
            for durable in svc._durables:
                if not await client.caught_up(durable.stream, durable.durable):
                    return False
            if await svc.store.outbox_backlog():
                return False
    except Exception:  # a consumer not made yet, a node away
        return False
    return True


async def instances_up(client: BusClient, service: str, window: float = 0.5) -> set[str]:
    """The instances of ``service`` that answer a health query within ``window`` seconds
    (each running instance answers the same request)."""
    env = client.envelope(HealthQuery())
    inbox = client.nc.new_inbox()
    seen: set[str] = set()

    async def answered(msg: Any) -> None:
        with contextlib.suppress(ValueError):
            seen.add(HealthReport.model_validate_json(msg.data).instance)

    sub = await client.nc.subscribe(inbox, cb=answered)
    try:
        await client.nc.publish(
            health_subject(service), env.to_json(), reply=inbox, headers=headers_for(env)
        )
        await asyncio.sleep(window)
    finally:
        await sub.unsubscribe()
    return seen


async def all_up(client: BusClient, instances: int) -> bool:
    for name in CORE:
        if len(await instances_up(client, name)) < instances:
            return False
    return True


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.25)
