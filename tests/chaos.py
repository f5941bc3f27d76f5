"""A fault run: the three services as separate processes (`homecare run`) on accelerated
simulated time, a simulated street driven through days of care while a harness SIGKILLs and
restarts the services at random moments and restarts the nats-server; then every effect is
compared with what the simulation sent (see tests/integration/test_chaos.py, `make chaos`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from builders import caregiver, household, request

from contracts import subjects
from contracts.billing.runs_v1 import RunBilling
from contracts.envelope import Envelope, Payload, headers_for
from contracts.scheduling.v1 import CompleteVisit
from services.billing.engine import compute
from services.billing.model import CategoryFrom
from services.billing.policy_file import load_policy_schedule
from services.billing.running import totals_of
from services.billing.store import billing_revisions, billing_runs
from services.billing.store import visits as billing_visits
from services.client import BusClient
from services.dispatch.store import assignments, care_requests
from services.infra.clock import AcceleratedClock
from services.infra.nats_server import NatsCluster, NatsServer, free_port
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling.store import job_runs as scheduling_job_runs
from services.scheduling.store import shifts
from services.scheduling.store import visits as scheduling_visits
from services.system import BUILDERS, CORE

HOMECARE = str(Path(sys.executable).parent / "homecare")
SHANGHAI = ZoneInfo("Asia/Shanghai")
CATEGORIES = ("A", "B", "C", "D")


@dataclass
class ChaosPlan:
    days: int = 2  # days of care, from the month's first
    households: int = 24
    service_kills: int = 3
    nats_restarts: int = 2
    day_seconds: float = 8.0  # wall seconds per simulated day
    seed: int = 7
    month: str = "2026-11"
    nats_nodes: int = 1  # 3: a JetStream cluster with every stream on all three (R3)
    instances: int = 1  # processes per service (each kill hits one instance)
    node_stops: int = 0  # on a cluster: a node killed, then brought back after a while
    # simulated time stands still this long after the start: a slow start (a busy machine,
    # many processes) would otherwise eat the day and a half enrolment and matching get
    startup_seconds: float = 14.0


@dataclass
class ChaosReport:
    sent: Counter[str] = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    totals: dict[str, str] = field(default_factory=dict)
    expected_totals: dict[str, str] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)  # stream -> copies, at the end

    def lines(self) -> list[str]:
        return [
            f"events sent: {sum(self.sent.values())} ({dict(self.sent)})",
            f"faults injected: {len(self.faults)} ({', '.join(self.faults)})",
            f"found: {self.found}",
            f"lost: {sum(self.lost.values())} {self.lost}",
            f"duplicated: {sum(self.duplicated.values())} {self.duplicated}",
            f"billing totals: {self.totals} (recomputed: {self.expected_totals})",
        ]


class Cluster:
    """nats-server (or a cluster of them) and ``plan.instances`` `homecare run` processes
    per service, each restartable."""

    def __init__(self, root: Path, database_url: str | None, plan: ChaosPlan) -> None:
        self.root = root
        self.plan = plan
        self.port = free_port()
        self.nats = NatsServer(root / "nats", port=self.port, sync_always=True)
        self.nats_cluster = (
            NatsCluster(root / "nats-cluster", plan.nats_nodes, sync_always=True)
            if plan.nats_nodes > 1
            else None
        )
        first = date.fromisoformat(f"{plan.month}-01")
        # enrolment and matching get a day and a half before the first shifts are made (18:00
        # the day before the first): an assignment that comes later starts a day later
        self.clock_start = datetime.combine(first - timedelta(days=2), clock_time(6), SHANGHAI)
        self.speed = 86400 / plan.day_seconds
        self.wall_start = 0.0
        self.database_url = database_url
        self.procs: dict[str, asyncio.subprocess.Process] = {}

    @property
    def url(self) -> str:
        if self.nats_cluster:
            return self.nats_cluster.url
        return f"nats://127.0.0.1:{self.port}"

    def instances(self, name: str) -> list[str]:
        """Process names of a service: ``dispatch``, or ``dispatch#1``, ``dispatch#2`` ..."""
        if self.plan.instances == 1:
            return [name]
        return [f"{name}#{k + 1}" for k in range(self.plan.instances)]

    def settings(self) -> Settings:
        return Settings(
            nats_url=self.url,
            var_dir=self.root / "var",
            database_url=self.database_url,
            _env_file=None,  # type: ignore[call-arg]
        )

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOMECARE_")}
        env.update(
            HOMECARE_NATS_URL=self.url,
            HOMECARE_VAR_DIR=str(self.root / "var"),
            HOMECARE_CLOCK_START=self.clock_start.isoformat(),
            HOMECARE_CLOCK_WALL_START=repr(self.wall_start),
            HOMECARE_CLOCK_SPEED=repr(self.speed),
            HOMECARE_JOB_TICK_SECONDS="0.05",
            HOMECARE_ACK_WAIT_SECONDS="3",
            # a message in flight at several kills must not be given up on
            HOMECARE_MAX_DELIVER="1000",
            HOMECARE_LOG_FORMAT="json",
            HOMECARE_LOG_LEVEL="WARNING",
            HOMECARE_STREAM_REPLICAS=str(min(3, self.plan.nats_nodes)),
            # six processes share this machine's PostgreSQL (max_connections 100)
            HOMECARE_DATABASE_POOL_SIZE="5",
            HOMECARE_DATABASE_MAX_OVERFLOW="5",
        )
        if self.database_url:
            env["HOMECARE_DATABASE_URL"] = self.database_url
        return env

    def clock(self) -> AcceleratedClock:
        return AcceleratedClock(self.clock_start, self.wall_start, self.speed)

    async def start(self) -> None:
        if self.nats_cluster:
            await asyncio.to_thread(self.nats_cluster.start)
        else:
            self.nats.start()
        self.wall_start = time.time() + self.plan.startup_seconds
        for name in CORE:
            for process in self.instances(name):
                await self.start_service(process)

    async def start_service(self, process: str) -> None:
        """``process``: a service name, or an instance of one (``dispatch#2``)."""
        name = process.split("#")[0]
        log = open(self.root / f"{process}.log", "ab")  # noqa: SIM115, ASYNC230 - the child owns it
        self.procs[process] = await asyncio.create_subprocess_exec(
            HOMECARE, "run", name, env=self.env(), stdout=log, stderr=log
        )

    async def kill_service(self, name: str) -> None:
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
        await proc.wait()

    def restart_nats(self) -> None:
        self.nats.kill()
        self.nats = NatsServer(self.root / "nats", port=self.port, sync_always=True).start()

    def kill_node(self, i: int) -> None:
        assert self.nats_cluster
        self.nats_cluster.kill_node(i)

    def start_node(self, i: int) -> None:
        assert self.nats_cluster
        self.nats_cluster.start_node(i)

    async def stop(self) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self.nats_cluster:
            self.nats_cluster.stop()
        else:
            self.nats.stop()


async def publish_surely(client: BusClient, subject: str, env: Envelope[Any]) -> None:
    """Until the stream has it: the same event id each time, so a retry after a lost
    acknowledgement is dropped by the duplicate window instead of stored twice."""
    while True:
        try:
            await client.js.publish(subject, env.to_json(), headers=headers_for(env), timeout=2)
            return
        except Exception:  # nats-server restarting: the client reconnects
            await asyncio.sleep(0.2)


class Street:
    """What the simulation sends and remembers: the ground truth effects are checked against."""

    def __init__(self, client: BusClient, plan: ChaosPlan, report: ChaosReport) -> None:
        self.client, self.plan, self.report = client, plan, report
        rng = random.Random(plan.seed)
        self.categories = {f"H{i:03d}": rng.choice(CATEGORIES) for i in range(plan.households)}
        self.visits: dict[str, tuple[str, str, date]] = {}  # shift id -> household, carer, day

    async def send(self, subject: str, payload: Payload) -> None:
        env = self.client.envelope(payload)
        await publish_surely(self.client, subject, env)
        self.report.sent[payload.TYPE] += 1

    async def enrol(self, first: date) -> None:
        for i, (hid, category) in enumerate(self.categories.items()):
            await self.send(subjects.REGISTER_CAREGIVER, caregiver(f"C{i:03d}", capacity=1))
            await self.send(
                subjects.REGISTER_HOUSEHOLD,
                household(hid, category=category, enrolled_on=first - timedelta(days=31)),
            )

    async def request_care(self, first: date) -> None:
        for hid in self.categories:
            await self.send(subjects.REQUEST_CARE, request(hid, start=first))

    async def visit_day(self, day: date, scheduling: Service) -> None:
        """Complete every shift of ``day`` (once each), as the carers' phones would."""
        found = await scheduling.store.read(
            sa.select(shifts.c.shift_id, shifts.c.household_id, shifts.c.caregiver_id).where(
                shifts.c.date == day
            )
        )
        start = datetime.combine(day, clock_time(9, 5), SHANGHAI)
        for row in found:
            if row.shift_id in self.visits:
                continue
            self.visits[row.shift_id] = (row.household_id, row.caregiver_id, day)
            await self.send(
                subjects.COMPLETE_VISIT,
                CompleteVisit(
                    shift_id=row.shift_id,
                    caregiver_id=row.caregiver_id,
                    checked_in_at=start,
                    checked_out_at=start + timedelta(minutes=90),
                ),
            )


async def faults(cluster: Cluster, plan: ChaosPlan, report: ChaosReport, seconds: float) -> None:
    """Kill and restart services at random moments, and restart nats-server, spread over
    ``seconds``."""
    rng = random.Random(plan.seed)
    # every service killed as often as the others, in random order at random moments; with
    # several instances, a random one of them (the others go on working)
    targets = [
        rng.choice(cluster.instances(CORE[k % len(CORE)])) for k in range(plan.service_kills)
    ]
    rng.shuffle(targets)
    events: list[tuple[float, str]] = [
        (rng.uniform(0.05, 0.95) * seconds, target) for target in targets
    ]
    for k in range(plan.nats_restarts):
        events.append(((k + 1) / (plan.nats_restarts + 1) * seconds, "nats"))
    for k in range(plan.node_stops):
        node = rng.randrange(plan.nats_nodes)
        down_at = (k + 1) / (plan.node_stops + 1) * seconds * 0.6
        events.append((down_at, f"node-down {node}"))
        events.append((down_at + 0.3 * seconds, f"node-up {node}"))
    # mid-load: from when simulated time starts running
    await asyncio.sleep(max(0.0, cluster.wall_start - time.time()))
    started = time.monotonic()
    for at, target in sorted(events):
        await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
        if target == "nats":
            await asyncio.to_thread(cluster.restart_nats)
            report.faults.append("nats-server restart")
        elif target.startswith("node-down"):
            node = int(target.split()[1])
            await asyncio.to_thread(cluster.kill_node, node)
            report.faults.append(f"NATS node {node + 1} down")
        elif target.startswith("node-up"):
            await asyncio.to_thread(cluster.start_node, int(target.split()[1]))
        else:
            await cluster.kill_service(target)
            report.faults.append(f"SIGKILL {target}")
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            await cluster.start_service(target)


def readers(cluster: Cluster) -> dict[str, Service]:
    """Each service's database, read directly (not started: no bus, no jobs)."""
    settings = cluster.settings()
    return {name: BUILDERS[name](settings, cluster.clock()) for name in CORE}


async def wait_until(check: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.25)


async def quiet(client: BusClient, dbs: dict[str, Service]) -> bool:
    """Every durable consumer has everything acknowledged and every outbox is empty."""
    try:
        for svc in dbs.values():
            for durable in svc._durables:
                if not await client.caught_up(durable.stream, durable.durable):
                    return False
            if await svc.store.outbox_backlog():
                return False
    except Exception:  # a consumer not made yet by a restarting service, the server away
        return False
    return True


async def run_chaos(root: Path, database_url: str | None, plan: ChaosPlan) -> ChaosReport:
    report = ChaosReport()
    cluster = Cluster(root, database_url, plan)
    first = date.fromisoformat(f"{plan.month}-01")
    days = [first + timedelta(days=d) for d in range(plan.days)]
    await cluster.start()
    dbs = readers(cluster)
    client = await BusClient.connect(cluster.url.split(","), producer="chaos")
    try:
        await wait_until(lambda: quiet(client, dbs), "the services to start", 60)
        started = time.time()
        if started > cluster.wall_start:
            print(
                f"services took {started - cluster.wall_start:.1f} s longer to start than planned"
            )
        street = Street(client, plan, report)
        await street.enrol(first)
        await street.request_care(first)
        chaos = asyncio.create_task(
            faults(cluster, plan, report, plan.day_seconds * (plan.days + 1))
        )
        for day in days:
            # visits are made after the day's window; the evening job made the shifts
            until = datetime.combine(day, clock_time(11), SHANGHAI)
            # on the wall clock: simulated time stands still until wall_start
            at = cluster.wall_start + (until - cluster.clock_start).total_seconds() / cluster.speed
            await asyncio.sleep(max(0.0, at - time.time()))
            await street.visit_day(day, dbs["scheduling"])
        await chaos
        # after the faults: let everything settle, visit what shifts came late, bill the month
        await wait_until(lambda: quiet(client, dbs), "the bus to settle", 120)
        for day in days:
            await street.visit_day(day, dbs["scheduling"])
        await wait_until(lambda: quiet(client, dbs), "the visits to settle", 120)
        await street.send(subjects.RUN_BILLING, RunBilling(month=plan.month, requested_by="chaos"))

        async def billed() -> bool:
            rows = await dbs["billing"].store.read(
                sa.select(billing_runs).where(billing_runs.c.status == "completed")
            )
            return bool(rows)

        await wait_until(billed, "the month's billing run", 120)
        for spec in subjects.STREAMS:
            info = await client.js.stream_info(spec.name)
            report.replicas[spec.name] = info.config.num_replicas or 1
        await compare(dbs, street, days, report)
    finally:
        await client.close()
        await cluster.stop()
        for svc in dbs.values():
            await svc.engine.dispose()
    return report


async def compare(
    dbs: dict[str, Service], street: Street, days: list[date], report: ChaosReport
) -> None:
    dispatch, scheduling, billing = dbs["dispatch"], dbs["scheduling"], dbs["billing"]
    households = set(street.categories)
    outcomes = Counter(
        r.request_id
        for r in await dispatch.store.read(
            sa.select(care_requests.c.request_id).where(care_requests.c.status != "open")
        )
    )
    assigned = await dispatch.store.read(sa.select(assignments.c.household_id))
    made = await scheduling.store.read(sa.select(shifts.c.household_id, shifts.c.date))
    per_day = Counter((r.household_id, r.date) for r in made)
    done = await scheduling.store.read(sa.select(scheduling_visits.c.shift_id))
    billed = await billing.store.read(
        sa.select(billing_visits.c.household_id, billing_visits.c.date)
    )
    billed_per_day = Counter((r.household_id, r.date) for r in billed)
    assigned_households = {r.household_id for r in assigned}
    expected_shifts = {(h, d) for h in assigned_households for d in days}
    report.found = {
        "requests answered": len(outcomes),
        "assignments": len(assigned),
        "shifts": len(made),
        "visits sent": len(street.visits),
        "visits completed": len(done),
        "visits billed": len(billed),
    }
    runs = await scheduling.store.read(
        sa.select(scheduling_job_runs.c.job, scheduling_job_runs.c.fire_time).where(
            scheduling_job_runs.c.job.like("%shift%")
        )
    )
    report.found["shift jobs run"] = sorted(f"{r.job}@{r.fire_time:%m-%d %H:%M}" for r in runs)  # type: ignore[assignment]
    report.found["shifts by day"] = dict(sorted(Counter(str(d) for _, d in per_day).items()))  # type: ignore[assignment]
    report.lost = {
        "request outcomes": len({f"R-{h}" for h in households} - set(outcomes)),
        "shifts": len(expected_shifts - set(per_day)),
        "completed visits": len(set(street.visits) - {r.shift_id for r in done}),
        "billed visits": len({(h, d) for h, _, d in street.visits.values()} - set(billed_per_day)),
    }
    report.duplicated = {
        "request outcomes": sum(n - 1 for n in outcomes.values()),
        "assignments": len(assigned) - len(assigned_households),
        "shifts": sum(n - 1 for n in per_day.values()),
        "billed visits": sum(n - 1 for n in billed_per_day.values()),
    }
    await recompute(billing, street, report)


async def recompute(billing: Service, street: Street, report: ChaosReport) -> None:
    """The month's totals from what the simulation sent, by the pure billing engine: the
    same numbers the service must have reached through the bus, whatever failed."""
    first = min(d for _, _, d in street.visits.values())
    categories = [
        CategoryFrom(hid, first - timedelta(days=31), category)
        for hid, category in street.categories.items()
    ]
    result = compute(
        street.plan.month, categories, list(street.visits.values()), load_policy_schedule(None)
    )
    report.expected_totals = totals_of(result)
    latest = (
        await billing.store.read(
            sa.select(billing_revisions.c.summary).order_by(billing_revisions.c.revision.desc())
        )
    )[0]
    summary = json.loads(latest.summary) if isinstance(latest.summary, str) else latest.summary
    report.totals = {k: str(v) for k, v in summary["totals"].items()}
