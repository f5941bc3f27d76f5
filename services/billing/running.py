"""Billing runs: a month computed from billing's own projection (categories, visits), stored
as a revision with its lines, adjustments against the previous revision, closed months.

A run is requested by a command (``request_run``, in the consumer's transaction, so it is
never lost) and carried out by ``RunWorker`` outside any consumer: a city's month takes
longer than a message's acknowledgement wait. The worker claims a run with a lease, so of
two billing instances one computes it, and a run whose instance died is taken over."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from contracts import subjects
from contracts.billing.runs_v1 import (
    BillingProgress,
    BillingRunCompleted,
    BillingRunRejected,
    BillingRunStarted,
    BillingTotals,
    CloseMonth,
    MonthClosed,
    RunBilling,
)
from contracts.envelope import new_id
from services.billing.engine import (
    BillingResult,
    MonthBilling,
    PolicySchedule,
    bill_household,
    invariant_problems,
)
from services.billing.model import CategoryFrom, month_bounds
from services.billing.store import (
    bill_adjustments,
    bill_caregivers,
    bill_households,
    bill_shares,
    billing_revisions,
    billing_runs,
    categories,
    late_months,
    month_closures,
    visits,
)
from services.infra.bulk import gc_paused
from services.infra.bus.store import MessageStore, Tx
from services.infra.logging import get_logger
from services.infra.upsert import insert_ignore, insert_many

log = get_logger("homecare.billing.runs")

# Households read per query while a month is computed (keeps memory flat).
CHUNK = 2000
LEASE = timedelta(seconds=60)
# Warnings kept with a revision (the count is always complete).
KEPT_WARNINGS = 1000

Publish = Callable[[str, bytes], Awaitable[None]]
# (charge, subsidy, family share) of each household; (pay, government, family) of each caregiver
Amounts = tuple[Decimal, Decimal, Decimal]
Lines = tuple[dict[str, Amounts], dict[str, Amounts]]


# -- commands ---------------------------------------------------------------------------------


async def request_run(tx: Tx, cmd: RunBilling) -> None:
    """Keep the request (the worker runs it); refused at once for a closed month."""
    closed = await _closure(tx.conn, cmd.month)
    if closed is not None:
        await tx.emit(
            subjects.BILLING_RUN_REJECTED,
            BillingRunRejected(
                month=cmd.month,
                reason=f"{cmd.month} was closed at revision {closed.revision}; "
                "corrections go into the next month",
                reason_zh=f"{cmd.month} 已于第 {closed.revision} 版结账，更正计入下月",
            ),
        )
        return
    # The command's id names the run: a redelivered command is the same run.
    await insert_ignore(
        tx.conn,
        billing_runs,
        {
            "run_id": tx.cause.event_id if tx.cause else new_id(),
            "correlation_id": tx.cause.correlation_id if tx.cause else None,
            "month": cmd.month,
            "requested_by": cmd.requested_by,
            "requested_at": tx.clock.now(),
            "status": "requested",
        },
    )


async def close_month(tx: Tx, cmd: CloseMonth) -> None:
    """Close the month at its latest revision, once it has one and no run is under way."""

    async def refuse(reason: str, reason_zh: str) -> None:
        await tx.emit(
            subjects.BILLING_RUN_REJECTED,
            BillingRunRejected(month=cmd.month, reason=reason, reason_zh=reason_zh),
        )

    if await _closure(tx.conn, cmd.month) is not None:
        return await refuse(f"{cmd.month} is already closed", f"{cmd.month} 已结账")
    pending = await tx.conn.scalar(
        sa.select(sa.func.count()).where(
            billing_runs.c.month == cmd.month, billing_runs.c.status.in_(("requested", "running"))
        )
    )
    if pending:
        return await refuse(
            f"a run of {cmd.month} is under way; close it when the run completed",
            f"{cmd.month} 正在结算，请结算完成后再结账",
        )
    latest = (
        await tx.conn.execute(
            sa.select(billing_revisions)
            .where(billing_revisions.c.month == cmd.month)
            .order_by(billing_revisions.c.revision.desc())
            .limit(1)
        )
    ).first()
    if latest is None:
        return await refuse(
            f"{cmd.month} has no billing run yet; run it first", f"{cmd.month} 尚未结算，请先结算"
        )
    await tx.conn.execute(
        sa.insert(month_closures).values(
            month=cmd.month,
            revision=latest.revision,
            closed_by=cmd.closed_by,
            closed_at=tx.clock.now(),
        )
    )
    # Corrections of earlier months carried into this one are now settled.
    carried = await tx.conn.scalars(
        sa.select(bill_adjustments.c.of_month)
        .distinct()
        .where(
            bill_adjustments.c.month == cmd.month,
            bill_adjustments.c.revision == latest.revision,
            bill_adjustments.c.kind == "correction",
        )
    )
    settled = list(carried.all())
    if settled:
        await tx.conn.execute(sa.delete(late_months).where(late_months.c.month.in_(settled)))
    await tx.emit(
        subjects.MONTH_CLOSED,
        MonthClosed(
            month=cmd.month,
            revision=latest.revision,
            closed_by=cmd.closed_by,
            totals=BillingTotals(**latest.summary["totals"]),
        ),
    )


async def note_late_input(tx: Tx, day: date) -> None:
    """A visit or category for ``day`` arrived: a closed month from then on gets corrected
    in the next run of a later month."""
    month = day.strftime("%Y-%m")
    closed = await tx.conn.scalars(
        sa.select(month_closures.c.month).where(month_closures.c.month >= month)
    )
    for closed_month in closed.all():
        await insert_ignore(tx.conn, late_months, {"month": closed_month})


# -- computing a month ------------------------------------------------------------------------


@dataclass
class Computed:
    result: BillingResult
    fingerprint: str
    visits: int


async def compute_month(
    store: MessageStore,
    month: str,
    schedule: PolicySchedule,
    progress: Callable[[int, int], Awaitable[None]] | None = None,
) -> Computed:
    """The month from what billing holds now, household by household (memory stays flat),
    with the fingerprint of exactly the inputs that decide it."""
    first, last = month_bounds(month)
    digest = hashlib.sha256(repr(schedule).encode())
    periods: dict[str, list[CategoryFrom]] = {}
    for r in await store.read(
        sa.select(categories)
        .where(categories.c.from_date <= last)
        .order_by(categories.c.household_id, categories.c.from_date)
    ):
        periods.setdefault(r.household_id, []).append(
            CategoryFrom(r.household_id, r.from_date, r.category)
        )
        digest.update(f"c|{r.household_id}|{r.from_date}|{r.category}\n".encode())
    # The month's first and last day go into the SQL as literals: PostgreSQL plans the chunk
    # query below once for all chunks (a prepared statement), and with the dates as
    # parameters that plan reads the month's whole date index for every chunk.
    in_month = visits.c.date.between(_literal_date(first), _literal_date(last))
    served = [
        h
        for (h,) in await store.read(
            sa.select(visits.c.household_id)
            .distinct()
            .where(in_month)
            .order_by(visits.c.household_id)
        )
    ]
    billing = MonthBilling(month)
    seen = 0
    for start in range(0, len(served), CHUNK):
        chunk = served[start : start + CHUNK]
        # The cyclic collector waits while a chunk is read and billed, and runs between
        # chunks: each of its full passes walks every bill kept so far, and a city's month
        # (3,000,000 visits) set off some 30 of them, a fifth of the run.
        with gc_paused(len(chunk)):
            rows = await store.read(
                sa.select(visits.c.household_id, visits.c.date, visits.c.caregiver_id)
                .where(in_month, visits.c.household_id.between(chunk[0], chunk[-1]))
                .order_by(visits.c.household_id, visits.c.date, visits.c.caregiver_id)
            )
            seen += len(rows)
            by_household: dict[str, list[tuple[str, date]]] = {}
            for h, day, caregiver in rows:
                by_household.setdefault(h, []).append((caregiver, day))
            del rows
            for h in chunk:
                days = by_household.get(h, [])
                distinct = sorted(set(days), key=lambda cd: (cd[1], cd[0]))
                digest.update(
                    "".join(f"v|{h}|{d}|{c}\n" for c, d in distinct).encode(),
                )
                billing.add(bill_household(month, h, periods.get(h, []), days, schedule))
        if progress:
            await progress(min(start + CHUNK, len(served)), len(served))
    with gc_paused(len(served)):
        result = billing.result()
        problems = invariant_problems(result)
    if problems:  # never store a result that breaks the rules
        raise AssertionError(f"billing {month}: {problems}")
    return Computed(result, digest.hexdigest(), seen)


def _literal_date(day: date) -> sa.BindParameter[date]:
    return sa.bindparam(None, day, type_=sa.Date, literal_execute=True)


# -- storing a run ----------------------------------------------------------------------------


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def fraction_text(weight: Fraction) -> str:
    return f"{weight.numerator}/{weight.denominator}"


def totals_of(result: BillingResult) -> dict[str, str]:
    t = result.totals
    return {
        "charge": money(t.charge),
        "subsidy": money(t.subsidy),
        "family_share": money(t.family_share),
        "pay": money(t.pay),
    }


async def _latest_revision(conn: Any, month: str) -> Any:
    return (
        await conn.execute(
            sa.select(billing_revisions)
            .where(billing_revisions.c.month == month)
            .order_by(billing_revisions.c.revision.desc())
            .limit(1)
        )
    ).first()


async def _lines(conn: Any, month: str, revision: int) -> Lines:
    households = {
        r.household_id: (Decimal(r.charge), Decimal(r.subsidy), Decimal(r.family_share))
        for r in await conn.execute(
            sa.select(bill_households).where(
                bill_households.c.month == month, bill_households.c.revision == revision
            )
        )
    }
    caregivers = {
        r.caregiver_id: (Decimal(r.pay), Decimal(r.government_part), Decimal(r.family_part))
        for r in await conn.execute(
            sa.select(bill_caregivers).where(
                bill_caregivers.c.month == month, bill_caregivers.c.revision == revision
            )
        )
    }
    return households, caregivers


def _current_lines(
    result: BillingResult,
) -> Lines:
    households = {b.household_id: (b.charge, b.subsidy, b.family_share) for b in result.households}
    caregivers = {
        c.caregiver_id: (c.pay, c.government_part, c.family_part) for c in result.caregivers
    }
    return households, caregivers


def differences(
    kind: str,
    of_month: str,
    before: Lines,
    after: Lines,
) -> list[dict[str, Any]]:
    """Adjustment lines (after − before) for every household and caregiver that changed."""
    zero = (Decimal(0), Decimal(0), Decimal(0))
    lines = []
    for party, old, new in (
        ("household", before[0], after[0]),
        ("caregiver", before[1], after[1]),
    ):
        for party_id in sorted(set(old) | set(new)):
            delta = [
                b - a for a, b in zip(old.get(party_id, zero), new.get(party_id, zero), strict=True)
            ]
            if any(delta):
                lines.append(
                    {
                        "kind": kind,
                        "of_month": of_month,
                        "party": party,
                        "party_id": party_id,
                        "charge": money(delta[0]),
                        "subsidy": money(delta[1]),
                        "family_share": money(delta[2]),
                    }
                )
    return lines


async def _store_revision(
    tx: Tx, run: Any, computed: Computed, corrections: list[dict[str, Any]]
) -> tuple[int, bool]:
    """The run's revision: the latest one when nothing changed, else a new one with its
    lines and adjustments. Returns (revision, whether it is new)."""
    month = run.month
    latest = await _latest_revision(tx.conn, month)
    carried = sorted(corrections, key=lambda c: (c["of_month"], c["party"], c["party_id"]))
    fingerprint = hashlib.sha256(
        (computed.fingerprint + repr([sorted(c.items()) for c in carried])).encode()
    ).hexdigest()
    if latest is not None and latest.fingerprint == fingerprint:
        return latest.revision, False
    revision = 1 if latest is None else latest.revision + 1
    result = computed.result
    await insert_many(
        tx.conn,
        bill_households,
        [
            {
                "month": month,
                "revision": revision,
                "household_id": b.household_id,
                "served_days": b.served_days,
                "charge": money(b.charge),
                "subsidy": money(b.subsidy),
                "family_share": money(b.family_share),
            }
            for b in result.households
        ],
    )
    await insert_many(
        tx.conn,
        bill_shares,
        [
            {
                "month": month,
                "revision": revision,
                "household_id": b.household_id,
                "caregiver_id": s.caregiver_id,
                "weight": fraction_text(s.weight),
                "government": money(s.government),
                "family": money(s.family),
            }
            for b in result.households
            for s in b.shares
        ],
    )
    await insert_many(
        tx.conn,
        bill_caregivers,
        [
            {
                "month": month,
                "revision": revision,
                "caregiver_id": c.caregiver_id,
                "days": _days_text(c.days),
                "government_part": money(c.government_part),
                "family_part": money(c.family_part),
                "pay": money(c.pay),
            }
            for c in result.caregivers
        ],
    )
    adjustments = []
    if latest is not None:
        before = await _lines(tx.conn, month, latest.revision)
        adjustments = differences("revision", month, before, _current_lines(result))
    lines = [
        {"month": month, "revision": revision, "line": n, **line}
        for n, line in enumerate([*adjustments, *carried], start=1)
    ]
    await insert_many(tx.conn, bill_adjustments, lines)
    await tx.conn.execute(
        sa.insert(billing_revisions).values(
            month=month,
            revision=revision,
            run_id=run.run_id,
            requested_by=run.requested_by,
            fingerprint=fingerprint,
            summary={
                "totals": totals_of(result),
                "households": len(result.households),
                "caregivers": len(result.caregivers),
                "visits": computed.visits,
                "adjustments": len(adjustments),
                "corrections": len(carried),
                "warnings": len(result.warnings),
            },
            warnings=result.warnings[:KEPT_WARNINGS],
            created_at=tx.clock.now(),
        )
    )
    return revision, True


def _days_text(days: Fraction) -> str:
    """A weight sum as the result's 2-place decimal (half-up)."""
    exact = Decimal(days.numerator) / Decimal(days.denominator)
    return money(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


async def _closure(conn: Any, month: str) -> Any:
    return (
        await conn.execute(sa.select(month_closures).where(month_closures.c.month == month))
    ).first()


# -- the worker -------------------------------------------------------------------------------


class RunWorker:
    """Carries out requested runs, one at a time per instance, oldest first."""

    def __init__(
        self,
        store: MessageStore,
        schedule: PolicySchedule,
        instance: str,
        publish: Publish | None = None,
        poll: float = 1.0,
    ) -> None:
        self._store = store
        self._schedule = schedule
        self._instance = instance
        self._publish = publish
        self._poll = poll
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.completed = 0
        store.on_commit(self._wake.set)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"billing-runs-{self._instance}")

    async def stop(self) -> None:
        """Stop after the current step; a run cut short keeps its lease and is taken over
        (here or elsewhere) once the lease ends."""
        self._stopping = True
        self._wake.set()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                ran = await self.run_next()
                failures = 0
            except Exception as exc:  # a database outage must not end the worker
                failures += 1
                log.warning("billing run failed; will retry", error=repr(exc), attempt=failures)
                ran = False
                await asyncio.sleep(min(0.5 * 2**failures, 30.0))
            if not ran and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()

    async def run_next(self) -> bool:
        """Claim and carry out the oldest waiting run; False when there is none."""
        run = await self._claim()
        if run is None:
            return False
        log.info("billing run started", run_id=run.run_id, month=run.month)
        lease = asyncio.create_task(self._keep_lease(run.run_id))
        try:
            computed = await compute_month(
                self._store, run.month, self._schedule, self._progress(run)
            )
            corrections = await self._corrections(run.month)
        finally:
            lease.cancel()
        await self._finish(run, computed, corrections)
        self.completed += 1
        return True

    async def _claim(self) -> Any:
        now = datetime.now(UTC)
        candidates = await self._store.read(
            sa.select(billing_runs)
            .where(
                (billing_runs.c.status == "requested")
                | ((billing_runs.c.status == "running") & (billing_runs.c.lease_until < now))
            )
            .order_by(billing_runs.c.requested_at, billing_runs.c.run_id)
            .limit(1)
        )
        if not candidates:
            return None
        run = candidates[0]
        # The run's events join the flow of the command that asked for it.
        async with self._store.transaction(correlation_id=run.correlation_id) as tx:
            claimed = await tx.conn.execute(
                sa.update(billing_runs)
                .where(billing_runs.c.run_id == run.run_id, billing_runs.c.status == run.status)
                .where(
                    billing_runs.c.lease_until.is_(None)
                    if run.lease_until is None
                    else billing_runs.c.lease_until == run.lease_until
                )
                .values(status="running", instance=self._instance, lease_until=now + LEASE)
            )
            if claimed.rowcount != 1:  # another instance was quicker
                return None
            await tx.emit(
                subjects.BILLING_RUN_STARTED,
                BillingRunStarted(
                    run_id=run.run_id, month=run.month, requested_by=run.requested_by
                ),
            )
        return run

    async def _keep_lease(self, run_id: str) -> None:
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            async with self._store.transaction() as tx:
                await tx.conn.execute(
                    sa.update(billing_runs)
                    .where(billing_runs.c.run_id == run_id)
                    .values(lease_until=datetime.now(UTC) + LEASE)
                )

    def _progress(self, run: Any) -> Callable[[int, int], Awaitable[None]]:
        async def report(done: int, total: int) -> None:
            if self._publish is None:
                return
            note = BillingProgress(
                run_id=run.run_id, month=run.month, done=done, total=total, stage="households"
            )
            with contextlib.suppress(Exception):  # progress is a courtesy, never a failure
                await self._publish(
                    subjects.BILLING_PROGRESS_PATTERN.format(run_id=run.run_id),
                    note.model_dump_json().encode(),
                )

        return report

    async def _corrections(self, month: str) -> list[dict[str, Any]]:
        """Closed earlier months whose inputs changed: what they would be now, against what
        was closed and the corrections already carried into closed months."""
        late = [
            m
            for (m,) in await self._store.read(
                sa.select(late_months.c.month).where(late_months.c.month < month)
            )
        ]
        lines: list[dict[str, Any]] = []
        for earlier in sorted(late):
            closure = (
                await self._store.read(
                    sa.select(month_closures).where(month_closures.c.month == earlier)
                )
            )[0]
            async with self._store.engine.connect() as conn:
                before = await _lines(conn, earlier, closure.revision)
                before = await _with_carried(conn, earlier, before)
            now = await compute_month(self._store, earlier, self._schedule)
            lines.extend(differences("correction", earlier, before, _current_lines(now.result)))
        return lines

    async def _finish(
        self, run: Any, computed: Computed, corrections: list[dict[str, Any]]
    ) -> None:
        async with self._store.transaction(correlation_id=run.correlation_id) as tx:
            current = (
                await tx.conn.execute(
                    sa.select(billing_runs).where(billing_runs.c.run_id == run.run_id)
                )
            ).first()
            if current is None or current.status != "running" or current.instance != self._instance:
                log.warning("billing run taken over meanwhile; result dropped", run_id=run.run_id)
                return
            if await _closure(tx.conn, run.month) is not None:
                await tx.conn.execute(
                    sa.update(billing_runs)
                    .where(billing_runs.c.run_id == run.run_id)
                    .values(
                        status="rejected", reason="closed meanwhile", completed_at=tx.clock.now()
                    )
                )
                await tx.emit(
                    subjects.BILLING_RUN_REJECTED,
                    BillingRunRejected(
                        month=run.month,
                        reason=f"{run.month} was closed while the run computed",
                        reason_zh=f"结算期间 {run.month} 已结账",
                    ),
                )
                return
            revision, new = await _store_revision(tx, run, computed, corrections)
            await tx.conn.execute(
                sa.update(billing_runs)
                .where(billing_runs.c.run_id == run.run_id)
                .values(status="completed", revision=revision, completed_at=tx.clock.now())
            )
            stored = await _latest_revision(tx.conn, run.month)
            summary = stored.summary
            await tx.emit(
                subjects.BILLING_RUN_COMPLETED,
                BillingRunCompleted(
                    run_id=run.run_id,
                    month=run.month,
                    revision=revision,
                    new_revision=new,
                    requested_by=run.requested_by,
                    fingerprint=stored.fingerprint,
                    households=summary["households"],
                    caregivers=summary["caregivers"],
                    visits=summary["visits"],
                    totals=BillingTotals(**summary["totals"]),
                    adjustments=summary["adjustments"] if new else 0,
                    corrections=summary["corrections"],
                    warnings=summary["warnings"],
                ),
            )
        log.info("billing run completed", run_id=run.run_id, month=run.month, revision=revision)


async def _with_carried(
    conn: Any,
    month: str,
    closed: Lines,
) -> Lines:
    """A closed month's lines plus the corrections of it already settled in closed months."""
    households, caregivers = dict(closed[0]), dict(closed[1])
    settled = await conn.execute(
        sa.select(bill_adjustments)
        .join(
            month_closures,
            (month_closures.c.month == bill_adjustments.c.month)
            & (month_closures.c.revision == bill_adjustments.c.revision),
        )
        .where(bill_adjustments.c.kind == "correction", bill_adjustments.c.of_month == month)
    )
    zero = (Decimal(0), Decimal(0), Decimal(0))
    for line in settled:
        target = households if line.party == "household" else caregivers
        a, b, c = target.get(line.party_id, zero)
        target[line.party_id] = (
            a + Decimal(line.charge),
            b + Decimal(line.subsidy),
            c + Decimal(line.family_share),
        )
    return households, caregivers
