"""Events per second through the homecare bus layer, beside raw nats-py JetStream.

One nats-server (JetStream, file storage) is started in a temporary directory and both paths
run against it in the same process, one after the other:

raw nats-py
    N messages published with ``js.publish_async`` (Nats-Msg-Id and the same headers and body
    size as a homecare VisitCompleted), all acknowledgements awaited; then a durable pull
    consumer ``fetch(batch=200)`` + ``ack`` until all N are received.

homecare bus layer
    The real scheduling service writes N VisitCompleted events into its SQLite outbox
    (``MessageStore.transaction`` + ``tx.emit``, a fixed number of emits per transaction), its
    ``OutboxRelay`` publishes them, and the real billing service consumes them through
    FastStream with the inbox (``process_once``) and writes one row each, all in SQLite.
    Writer, relay and consumer run concurrently; the clock runs from the first outbox write
    until billing holds all N rows.

Usage: ``python bench/bus.py [--messages N] [--batch B] [--timeout S] [--json] [--keep]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from contracts import subjects
from contracts.envelope import Envelope, headers_for
from contracts.scheduling.v1 import VisitCompleted
from services.billing import app as billing_app
from services.billing.store import visits as billing_visits
from services.infra.bus.streams import DUPLICATE_WINDOW_SECONDS, consumer_config
from services.infra.clock import SystemClock
from services.infra.logging import configure_logging
from services.infra.nats_server import NatsServer
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling import app as scheduling_app

RAW_STREAM = "BENCH_RAW"
RAW_SUBJECT = "bench.raw.visit_completed"
RAW_FETCH_BATCH = 200
RELAY_BATCH = 500
ACK_WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05
STOP_TIMEOUT_SECONDS = 20.0
VISIT_DAY = date(2026, 11, 2)


class BenchError(RuntimeError):
    """The benchmark could not complete; the message says where and how far it got."""


@dataclass(frozen=True)
class Result:
    path: str
    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Progress:
    written: int = 0
    relayed: int = 0
    processed: int = 0


async def add_bench_stream(js: Any, name: str, subject_filter: str) -> None:
    """A stream of the benchmark's own for the raw nats-py baseline (file storage, the same
    duplicate window as homecare's streams)."""
    await js.add_stream(
        StreamConfig(
            name=name,
            subjects=[subject_filter],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        )
    )


def visit(i: int, clock: SystemClock) -> VisitCompleted:
    checked_in = datetime.combine(VISIT_DAY, datetime.min.time(), clock.tz) + timedelta(hours=9)
    return VisitCompleted(
        visit_id=f"V{i:08d}",
        shift_id=f"S{i:08d}",
        household_id=f"H{i % 500:05d}",
        caregiver_id=f"C{i % 100:04d}",
        date=VISIT_DAY,
        checked_in_at=checked_in,
        checked_out_at=checked_in + timedelta(hours=1),
    )


async def within(seconds: float, what: str | Callable[[], str], work: Awaitable[Any]) -> Any:
    """Await ``work`` for at most ``seconds``; on expiry fail saying ``what`` was under way
    (a callable is asked at expiry, so it can report progress)."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await work
    except TimeoutError:
        if not deadline.expired():
            raise  # a timeout inside ``work`` is its own failure, not the deadline
        raise BenchError(
            f"timed out after {seconds:g}s (see --timeout): {what() if callable(what) else what}"
        ) from None


# -- raw nats-py ----------------------------------------------------------------------------


async def raw_path(
    url: str, n: int, body: bytes, headers: dict[str, str], phase_seconds: float
) -> list[Result]:
    progress = Progress()
    nc = await within(10, f"connecting to {url}", nats.connect(url, max_reconnect_attempts=0))
    try:
        js = nc.jetstream()
        await add_bench_stream(js, RAW_STREAM, "bench.raw.>")
        sub = await js.pull_subscribe(
            RAW_SUBJECT,
            durable="bench_raw",
            stream=RAW_STREAM,
            config=consumer_config(ACK_WAIT_SECONDS),
        )

        async def publish() -> None:
            futures = []
            for i in range(n):
                futures.append(
                    await js.publish_async(
                        RAW_SUBJECT, body, headers={**headers, "Nats-Msg-Id": f"{i:032x}"}
                    )
                )
            for future in futures:
                await future
                progress.written += 1

        async def consume() -> None:
            while progress.processed < n:
                try:
                    msgs = await sub.fetch(batch=RAW_FETCH_BATCH, timeout=1.0)
                except TimeoutError:  # nats.errors.TimeoutError, or a bare one from nats-py
                    continue
                for msg in msgs:
                    await msg.ack()
                progress.processed += len(msgs)

        t0 = time.perf_counter()
        await within(
            phase_seconds, lambda: f"raw publish: {progress.written}/{n} acknowledged", publish()
        )
        t1 = time.perf_counter()
        await within(
            phase_seconds, lambda: f"raw consume: {progress.processed}/{n} received", consume()
        )
        t2 = time.perf_counter()
        if progress.processed != n:
            raise BenchError(f"raw consume received {progress.processed}, expected {n}")
        await js.delete_stream(RAW_STREAM)  # leave the server as the homecare path expects it
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.close(), STOP_TIMEOUT_SECONDS)
    return [
        Result("raw publish (acked)", n, t1 - t0),
        Result(f"raw consume (fetch {RAW_FETCH_BATCH} + ack)", n, t2 - t1),
        Result("raw end-to-end", n, t2 - t0),
    ]


# -- homecare bus layer ---------------------------------------------------------------------


async def write_outbox(producer: Service, n: int, batch: int, progress: Progress) -> float:
    """Emit N VisitCompleted through the producer's outbox; returns when the last commit did."""
    clock = SystemClock(producer.settings.tz)
    for start in range(0, n, batch):
        end = min(start + batch, n)
        async with producer.store.transaction() as tx:
            for i in range(start, end):
                await tx.emit(subjects.VISIT_COMPLETED, visit(i, clock))
        progress.written = end
    return time.perf_counter()


async def homecare_path(
    url: str, n: int, batch: int, db_dir: Path, phase_seconds: float
) -> tuple[list[Result], dict[str, int]]:
    settings = Settings(
        _env_file=None,
        nats_url=url,
        var_dir=db_dir,
        database_url=None,
        scheduling_database_url=None,
        billing_database_url=None,
        relay_batch=RELAY_BATCH,
        ack_wait_seconds=ACK_WAIT_SECONDS,
    )
    clock = SystemClock(settings.tz)
    producer = scheduling_app.build(settings, clock)
    consumer = billing_app.build(settings, clock)
    progress = Progress()
    started: list[Service] = []
    try:
        for svc in (consumer, producer):
            started.append(svc)  # stopped in any case, even when start fails half-way
            await within(phase_seconds, f"starting the {svc.name} service", svc.start())
        relay = producer.relay
        assert relay is not None

        def state() -> str:
            return (
                f"homecare: {progress.written}/{n} written to the outbox, "
                f"{progress.relayed}/{n} relayed, {progress.processed}/{n} processed"
            )

        async def run() -> tuple[float, float, float, float]:
            t0 = time.perf_counter()
            writer = asyncio.create_task(write_outbox(producer, n, batch, progress))
            relayed_at = 0.0
            try:
                while True:
                    if writer.done() and writer.exception():
                        raise BenchError(f"outbox writer failed: {writer.exception()!r}")
                    progress.relayed = relay.published
                    if not relayed_at and progress.relayed >= n:
                        relayed_at = time.perf_counter()
                    progress.processed = await consumer.store.count(billing_visits)
                    if progress.processed >= n:
                        done_at = time.perf_counter()
                        return t0, await writer, relayed_at or done_at, done_at
                    await asyncio.sleep(POLL_SECONDS)
            finally:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)

        t0, written_at, relayed_at, done_at = await within(phase_seconds, state, run())
        checks = {
            "billing_rows": await consumer.store.count(billing_visits),
            "billing_inbox": await consumer.store.count(consumer.store.tables.inbox),
            "billing_dead_letters": await consumer.store.dead_letter_count(),
            "scheduling_outbox_left": await producer.store.outbox_backlog(),
        }
    finally:
        for svc in reversed(started):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(svc.stop(), STOP_TIMEOUT_SECONDS)
    if checks["billing_rows"] != n or checks["billing_inbox"] != n:
        raise BenchError(f"homecare path finished with wrong counts: {checks}")
    return [
        Result(f"homecare outbox written ({batch}/tx)", n, written_at - t0),
        Result("homecare relayed (from start)", n, relayed_at - t0),
        Result("homecare end-to-end (processed)", n, done_at - t0),
    ], checks


# -- driver ---------------------------------------------------------------------------------


async def bench(url: str, n: int, batch: int, db_dir: Path, phase_seconds: float) -> dict[str, Any]:
    clock = SystemClock(Settings(_env_file=None).tz)
    sample = Envelope.wrap(visit(0, clock), producer=scheduling_app.NAME)
    body = sample.to_json()
    raw = await raw_path(url, n, body, headers_for(sample), phase_seconds)
    homecare, checks = await homecare_path(url, n, batch, db_dir, phase_seconds)
    ratio = raw[-1].seconds / homecare[-1].seconds
    return {
        "messages": n,
        "body_bytes": len(body),
        "emits_per_transaction": batch,
        "relay_batch": RELAY_BATCH,
        "raw_fetch_batch": RAW_FETCH_BATCH,
        "storage": f"SQLite (WAL) files in temp dir {db_dir}; JetStream file storage",
        "results": [
            {
                "path": r.path,
                "messages": r.messages,
                "seconds": round(r.seconds, 4),
                "msg_per_s": round(r.rate, 1),
            }
            for r in (*raw, *homecare)
        ],
        "ratio_end_to_end_homecare_over_raw": round(ratio, 4),
        "checks": checks,
    }


def print_table(report: dict[str, Any]) -> None:
    n = report["messages"]
    print(
        f"homecare bus benchmark: N={n:,} messages of {report['body_bytes']} bytes "
        "(VisitCompleted envelope)"
    )
    print(f"storage: {report['storage']}")
    print(
        f"raw: publish_async + await acks, then durable pull fetch(batch="
        f"{report['raw_fetch_batch']}) + ack"
    )
    print(
        f"homecare: scheduling outbox, {report['emits_per_transaction']} emits per SQLite "
        f"transaction -> OutboxRelay (batch {report['relay_batch']}) -> billing via FastStream, "
        "inbox + row per message in one SQLite transaction; stages run concurrently"
    )
    print("everything runs in this one Python process (one event loop) beside the nats-server")
    print()
    print(f"{'path':<36} {'messages':>9} {'seconds':>9} {'msg/s':>10}")
    for row in report["results"]:
        print(
            f"{row['path']:<36} {row['messages']:>9,} {row['seconds']:>9.3f} "
            f"{row['msg_per_s']:>10,.0f}"
        )
    print()
    ratio = report["ratio_end_to_end_homecare_over_raw"]
    faster = f"raw is {1 / ratio:.1f}x faster" if ratio < 1 else f"homecare is {ratio:.1f}x faster"
    print(f"ratio homecare/raw end-to-end msg/s: {ratio:.3f} ({faster})")
    print(f"checks: {report['checks']}")


def run_with_server(root: Path, n: int, batch: int, phase_seconds: float) -> dict[str, Any]:
    server = NatsServer(root / "nats")
    try:
        server.start()
    except (OSError, RuntimeError) as exc:  # includes TimeoutError and a missing binary
        raise BenchError(f"could not start nats-server: {exc}") from exc
    try:
        return asyncio.run(bench(server.url, n, batch, root / "db", phase_seconds))
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=20_000, help="messages per path")
    parser.add_argument("--batch", type=int, default=100, help="outbox emits per transaction")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per phase")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.batch < 1 or args.timeout <= 0:
        parser.error("--messages and --batch must be >= 1 and --timeout > 0")

    configure_logging(level="WARNING")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up on kill as on Ctrl-C
    root = Path(tempfile.mkdtemp(prefix="homecare-bench-"))
    try:
        report = run_with_server(root, args.messages, args.batch, args.timeout)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
