"""A month's billing run for 100,000 households and 3,000,000 visits, beside the bare SQL
aggregation of served days on the same data.

Setup (not timed). The billing service (``services.billing.app.build``) gets a migrated
database: SQLite file in a temporary directory, or with ``--database-url`` a fresh PostgreSQL
database beside the one named. A deterministic generator (``--seed``) writes straight into
``categories`` and ``visits`` (``services.infra.upsert.insert_many`` in chunks):

- N households (``--households``, default 100,000), category A/B/C/D 15/30/35/20 %, about 5 %
  of them changing category on a day in the month and about 3 % enrolled during the month
  (a tenth of those also get a visit the day before, which is billed as a warning);
- N/5 caregivers; each household has its own caregiver, misses about 3 % of its days, about
  5 % of households have a second caregiver on about a third of their days, and about 2 %
  get a substitute for a week;
- exactly N × V visits (``--visits-per-household`` V, default 30: 3,000,000), the shortfall
  made up by second visits of the same caregiver on the same day (billed once). Visits are
  written day by day, as they arrive, in a shuffled order within each day.

PostgreSQL's two tables are then vacuumed and analyzed (autovacuum would do that after such
a load); SQLite gets nothing (the service never runs ANALYZE).

Timed, in a fresh Python process, so that its memory is the run's own: the month's billing
run as the service does it. ``running.request_run`` in one ``store.transaction()`` (the
RunBilling command's work), then ``running.RunWorker(store, schedule, ...).run_next()``,
which claims the run, computes the month (``compute_month``), stores revision 1 with its
household, share and caregiver lines and emits BillingRunCompleted. Then the same again
("re-run, unchanged": the inputs are the same, so it computes the month and finds revision 1).
The resident set size of the process is sampled every 50 ms (``/proc/self/status`` VmRSS);
the run's figure is the peak during the run minus the size just before it. The process's own
peak (VmHWM) is reported beside it. Targets: 60 s or less, less than 1 GiB. While a run is
timed, ``running``'s ``compute_month``, ``bill_household``, ``invariant_problems``,
``_store_revision`` and the store's ``read`` are wrapped with a clock, which says where the
time goes (a clock read per call).

Baseline in the same process, on the same database, before the run: the bare SQL
aggregations of the month's visits, fetched completely: served days per household and
caregiver (``COUNT(DISTINCT date) ... GROUP BY household_id, caregiver_id``) and per household
(``GROUP BY household_id``). The ratio is the run's time over the two queries' time.

Checked afterwards, against what the generator knows (computed from domain.md §6 without the
engine): the numbers of household, share and caregiver lines, served days, visits and
warnings; Σ charge and Σ subsidy; Σ government shares = Σ subsidy, Σ family shares = Σ family
share, Σ pay = Σ charge; both runs completed at revision 1, the second without a new revision
and with the same fingerprint.

Usage: ``python bench/billing.py [--households N] [--visits-per-household V]
[--database-url URL] [--seed S] [--timeout S] [--profile FILE] [--json] [--keep]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from bus import BenchError, within
from sqlalchemy.engine import make_url

from contracts import subjects
from contracts.billing.runs_v1 import RunBilling
from services.billing import app as billing_app
from services.billing import running
from services.billing.engine import PolicySchedule
from services.billing.model import month_bounds
from services.billing.store import (
    bill_caregivers,
    bill_households,
    bill_shares,
    billing_revisions,
    billing_runs,
    categories,
    visits,
)
from services.infra.clock import SimulatedClock
from services.infra.db import schema_for
from services.infra.logging import configure_logging
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.infra.upsert import insert_many

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH = "2026-11"  # 30 days
FIRST, LAST = month_bounds(MONTH)
DAYS = (LAST - FIRST).days + 1
CLOCK_START = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)  # finance runs November
HOUSEHOLDS_PER_CAREGIVER = 5
CATEGORY_MIX = (("A", 0.15), ("B", 0.30), ("C", 0.35), ("D", 0.20))
ENROLLED_MID_MONTH = 0.03
CHANGES_CATEGORY = 0.05
STRAY_BEFORE_ENROLMENT = 0.10  # of those enrolled mid-month: a visit the day before
MISSED_DAY = 0.03
TWO_CAREGIVERS = 0.05
SECOND_CAREGIVER_DAY = 0.30
SUBSTITUTE_WEEK = 0.02
GENERATE_CHUNK = 2_000  # households generated (and made up to N × V visits) at a time
INSERT_CHUNK = 50_000  # rows per insert_many (setup)
SAMPLE_SECONDS = 0.05
TARGET_SECONDS = 60.0
TARGET_BYTES = 1 << 30
RESULT_MARK = "BENCH-BILLING-RESULT "
MIB = 1 << 20


class PeakRss:
    """The process's resident set size sampled every 50 ms in a thread; ``reset`` starts a
    new peak. Linux only (``/proc/self/status``); elsewhere the figures stay None."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._peak = 0
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    @staticmethod
    def current(field: bytes = b"VmRSS:") -> int | None:
        try:
            with open("/proc/self/status", "rb") as status:
                for line in status:
                    if line.startswith(field):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def _note(self) -> int | None:
        now = self.current()
        if now is not None:
            with self._lock:
                self._peak = max(self._peak, now)
        return now

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._note()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def reset(self) -> int | None:
        """The size now, which is also the new peak."""
        now = self.current()
        with self._lock:
            self._peak = now or 0
        return now

    def peak(self) -> int | None:
        self._note()
        with self._lock:
            return self._peak or None


def max_rss_bytes() -> int:
    """getrusage's peak resident set size (Linux reports KiB). On Linux it also counts the
    process it was spawned from (the peak of the memory it had before exec), so the
    process's own peak is VmHWM."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def settings_for(db_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        _env_file=None,
        nats_url=None,  # the run publishes nothing: its events wait in the outbox
        var_dir=db_dir,
        database_url=database_url,
        dispatch_database_url=None,
        scheduling_database_url=None,
        billing_database_url=None,
    )


# -- the month's inputs -----------------------------------------------------------------------


@dataclass
class Expected:
    """What the generator wrote and what §6 makes of it, computed here without the engine."""

    households: int = 0
    caregivers_total: int = 0
    category_rows: int = 0
    visits: int = 0
    households_visited: int = 0  # with any visit in the month
    household_lines: int = 0  # with at least one served day
    served_days: int = 0
    share_lines: int = 0  # (household, caregiver) with a served day
    caregiver_lines: int = 0
    warnings: int = 0  # distinct (household, caregiver, date) on a day not enrolled
    charge_fen: int = 0
    subsidy_fen: int = 0
    enrolled_mid_month: int = 0
    changed_category: int = 0
    two_caregivers: int = 0
    substitute_week: int = 0
    same_day_repeats: int = 0  # visits added to reach N × V (same caregiver, same day)


def half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), halves up; both >= 0."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass
class Month:
    """The generated inputs: category rows, and visits by day as (household, caregiver,
    repeat) index arrays (compact: 3,000,000 visits take some 70 MB here)."""

    household_ids: list[str]
    caregiver_ids: list[str]
    category_rows: list[tuple[str, date, str]]
    by_day: list[tuple[array[int], array[int], array[int]]]
    expected: Expected
    caregivers_billed: set[str] = field(default_factory=set)


def generate(n: int, per_household: int, seed: int, schedule: PolicySchedule) -> Month:
    rng = random.Random(seed)
    n_caregivers = max(1, n // HOUSEHOLDS_PER_CAREGIVER)
    household_ids = [f"H{i:06d}" for i in range(n)]
    caregiver_ids = [f"C{c:05d}" for c in range(n_caregivers)]
    days = [FIRST + timedelta(days=d) for d in range(DAYS)]
    fee = [schedule.on(day).fee_fen for day in days]
    subsidy = {c: [schedule.on(day).subsidy_fen(c) for day in days] for c, _ in CATEGORY_MIX}
    names = [c for c, _ in CATEGORY_MIX]
    weights = [w for _, w in CATEGORY_MIX]
    miss = 1 - (1 - MISSED_DAY) * min(per_household, DAYS) / DAYS
    month = Month(
        household_ids,
        caregiver_ids,
        [],
        [(array("l"), array("l"), array("l")) for _ in range(DAYS)],
        Expected(households=n, caregivers_total=n_caregivers),
    )
    ex = month.expected
    for start in range(0, n, GENERATE_CHUNK):
        stop = min(start + GENERATE_CHUNK, n)
        planned: list[tuple[int, int, int]] = []  # (household, caregiver, day index)
        enrolled: dict[int, list[str | None]] = {}
        for i in range(start, stop):
            hid = household_ids[i]
            primary = min(i // HOUSEHOLDS_PER_CAREGIVER, n_caregivers - 1)
            category = rng.choices(names, weights)[0]
            by_day: list[str | None] = [category] * DAYS
            since = date(2025, 1 + i % 12, 1)
            kind = rng.random()
            enrolled_on = None
            if kind < ENROLLED_MID_MONTH:
                enrolled_on = rng.randint(1, DAYS - 3)
                month.category_rows.append((hid, days[enrolled_on], category))
                by_day[:enrolled_on] = [None] * enrolled_on
                ex.enrolled_mid_month += 1
            elif kind < ENROLLED_MID_MONTH + CHANGES_CATEGORY:
                change = rng.randint(1, DAYS - 1)
                new = rng.choice([c for c in names if c != category])
                month.category_rows.append((hid, since, category))
                month.category_rows.append((hid, days[change], new))
                by_day[change:] = [new] * (DAYS - change)
                ex.changed_category += 1
            else:
                month.category_rows.append((hid, since, category))
            enrolled[i] = by_day
            week = rng.randint(0, DAYS - 7) if rng.random() < SUBSTITUTE_WEEK else None
            ex.substitute_week += week is not None
            second = rng.random() < TWO_CAREGIVERS
            ex.two_caregivers += second
            for d in range(DAYS):
                if by_day[d] is None or rng.random() < miss:
                    continue
                substituted = week is not None and week <= d < week + 7
                carer = (primary + n_caregivers // 2) % n_caregivers if substituted else primary
                planned.append((i, carer, d))
                if second and rng.random() < SECOND_CAREGIVER_DAY:
                    planned.append((i, (primary + 1) % n_caregivers, d))
            if enrolled_on is not None and rng.random() < STRAY_BEFORE_ENROLMENT:
                planned.append((i, primary, enrolled_on - 1))
        # exactly V visits per household over the chunk
        target = (stop - start) * per_household
        if len(planned) > target:
            dropped = set(rng.sample(range(len(planned)), len(planned) - target))
            planned = [p for k, p in enumerate(planned) if k not in dropped]
        elif planned and len(planned) < target:
            extra = [planned[rng.randrange(len(planned))] for _ in range(target - len(planned))]
            ex.same_day_repeats += len(extra)
            planned += extra
        _expect(month, planned, enrolled, fee, subsidy)
        repeats: dict[tuple[int, int, int], int] = {}
        for i, carer, d in planned:
            k = repeats.get((i, carer, d), 0)
            repeats[(i, carer, d)] = k + 1
            h_arr, c_arr, k_arr = month.by_day[d]
            h_arr.append(i)
            c_arr.append(carer)
            k_arr.append(k)
    ex.category_rows = len(month.category_rows)
    ex.caregiver_lines = len(month.caregivers_billed)
    return month


def _expect(
    month: Month,
    planned: list[tuple[int, int, int]],
    enrolled: dict[int, list[str | None]],
    fee: list[int],
    subsidy: dict[str, list[int]],
) -> None:
    """§6 for the chunk's households, from the planned visits (independent of the engine)."""
    ex = month.expected
    ex.visits += len(planned)
    seen: dict[int, tuple[set[int], set[int], set[tuple[int, int]]]] = {}
    for i, carer, d in planned:
        served, carers, stray = seen.setdefault(i, (set(), set(), set()))
        if enrolled[i][d] is None:
            stray.add((carer, d))
        else:
            served.add(d)
            carers.add(carer)
    ex.households_visited += len(seen)
    for i, (served, carers, stray) in seen.items():
        ex.warnings += len(stray)
        if not served:
            continue
        by_day = enrolled[i]
        charge = half_up(sum(fee[d] for d in served), DAYS)
        subsidy_sum = 0
        for d in served:
            category = by_day[d]
            assert category is not None
            subsidy_sum += subsidy[category][d]
        ex.household_lines += 1
        ex.served_days += len(served)
        ex.share_lines += len(carers)
        ex.charge_fen += charge
        ex.subsidy_fen += min(charge, half_up(subsidy_sum, DAYS))
        month.caregivers_billed.update(month.caregiver_ids[c] for c in carers)


def visit_rows(month: Month, rng: random.Random) -> Iterator[list[dict[str, Any]]]:
    """The visits day by day (as they arrive), shuffled within a day, in chunks of rows."""
    rows: list[dict[str, Any]] = []
    for d, (h_arr, c_arr, k_arr) in enumerate(month.by_day):
        day = FIRST + timedelta(days=d)
        tag = f"V{day:%Y%m%d}-"
        order = list(range(len(h_arr)))
        rng.shuffle(order)
        for j in order:
            household = month.household_ids[h_arr[j]]
            caregiver = month.caregiver_ids[c_arr[j]]
            rows.append(
                {
                    "visit_id": f"{tag}{household}-{caregiver}-{k_arr[j]}",
                    "household_id": household,
                    "caregiver_id": caregiver,
                    "date": day,
                }
            )
            if len(rows) == INSERT_CHUNK:
                yield rows
                rows = []
    if rows:
        yield rows


async def load(svc: Service, month: Month, seed: int) -> None:
    for start in range(0, len(month.category_rows), INSERT_CHUNK):
        async with svc.engine.begin() as conn:
            await insert_many(
                conn,
                categories,
                [
                    {"household_id": h, "from_date": d, "category": c}
                    for h, d, c in month.category_rows[start : start + INSERT_CHUNK]
                ],
            )
    for rows in visit_rows(month, random.Random(seed + 1)):
        async with svc.engine.begin() as conn:
            await insert_many(conn, visits, rows)


async def vacuum_analyze(svc: Service) -> None:
    """PostgreSQL: what autovacuum would do after the load (statistics, visibility map)."""
    schema = schema_for(svc.database_url, billing_app.NAME)
    if schema is None:
        return
    async with svc.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in (categories, visits):
            await conn.exec_driver_sql(f'VACUUM ANALYZE "{schema}"."{table.name}"')


async def setup(
    db_dir: Path,
    database_url: str | None,
    n: int,
    per_household: int,
    seed: int,
    phase_seconds: float,
) -> dict[str, Any]:
    settings = settings_for(db_dir, database_url)
    svc = billing_app.build(settings, SimulatedClock(CLOCK_START))
    try:
        await within(phase_seconds, "migrating billing's database", svc.migrate())
        t = time.perf_counter()
        month = generate(n, per_household, seed, billing_app.policy_schedule(settings))
        generated_s = time.perf_counter() - t
        t = time.perf_counter()
        await within(
            phase_seconds,
            f"inserting {month.expected.visits:,} visits",
            load(svc, month, seed),
        )
        inserted_s = time.perf_counter() - t
        t = time.perf_counter()
        await within(phase_seconds, "VACUUM ANALYZE", vacuum_analyze(svc))
        analyzed_s = time.perf_counter() - t
    finally:
        await svc.engine.dispose()
    return {
        "expected": asdict(month.expected),
        "generated_s": round(generated_s, 3),
        "inserted_s": round(inserted_s, 3),
        "analyzed_s": round(analyzed_s, 3) if database_url else None,
    }


# -- timed part (in a fresh process) ---------------------------------------------------------


class Stages:
    """Where a run's time goes: module functions of ``running`` and the store's reads,
    wrapped while a run is timed (a clock read per call: 100,000 households cost some
    0.05 s)."""

    WRAPPED_ASYNC = ("compute_month", "_store_revision")
    WRAPPED_SYNC = ("bill_household", "invariant_problems")

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def _add(self, name: str, since: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - since

    def _async(self, name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self._add(name, t)

        return timed

    def _sync(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._add(name, t)

        return timed

    @contextlib.contextmanager
    def wrapped(self, svc: Service) -> Iterator[None]:
        originals = {name: getattr(running, name) for name in self.WRAPPED_ASYNC}
        originals |= {name: getattr(running, name) for name in self.WRAPPED_SYNC}
        read = svc.store.read
        try:
            for name in self.WRAPPED_ASYNC:
                setattr(running, name, self._async(name, originals[name]))
            for name in self.WRAPPED_SYNC:
                setattr(running, name, self._sync(name, originals[name]))
            svc.store.read = self._async("store.read", read)  # type: ignore[method-assign]
            yield
        finally:
            for name, fn in originals.items():
                setattr(running, name, fn)
            svc.store.read = read  # type: ignore[method-assign]

    def summary(self, total: float) -> dict[str, float]:
        s = self.seconds
        compute = s.get("compute_month", 0.0)
        reads = s.get("store.read", 0.0)
        engine = s.get("bill_household", 0.0)
        invariants = s.get("invariant_problems", 0.0)
        store = s.get("_store_revision", 0.0)
        return {
            name: round(value, 3)
            for name, value in {
                "compute_month": compute,
                "compute_reads": reads,
                "compute_bill_household": engine,
                "compute_invariant_problems": invariants,
                "compute_other": compute - reads - engine - invariants,
                "store_revision": store,
                "request_claim_finish_commit": total - compute - store,
            }.items()
        }


async def one_run(
    svc: Service, schedule: PolicySchedule, rss: PeakRss, profile: Path | None
) -> dict[str, Any]:
    """RunBilling's work (request_run in a transaction), then the worker's run_next; timed."""
    stages = Stages()
    profiler = cProfile.Profile() if profile else None
    before = rss.reset()
    t = time.perf_counter()
    with stages.wrapped(svc):
        if profiler:
            profiler.enable()
        try:
            async with svc.store.transaction() as tx:
                await running.request_run(tx, RunBilling(month=MONTH, requested_by="bench"))
            ran = await running.RunWorker(svc.store, schedule, "bench").run_next()
        finally:
            if profiler:
                profiler.disable()
    seconds = time.perf_counter() - t
    peak = rss.peak()
    if not ran:
        raise BenchError("the worker found no run to carry out")
    top = None
    if profiler and profile:
        profiler.dump_stats(profile)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(30)
        top = out.getvalue()
    return {
        "seconds": round(seconds, 3),
        "rss_before": before,
        "rss_peak": peak,
        "rss_growth": peak - before if peak is not None and before is not None else None,
        "stages": stages.summary(seconds),
        "profiled": profiler is not None,
        "profile_top": top,
    }


async def baseline_queries(svc: Service) -> dict[str, Any]:
    """The bare SQL aggregations of the month's visits, each fetched completely."""
    in_month = visits.c.date.between(FIRST, LAST)
    served = sa.func.count(sa.distinct(visits.c.date))
    out: dict[str, Any] = {}
    for name, query in (
        (
            "per_household_caregiver",
            sa.select(visits.c.household_id, visits.c.caregiver_id, served)
            .where(in_month)
            .group_by(visits.c.household_id, visits.c.caregiver_id),
        ),
        (
            "per_household",
            sa.select(visits.c.household_id, served)
            .where(in_month)
            .group_by(visits.c.household_id),
        ),
    ):
        t = time.perf_counter()
        rows = await svc.store.read(query)
        out[name] = {
            "seconds": round(time.perf_counter() - t, 3),
            "rows": len(rows),
            "served_days": sum(r[-1] for r in rows),
        }
    out["seconds"] = round(sum(v["seconds"] for v in out.values()), 3)
    return out


async def timed_part(config: dict[str, Any]) -> dict[str, Any]:
    phase_seconds = config["timeout"]
    profile = Path(config["profile"]) if config["profile"] else None
    settings = settings_for(Path(config["db_dir"]), config["database_url"])
    svc = billing_app.build(settings, SimulatedClock(CLOCK_START))
    schedule = billing_app.policy_schedule(settings)
    rss = PeakRss()
    rss.start()
    try:
        before = rss.reset()
        baseline = await within(phase_seconds, "the bare SQL aggregation", baseline_queries(svc))
        baseline["rss_before"], baseline["rss_peak"] = before, rss.peak()
        first = await within(phase_seconds, "the billing run", one_run(svc, schedule, rss, profile))
        again = await within(
            phase_seconds, "the re-run, unchanged", one_run(svc, schedule, rss, None)
        )
    finally:
        rss.stop()
        await svc.engine.dispose()
    return {
        "baseline": baseline,
        "run": first,
        "rerun": again,
        "process_peak_rss": PeakRss.current(b"VmHWM:"),
        "ru_maxrss": max_rss_bytes(),
    }


def child_main(config_json: str) -> int:
    configure_logging(level="WARNING")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        result = asyncio.run(timed_part(json.loads(config_json)))
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    print(RESULT_MARK + json.dumps(result), flush=True)
    return 0


def run_child(config: dict[str, Any]) -> dict[str, Any]:
    """The timed part in a fresh interpreter; its last marked stdout line is the result."""
    limit = 3 * config["timeout"] + 120
    try:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(config)],
            stdout=subprocess.PIPE,
            text=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"the timed process did not finish in {limit:g} s") from None
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return dict(json.loads(line.removeprefix(RESULT_MARK)))
    raise BenchError(f"the timed process failed (exit status {done.returncode}; see above)")


# -- checks -----------------------------------------------------------------------------------


def fen(text: str) -> int:
    return int(Decimal(text).scaleb(2))


async def completed_events(svc: Service) -> list[dict[str, Any]]:
    outbox = svc.store.tables.outbox
    rows = await svc.store.read(
        sa.select(outbox.c.body)
        .where(outbox.c.subject == subjects.BILLING_RUN_COMPLETED)
        .order_by(outbox.c.id)
    )
    return [dict(json.loads(r.body)["payload"]) for r in rows]


async def checks(db_dir: Path, database_url: str | None, ex: Expected) -> dict[str, Any]:
    """The stored revision against the generator's figures; every mismatch is listed."""
    settings = settings_for(db_dir, database_url)
    svc = billing_app.build(settings, SimulatedClock(CLOCK_START))
    problems: list[str] = []

    def want(what: str, found: Any, expected: Any) -> None:
        if found != expected:
            problems.append(f"{what}: found {found}, expected {expected}")

    try:
        at_rev1 = (bill_households.c.month == MONTH, bill_households.c.revision == 1)
        households = await svc.store.read(sa.select(bill_households).where(*at_rev1))
        shares = await svc.store.read(
            sa.select(bill_shares).where(bill_shares.c.month == MONTH, bill_shares.c.revision == 1)
        )
        carers = await svc.store.read(
            sa.select(bill_caregivers).where(
                bill_caregivers.c.month == MONTH, bill_caregivers.c.revision == 1
            )
        )
        revisions = await svc.store.read(sa.select(billing_revisions))
        runs = await svc.store.read(sa.select(billing_runs.c.status, billing_runs.c.revision))
        events = await completed_events(svc)
    finally:
        await svc.engine.dispose()
    charge = sum(fen(h.charge) for h in households)
    subsidy = sum(fen(h.subsidy) for h in households)
    family = sum(fen(h.family_share) for h in households)
    pay = sum(fen(c.pay) for c in carers)
    want("household lines", len(households), ex.household_lines)
    want("share lines", len(shares), ex.share_lines)
    want("caregiver lines", len(carers), ex.caregiver_lines)
    want("served days", sum(h.served_days for h in households), ex.served_days)
    want("Σ charge (fen)", charge, ex.charge_fen)
    want("Σ subsidy (fen)", subsidy, ex.subsidy_fen)
    want("Σ government shares = Σ subsidy", sum(fen(s.government) for s in shares), subsidy)
    want("Σ family shares = Σ family share", sum(fen(s.family) for s in shares), family)
    want("Σ pay = Σ charge", pay, charge)
    want("revisions", len(revisions), 1)
    want("runs (status, revision)", sorted(tuple(r) for r in runs), [("completed", 1)] * 2)
    want("BillingRunCompleted events", len(events), 2)
    if revisions:
        summary = revisions[0].summary
        want("summary households", summary["households"], ex.household_lines)
        want("summary visits", summary["visits"], ex.visits)
        want("summary warnings", summary["warnings"], ex.warnings)
        want("summary Σ pay", fen(summary["totals"]["pay"]), charge)
    if len(events) == 2:
        first, again = events
        want("first run (revision, new)", (first["revision"], first["new_revision"]), (1, True))
        want("re-run (revision, new)", (again["revision"], again["new_revision"]), (1, False))
        want("re-run fingerprint", again["fingerprint"], first["fingerprint"])
    return {
        "household_lines": len(households),
        "share_lines": len(shares),
        "caregiver_lines": len(carers),
        "served_days": sum(h.served_days for h in households),
        "totals": {
            "charge": f"{Decimal(charge).scaleb(-2):.2f}",
            "subsidy": f"{Decimal(subsidy).scaleb(-2):.2f}",
            "family_share": f"{Decimal(family).scaleb(-2):.2f}",
            "pay": f"{Decimal(pay).scaleb(-2):.2f}",
        },
        "warnings": revisions[0].summary["warnings"] if revisions else None,
        "problems": problems,
    }


# -- driver -----------------------------------------------------------------------------------


def ratio(figure: float, baseline: float) -> float:
    return round(figure / baseline, 1) if baseline > 0 else float("inf")


def bench(
    root: Path,
    database_url: str | None,
    n: int,
    per_household: int,
    seed: int,
    phase_seconds: float,
    profile: Path | None,
) -> dict[str, Any]:
    t_start = time.perf_counter()
    db_dir = root / "db"
    prepared = asyncio.run(setup(db_dir, database_url, n, per_household, seed, phase_seconds))
    ex = Expected(**prepared["expected"])
    timed = run_child(
        {
            "db_dir": str(db_dir),
            "database_url": database_url,
            "timeout": phase_seconds,
            "profile": str(profile) if profile else None,
        }
    )
    found = asyncio.run(checks(db_dir, database_url, ex))
    if found["problems"]:
        raise BenchError("checks failed: " + "; ".join(found["problems"]))
    run, rerun, baseline = timed["run"], timed["rerun"], timed["baseline"]
    if baseline["per_household"]["rows"] != ex.households_visited:
        raise BenchError(
            f"baseline: {baseline['per_household']['rows']} households with visits, "
            f"expected {ex.households_visited}"
        )
    growth = run["rss_growth"]
    database = (
        f"PostgreSQL {make_url(database_url).render_as_string(hide_password=True)}"
        if database_url
        else "SQLite (WAL) file in the temp dir"
    )
    seconds = run["seconds"]
    return {
        "month": MONTH,
        "households": n,
        "caregivers": ex.caregivers_total,
        "visits": ex.visits,
        "seed": seed,
        "database": database,
        "setup": {k: v for k, v in prepared.items() if k != "expected"},
        "generated": asdict(ex),
        "baseline_sql": baseline,
        "run": {
            **{k: v for k, v in run.items() if k != "profile_top"},
            "households_per_s": round(n / seconds, 1),
            "visits_per_s": round(ex.visits / seconds, 1),
        },
        "rerun_unchanged": {k: v for k, v in rerun.items() if k != "profile_top"},
        "process_peak_rss": timed["process_peak_rss"],
        "ru_maxrss": timed["ru_maxrss"],
        "checks": found,
        "targets": [
            {
                "figure": "billing run, revision 1 stored",
                "value": seconds,
                "unit": "s",
                "baseline": baseline["seconds"],
                "ratio": ratio(seconds, baseline["seconds"]),
                "target": f"<= {TARGET_SECONDS:g} s",
                "met": seconds <= TARGET_SECONDS,
            },
            {
                "figure": "re-run, unchanged (finds revision 1)",
                "value": rerun["seconds"],
                "unit": "s",
                "baseline": baseline["seconds"],
                "ratio": ratio(rerun["seconds"], baseline["seconds"]),
                "target": "",
                "met": None,
            },
            {
                "figure": "peak RSS growth during the run",
                "value": growth,
                "unit": "B",
                "baseline": None,
                "ratio": None,
                "target": f"< {TARGET_BYTES // MIB} MiB",
                "met": growth < TARGET_BYTES if growth is not None else None,
            },
        ],
        "profile_top": run["profile_top"],
        "total_seconds": round(time.perf_counter() - t_start, 1),
    }


def mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / MIB:,.0f} MiB"


def print_table(report: dict[str, Any]) -> None:
    g, setup_, base = report["generated"], report["setup"], report["baseline_sql"]
    run, rerun, chk = report["run"], report["rerun_unchanged"], report["checks"]
    print(
        f"billing benchmark: month {report['month']}, {report['households']:,} households "
        f"({report['caregivers']:,} caregivers), {report['visits']:,} visits"
    )
    print(f"storage: {report['database']}; the timed part in a fresh Python process")
    print(
        f"setup (not timed): {g['category_rows']:,} category rows and {g['visits']:,} visits "
        f"generated in {setup_['generated_s']:.1f} s, inserted in {setup_['inserted_s']:.1f} s"
        + (
            f", VACUUM ANALYZE {setup_['analyzed_s']:.1f} s"
            if setup_["analyzed_s"] is not None
            else ""
        )
    )
    print(
        f"  {g['enrolled_mid_month']:,} enrolled mid-month, {g['changed_category']:,} change "
        f"category, {g['two_caregivers']:,} with a second caregiver, {g['substitute_week']:,} "
        f"with a substitute week, {g['same_day_repeats']:,} repeat visits (same caregiver, "
        "same day)"
    )
    print()
    print(f"{'figure':<40} {'value':>10} {'bare SQL':>10} {'ratio':>7} {'target':>11}  met")
    for row in report["targets"]:
        if row["unit"] == "B":
            value, baseline, factor = mib(row["value"]), "", ""
        else:
            value = f"{row['value']:.2f} s"
            baseline = f"{row['baseline']:.2f} s"
            factor = f"{row['ratio']:.1f}x"
        met = "" if row["met"] is None else ("yes" if row["met"] else "no")
        print(
            f"{row['figure']:<40} {value:>10} {baseline:>10} {factor:>7} {row['target']:>11}  {met}"
        )
    print()
    hc, hh = base["per_household_caregiver"], base["per_household"]
    print(
        f"bare SQL: served days per (household, caregiver) {hc['seconds']:.2f} s "
        f"({hc['rows']:,} rows), per household {hh['seconds']:.2f} s ({hh['rows']:,} rows)"
    )
    print(
        f"run: {run['households_per_s']:,.0f} households/s, {run['visits_per_s']:,.0f} visits/s"
        + ("; under cProfile (slower)" if run["profiled"] else "")
    )
    print(
        f"memory: RSS {mib(run['rss_before'])} before the run, peak {mib(run['rss_peak'])} "
        f"during it; re-run peak {mib(rerun['rss_peak'])}, bare SQL peak "
        f"{mib(base['rss_peak'])}; the timed process peaked at "
        f"{mib(report['process_peak_rss'])} (VmHWM; ru_maxrss {mib(report['ru_maxrss'])}, "
        "which counts the parent it was spawned from)"
    )
    for label, part in (("run", run), ("re-run", rerun)):
        s = part["stages"]
        print(
            f"where the time goes ({label}): compute_month {s['compute_month']:.2f} s "
            f"(reads {s['compute_reads']:.2f}, bill_household "
            f"{s['compute_bill_household']:.2f}, invariant_problems "
            f"{s['compute_invariant_problems']:.2f}, the rest {s['compute_other']:.2f}), "
            f"storing the revision {s['store_revision']:.2f} s, request/claim/finish "
            f"{s['request_claim_finish_commit']:.2f} s"
        )
    print(
        f"checks: {chk['household_lines']:,} household lines, {chk['share_lines']:,} share "
        f"lines, {chk['caregiver_lines']:,} caregiver lines, {chk['served_days']:,} served "
        f"days, {chk['warnings']:,} warnings; totals {chk['totals']} (Σ pay = Σ charge); "
        "all as expected"
    )
    print(f"whole run {report['total_seconds']:.1f} s")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=100_000, help="households")
    parser.add_argument(
        "--visits-per-household",
        type=int,
        default=30,
        help="visits per household on average (the month has N × this many)",
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to use instead of SQLite, e.g. "
        "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres; the bench creates a fresh "
        "database beside the one named and drops it at the end",
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generator")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per phase")
    parser.add_argument("--profile", type=Path, help="cProfile the first run into FILE")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (and database)")
    args = parser.parse_args(argv)
    if args.households < 1 or args.visits_per_household < 1 or args.timeout <= 0:
        parser.error("--households and --visits-per-household must be >= 1, --timeout > 0")
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must be a postgresql+asyncpg:// URL")

    configure_logging(level="WARNING")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up on kill as on Ctrl-C
    root = Path(tempfile.mkdtemp(prefix="homecare-bench-billing-"))
    database_url = None
    try:
        if args.database_url:
            from scheduling import fresh_database

            database_url = fresh_database(args.database_url)
        report = bench(
            root,
            database_url,
            args.households,
            args.visits_per_household,
            args.seed,
            args.timeout,
            args.profile.resolve() if args.profile else None,
        )
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(
                f"kept {root}" + (f" and {database_url}" if database_url else ""), file=sys.stderr
            )
        else:
            shutil.rmtree(root, ignore_errors=True)
            if database_url:
                from scheduling import drop_database

                drop_database(args.database_url, database_url)
    if report["profile_top"]:
        print(report["profile_top"], file=sys.stderr)
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k != "profile_top"}, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
