"""End-to-end part of bench/matching.py: single care requests to confirmed assignment over
the real bus (a real nats-server and the real dispatch service on SQLite), beside a raw
JetStream publish+ack baseline measured on the same server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import shutil
import tempfile
import textwrap
import time
from datetime import time as dtime
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench_city import CATEGORIES, CITY_KM, KM_LAT, KM_LON, LAT0, LON0, ON, SKILLS
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from contracts import subjects
from contracts.dispatch.v1 import RegisterCaregiver, RegisterHousehold, RequestCare
from contracts.dispatch.values import Certificate, GeoPoint, Preferences
from contracts.envelope import Payload
from services.client import BusClient, until
from services.dispatch import app as dispatch_app
from services.infra.bus.streams import DUPLICATE_WINDOW_SECONDS
from services.infra.clock import SystemClock
from services.infra.logging import configure_logging
from services.infra.nats_server import NatsServer
from services.infra.runtime import Service
from services.infra.settings import Settings

# end-to-end over the real bus
BUS_ROWS, BUS_COLS = 4, 5  # 20 streets of 2.5 km x 2 km
BUS_PER_STREET = 50  # caregivers per street: 1,000 in all
BUS_REQUESTS = 500  # sent at once in the throughput run (--bus-requests)
BUS_WARMUP = 40  # answered before anything is timed (first queries, compiled SQL caches)
BUS_RATE = 100.0  # requests per second in the latency run ...
BUS_PACED_SECONDS = 10.0  # ... for this long
BASELINE_ROUND_TRIPS = 500
TARGET_RATE = 500.0  # requests per second
TARGET_P99_MS = 50.0  # at BUS_RATE
BUS_TIMEOUT = 60.0  # for each wait (registry applied, answers in)


# -- end-to-end over the real bus ------------------------------------------------------------


def _bus_point(rng: random.Random, street: str | None = None) -> tuple[GeoPoint, str]:
    """A random point in ``street`` (``street-<row><col>``), or anywhere in the city."""
    height, width = CITY_KM / BUS_ROWS, CITY_KM / BUS_COLS
    if street is None:
        row, col = rng.randrange(BUS_ROWS), rng.randrange(BUS_COLS)
    else:
        row, col = int(street[-2]), int(street[-1])
    y, x = (row + rng.random()) * height, (col + rng.random()) * width
    return GeoPoint(lat=LAT0 + y * KM_LAT, lon=LON0 + x * KM_LON), f"street-{row}{col}"


def bus_caregivers(rng: random.Random) -> list[RegisterCaregiver]:
    certified = tuple(
        Certificate(module=m, expires_on=ON + timedelta(365))
        for m in ("daily_care", "common_illness", "first_aid")
    )
    found = []
    for row in range(BUS_ROWS):
        for col in range(BUS_COLS):
            street = f"street-{row}{col}"
            for i in range(BUS_PER_STREET):
                home, _ = _bus_point(rng, street)
                found.append(
                    RegisterCaregiver(
                        caregiver_id=f"C{row}{col}-{i:03d}",
                        name="王秀兰",
                        station_id=street + "-s1",
                        street=street,
                        sex="F" if rng.random() < 0.85 else "M",
                        capacity=rng.choice((1, 2, 2)),
                        home=home,
                        dialects=frozenset({"大连话"}) if rng.random() < 0.5 else frozenset(),
                        skills=frozenset(
                            s for s, p in zip(SKILLS, (0.4, 0.25), strict=True) if rng.random() < p
                        ),
                        certificates=certified,
                        appraisal_score=round(rng.uniform(60, 100), 1),
                    )
                )
    return found


def bus_households(rng: random.Random, prefix: str, n: int) -> list[RegisterHousehold]:
    found = []
    for j in range(n):
        location, street = _bus_point(rng)
        hid = f"H{prefix}{j:05d}"
        found.append(
            RegisterHousehold(
                household_id=hid,
                name="李家",
                address=f"五一路{hid}号",
                station_id=street + "-s1",
                street=street,
                category=rng.choice(CATEGORIES),
                enrolled_on=ON - timedelta(30),
                visit_window=(dtime(9), dtime(11)),
                location=location,
                needs=frozenset(
                    s for s, p in zip(SKILLS, (0.15, 0.1), strict=True) if rng.random() < p
                ),
                preferences=Preferences(
                    caregiver_sex="F" if rng.random() < 0.1 else None,
                    dialects=frozenset({"大连话"}) if rng.random() < 0.2 else frozenset(),
                ),
            )
        )
    return found


def _requests(households: list[RegisterHousehold]) -> list[RequestCare]:
    return [
        RequestCare(
            request_id="R" + h.household_id[1:],
            household_id=h.household_id,
            start_date=ON,
            mode="auto",
        )
        for h in households
    ]


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _ms(values: list[float]) -> dict[str, float]:
    return {f"p{q}": round(_pct(values, q) * 1e3, 2) for q in (50, 95, 99)} | {
        "max": round(max(values) * 1e3, 2)
    }


class Answers:
    """Every CaregiverAssigned / CareRequestUnmet seen on the bus, by request id, with the
    time it arrived here (core subscription: JetStream publishes reach it too)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.kind: dict[str, str] = {}
        self._pending: set[str] = set()
        self._all_in = asyncio.Event()

    async def on_message(self, msg: Any) -> None:
        now = time.perf_counter()
        request_id = json.loads(msg.data)["payload"]["request_id"]
        if request_id in self.at:
            return
        self.at[request_id] = now
        self.kind[request_id] = (
            "assigned" if msg.subject == subjects.CAREGIVER_ASSIGNED else "unmet"
        )
        self._pending.discard(request_id)
        if not self._pending:
            self._all_in.set()

    async def wait(self, request_ids: list[str], timeout: float) -> bool:
        """True once every request has its answer; False after ``timeout`` seconds."""
        self._pending = {r for r in request_ids if r not in self.at}
        if not self._pending:
            return True
        self._all_in.clear()
        try:
            async with asyncio.timeout(timeout):
                await self._all_in.wait()
        except TimeoutError:
            return False
        return True

    def counts(self, request_ids: list[str]) -> dict[str, int]:
        kinds = [self.kind.get(r, "missing") for r in request_ids]
        return {k: kinds.count(k) for k in ("assigned", "unmet", "missing")}


async def _idle(client: BusClient, svc: Service, *consumers: str) -> None:
    """Dispatch has applied everything sent to ``consumers`` and relayed what it emitted."""

    async def done() -> bool:
        for consumer in consumers:
            if not await client.caught_up("HC_DISPATCH", f"dispatch_{consumer}"):
                return False
        return await svc.store.outbox_backlog() == 0

    await until(done, "dispatch to apply " + ", ".join(consumers), BUS_TIMEOUT)


async def bus_baseline(client: BusClient, body: bytes, n: int) -> dict[str, Any]:
    """Raw nats-py on the same server: sequential JetStream publish + ack round trips, then
    ``n`` pipelined publishes (publish_async, all acks awaited), each a RequestCare envelope."""
    js = client.js
    await js.add_stream(
        StreamConfig(
            name="BENCH_E2E_RAW",
            subjects=["bench.e2e.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        )
    )
    try:
        round_trips = []
        for i in range(BASELINE_ROUND_TRIPS):
            t = time.perf_counter()
            await js.publish("bench.e2e.rtt", body, headers={"Nats-Msg-Id": f"rtt-{i}"})
            round_trips.append(time.perf_counter() - t)
        t = time.perf_counter()
        futures = [
            await js.publish_async("bench.e2e.rate", body, headers={"Nats-Msg-Id": f"rate-{i}"})
            for i in range(n)
        ]
        await asyncio.gather(*futures)
        seconds = time.perf_counter() - t
    finally:
        await js.delete_stream("BENCH_E2E_RAW")
    return {
        "round_trip_ms": _ms(round_trips),
        "round_trips": BASELINE_ROUND_TRIPS,
        "publish_rate_per_s": round(n / seconds, 1),
        "published": n,
    }


async def bus_bench(root: Path, seed: int, n: int) -> dict[str, Any]:
    rng = random.Random(seed)
    paced_n = round(BUS_RATE * BUS_PACED_SECONDS)
    caregivers = bus_caregivers(rng)
    warm = bus_households(rng, "W", BUS_WARMUP)
    burst = bus_households(rng, "T", n)
    paced = bus_households(rng, "L", paced_n)
    server = NatsServer(root / "nats").start()
    svc: Service | None = None
    client: BusClient | None = None
    try:
        client = await BusClient.connect_once([server.url], "bench")
        sample = client.envelope(_requests(burst[:1])[0]).to_json()
        baseline = await bus_baseline(client, sample, n)
        settings = Settings(nats_url=server.url, var_dir=root, _env_file=None)
        svc = dispatch_app.build(settings, SystemClock(ZoneInfo("Asia/Shanghai")))
        await svc.start()
        t = time.perf_counter()
        registry: list[tuple[str, Payload]] = [(subjects.REGISTER_CAREGIVER, c) for c in caregivers]
        registry += [(subjects.REGISTER_HOUSEHOLD, h) for h in warm + burst + paced]
        await client.send_many(registry, timeout=BUS_TIMEOUT)
        await _idle(client, svc, "register_caregiver", "register_household")
        registered_in = time.perf_counter() - t

        answers = Answers()
        for subject in (subjects.CAREGIVER_ASSIGNED, subjects.CARE_REQUEST_UNMET):
            await client.nc.subscribe(subject, cb=answers.on_message)
        await client.nc.flush()

        warm_ids = [r.request_id for r in _requests(warm)]
        await client.send_many([(subjects.REQUEST_CARE, r) for r in _requests(warm)])
        if not await answers.wait(warm_ids, BUS_TIMEOUT):
            raise TimeoutError(f"warm-up: {answers.counts(warm_ids)}")
        await _idle(client, svc, "request_care")

        # (1) throughput: everything at once, clock stops at the last answer
        commands = _requests(burst)
        burst_ids = [r.request_id for r in commands]
        t0 = time.perf_counter()
        await client.send_many([(subjects.REQUEST_CARE, r) for r in commands], timeout=BUS_TIMEOUT)
        all_sent = time.perf_counter() - t0
        complete = await answers.wait(burst_ids, BUS_TIMEOUT)
        answered = [answers.at[r] for r in burst_ids if r in answers.at]
        seconds = (max(answered) if complete else time.perf_counter()) - t0
        throughput: dict[str, Any] = {
            "requests": n,
            "answered": len(answered),
            "complete": complete,
            "seconds": round(seconds, 3),
            "sends_stored_after_s": round(all_sent, 3),
            "rate_per_s": round(len(answered) / seconds, 1),
            **answers.counts(burst_ids),
        }
        await _idle(client, svc, "request_care")

        # (2) latency at a fixed rate: each send on schedule, latency to its own answer
        commands = _requests(paced)
        paced_ids = [r.request_id for r in commands]
        sent_at: dict[str, float] = {}
        sends: list[asyncio.Task[Any]] = []
        t0 = time.perf_counter()
        for i, cmd in enumerate(commands):
            delay = t0 + i / BUS_RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at[cmd.request_id] = time.perf_counter()
            sends.append(asyncio.create_task(client.send(subjects.REQUEST_CARE, cmd)))
        last_send = time.perf_counter()
        send_seconds = last_send - t0
        await asyncio.gather(*sends)
        complete = await answers.wait(paced_ids, BUS_TIMEOUT)
        latencies = [answers.at[r] - sent_at[r] for r in paced_ids if r in answers.at]
        latency: dict[str, Any] = {
            "rate_per_s": BUS_RATE,
            "requests": paced_n,
            "achieved_send_rate_per_s": round(paced_n / send_seconds, 1) if send_seconds else None,
            "answered": len(latencies),
            "complete": complete,
            "latency_ms": _ms(latencies) if latencies else None,
            # > a few ms: the service fell behind the offered rate and requests queued
            "last_answer_after_last_send_s": round(
                max((answers.at[r] for r in paced_ids if r in answers.at), default=last_send)
                - last_send,
                3,
            ),
            **answers.counts(paced_ids),
        }
        await _idle(client, svc, "request_care")
        checks = {
            "commit_groups": svc.store.groups,
            "dead_letters": await svc.store.dead_letter_count(),
            "outbox_left": await svc.store.outbox_backlog(),
        }
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 10)
        if svc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(svc.stop(), 20)
        server.stop()
    p99 = latency["latency_ms"]["p99"] if latency["latency_ms"] else None
    return {
        "setup": (
            f"{BUS_ROWS * BUS_COLS} streets x {BUS_PER_STREET} caregivers (capacity 1-2, "
            f"certificates valid), {BUS_WARMUP + n + paced_n} households, fresh ones per run; "
            "mode auto (RequestCare -> CaregiverAssigned is the confirmed assignment); "
            "dispatch service, client and nats-server on this machine, service and client in "
            "one Python process; SQLite (WAL, the inline driver) and JetStream file storage "
            "in a temp dir"
        ),
        "registry_applied_s": round(registered_in, 3),
        "registry_messages": len(registry),
        "registry_rate_per_s": round(len(registry) / registered_in, 1),
        "warmup_requests": BUS_WARMUP,
        "throughput": throughput,
        "latency": latency,
        "baseline_raw_jetstream": baseline,
        "targets": {"rate_per_s": TARGET_RATE, "p99_ms_at_100_per_s": TARGET_P99_MS},
        "rate_target_met": throughput["complete"] and throughput["rate_per_s"] >= TARGET_RATE,
        "p99_target_met": p99 is not None and latency["complete"] and p99 < TARGET_P99_MS,
        "ratio_rate_over_raw_publish": round(
            throughput["rate_per_s"] / baseline["publish_rate_per_s"], 4
        ),
        "ratio_p50_over_raw_round_trip_p50": round(
            latency["latency_ms"]["p50"] / baseline["round_trip_ms"]["p50"], 1
        )
        if latency["latency_ms"]
        else None,
        "checks": checks,
    }


def bus_run(seed: int, n: int) -> dict[str, Any] | str:
    configure_logging(level="WARNING")
    root = Path(tempfile.mkdtemp(prefix="homecare-bench-matching-"))
    try:
        return asyncio.run(bus_bench(root, seed, n))
    except Exception as exc:  # the solver figures are still worth printing
        return f"failed: {exc!r}"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def bus_report(bus: dict[str, Any] | str) -> None:
    print("end-to-end over the real bus (RequestCare mode auto -> CaregiverAssigned)")
    if isinstance(bus, str):
        print(f"  {bus}")
        return
    base, tp, lat = bus["baseline_raw_jetstream"], bus["throughput"], bus["latency"]
    print(textwrap.fill(bus["setup"], 96, initial_indent="  ", subsequent_indent="  "))
    print(
        f"  registry: {bus['registry_messages']:,} registrations applied in "
        f"{bus['registry_applied_s']:.2f} s ({bus['registry_rate_per_s']:,.0f}/s); "
        f"{bus['warmup_requests']} warm-up requests first"
    )
    met = "target met" if bus["rate_target_met"] else "target not met"
    print(
        f"  throughput  {tp['rate_per_s']:>8,.1f} requests/s   ({tp['answered']:,} of "
        f"{tp['requests']:,} sent at once answered in {tp['seconds']:.2f} s: "
        f"{tp['assigned']:,} assigned, {tp['unmet']:,} unmet)   "
        f"target >= {bus['targets']['rate_per_s']:.0f}/s: {met}"
    )
    if lat["latency_ms"]:
        ms = lat["latency_ms"]
        met = "target met" if bus["p99_target_met"] else "target not met"
        print(
            f"  latency at {lat['rate_per_s']:.0f}/s (sent {lat['achieved_send_rate_per_s']}/s, "
            f"{lat['answered']:,} of {lat['requests']:,} answered: {lat['assigned']:,} "
            f"assigned, {lat['unmet']:,} unmet)"
        )
        print(
            f"              p50 {ms['p50']:.1f} ms  p95 {ms['p95']:.1f} ms  p99 {ms['p99']:.1f} ms"
            f"  max {ms['max']:.1f} ms   target p99 < "
            f"{bus['targets']['p99_ms_at_100_per_s']:.0f} ms: {met}"
        )
        behind = lat["last_answer_after_last_send_s"]
        print(
            f"              last answer {behind:.3f} s after the last send"
            + (
                " (the service fell behind the offered rate: requests queued)"
                if behind > 0.1
                else ""
            )
        )
    else:
        print(f"  latency at {lat['rate_per_s']:.0f}/s: no answers (target not met)")
    rt = base["round_trip_ms"]
    print(
        f"  baseline raw nats-py JetStream, same server: publish+ack round trip "
        f"p50 {rt['p50']:.2f} ms p99 {rt['p99']:.2f} ms ({base['round_trips']} sequential); "
        f"{base['publish_rate_per_s']:,.0f} publishes/s ({base['published']:,} pipelined)"
    )
    ratio = bus["ratio_p50_over_raw_round_trip_p50"]
    print(
        f"  ratio end-to-end rate / raw publish rate: {bus['ratio_rate_over_raw_publish']:.4f}"
        + (f"; p50 latency / raw round trip p50: {ratio:.1f}x" if ratio is not None else "")
    )
    print(f"  checks: {bus['checks']}")
