"""Run the demo: a real nats-server, the three real services, a month on simulated time."""

from __future__ import annotations

import asyncio
import shutil
import time as wallclock
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from contracts import subjects
from contracts.billing.v1 import MonthSummary, MonthSummaryQuery
from contracts.scheduling.appraisal_v1 import RecordComplaint, RecordSatisfaction
from contracts.scheduling.diary_v1 import RecordLedgerEntry
from contracts.scheduling.v1 import ShiftScheduled
from services.billing.model import month_bounds
from services.client import BusClient, until
from services.demo import care, stories
from services.demo.console_users import demo_users, seed_console_users
from services.demo.phones import Phones
from services.demo.seed import STREET, DemoStreet, build_street
from services.demo.watch import BusWatcher
from services.infra.clock import SimulatedClock
from services.infra.nats_server import NatsServer
from services.infra.settings import Settings
from services.system import System

Progress = Callable[[str, int, int], None]


@dataclass
class DemoSummary:
    street: str
    month: str
    output_dir: str
    caregivers: int = 0
    households: int = 0
    care_requests: int = 0
    assignments: int = 0
    unmet: list[dict[str, Any]] = field(default_factory=list)
    shifts: int = 0
    shift_messages_received: int = 0
    visits_sent: int = 0
    visits_completed: int = 0
    visits_missed: int = 0
    visits_rejected: int = 0
    shifts_cancelled: int = 0
    missed_alerts: list[dict[str, Any]] = field(default_factory=list)  # VisitMissed
    diaries_sent: int = 0
    diaries_recorded: int = 0
    visits_without_diary: int = 0
    diaries_skipped_by: str | None = None  # the caregiver who writes one every other day
    health_warnings: list[dict[str, Any]] = field(default_factory=list)
    ledger: dict[str, Any] = field(default_factory=dict)
    billing: dict[str, Any] = field(default_factory=dict)
    billing_run: dict[str, Any] = field(default_factory=dict)
    eligibility: dict[str, Any] = field(default_factory=dict)
    shortlist: dict[str, Any] = field(default_factory=dict)
    batch: dict[str, Any] = field(default_factory=dict)
    replacement: dict[str, Any] = field(default_factory=dict)
    leave: dict[str, Any] = field(default_factory=dict)
    ratings: list[dict[str, Any]] = field(default_factory=list)  # sent after the month
    complaints: list[dict[str, Any]] = field(default_factory=list)
    appraisal: dict[str, Any] = field(default_factory=dict)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    console_users: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


async def run_demo(
    base: Settings,
    output_dir: Path,
    month: str = "2026-11",
    households: int = 120,
    caregivers: int = 80,
    progress: Progress | None = None,
) -> DemoSummary:
    started = wallclock.monotonic()
    first, last = month_bounds(month)
    _fresh_dir(output_dir)
    summary = DemoSummary(street=STREET, month=month, output_dir=str(output_dir))
    report = progress or (lambda *_: None)
    with NatsServer(output_dir / "nats") as server:
        # The demo keeps to its own folder: its own server and SQLite files, whatever
        # database the environment names, so every run starts from nothing.
        isolated = {
            f"{name}database_url": None
            for name in ("", "dispatch_", "scheduling_", "billing_", "console_")
        }
        # Scheduled jobs (the missed-visit check every 5 simulated minutes, the monthly
        # appraisal) look at the simulated clock this often; the clock moves fast.
        tick = min(base.job_tick_seconds, JOB_TICK_SECONDS)
        settings = base.model_copy(
            update={
                "nats_url": server.url,
                "var_dir": output_dir,
                "job_tick_seconds": tick,
                **isolated,
            }
        )
        clock = SimulatedClock(datetime.combine(first - timedelta(days=1), time(8), base.tz))
        system = System(settings, clock)
        await system.start()
        client = await BusClient.connect(server.url, producer="demo")
        watcher = BusWatcher(client.nc)
        await watcher.start()
        phones = Phones(client.js, base.tz)
        await phones.start()
        try:
            street = await _enrol(client, watcher, summary, first, households, caregivers, report)
            names = {c.caregiver_id: c.name for c in street.caregivers}
            await _month(client, watcher, phones, clock, summary, first, last, names, report)
            await _appraise(client, watcher, clock, summary, last, settings, names)
            summary.billing = (await _billing(client, month, summary.visits_completed)).model_dump()
            report("billing run 结算", 0, 1)
            summary.billing_run = await _billing_run(client, system, month, output_dir)
            await _poison(client, watcher, summary)
            users = await demo_users(client)
            await seed_console_users(settings, clock, users)
            summary.console_users = [asdict(u) for u in users]
            summary.services = [
                (await client.health(s.name)).model_dump(mode="json") for s in system.services
            ]
        finally:
            await phones.stop()
            await watcher.stop()
            await client.close()
            await system.stop()
    summary.seconds = round(wallclock.monotonic() - started, 1)
    return summary


def _fresh_dir(path: Path) -> None:
    """Each demo starts from nothing, so its figures are the same every run."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


async def _enrol(
    client: BusClient,
    watcher: BusWatcher,
    summary: DemoSummary,
    first: date,
    households: int,
    caregivers: int,
    report: Progress,
) -> DemoStreet:
    street = build_street(first, households, caregivers)
    homes = street.households
    report("registering caregivers and households", 0, 4)
    await client.send_many([(subjects.REGISTER_CAREGIVER, c) for c in street.caregivers])
    await client.send_many([(subjects.REGISTER_HOUSEHOLD, h) for h in homes])
    summary.caregivers, summary.households = len(street.caregivers), len(homes)
    await watcher.wait_until(
        lambda: (
            watcher.by_type["dispatch.HouseholdRegistered"] >= households
            and watcher.by_type["dispatch.CaregiverRegistered"] >= caregivers
        ),
        "the registry to be loaded",
    )
    report("assessing applications", 1, 4)
    summary.eligibility = await stories.assess_and_approve(
        client, watcher, homes[: max(1, len(homes) // 10)], first
    )
    report("shortlist for one request", 2, 4)
    summary.shortlist = await stories.shortlist_and_confirm(
        client, watcher, homes[0], max(homes[0].enrolled_on, first)
    )
    report("batch assignment of the street", 3, 4)
    summary.batch = await stories.batch_assign(client, watcher, homes[1:], first)
    summary.care_requests = len(homes)
    await watcher.wait_until(
        lambda: (
            watcher.by_type["dispatch.CaregiverAssigned"]
            + watcher.by_type["dispatch.CareRequestUnmet"]
            >= len(homes)
        ),
        "every care request to be answered",
    )
    summary.assignments = watcher.by_type["dispatch.CaregiverAssigned"]
    # Scheduling learns of assignments from the same events; let it catch up before day one.
    await until(
        lambda: client.caught_up(subjects.DISPATCH_STREAM, "scheduling_on_caregiver_assigned"),
        "scheduling to record every assignment",
    )
    summary.unmet = list(watcher.payloads["dispatch.CareRequestUnmet"])  # at enrolment
    return street


REPLACEMENT_DAY = 9  # from the 10th of the month (asked for on the 9th)
JOB_TICK_SECONDS = 0.2
SCHEDULING_STREAM = "HC_SCHEDULING"


async def _month(
    client: BusClient,
    watcher: BusWatcher,
    phones: Phones,
    clock: SimulatedClock,
    summary: DemoSummary,
    first: date,
    last: date,
    names: dict[str, str],
    report: Progress,
) -> None:
    days = (last - first).days + 1
    assigned = list(watcher.payloads["dispatch.CaregiverAssigned"])
    serving = {a["household_id"]: a["caregiver_id"] for a in assigned}
    served = sorted(serving)
    replaced = served[1:2] if len(served) > 1 else []
    script = care.cast(first, assigned, avoid_households=replaced)
    phones.never_miss = script.never_miss
    summary.diaries_skipped_by = script.careless
    day_work = _DayWork(client, watcher, phones, clock, summary, script)
    for n in range(days):
        day = first + timedelta(days=n)
        report(f"simulating {day}", n, days)
        await day_work.shifts_delivered(day)
        if n == care.LEAVE_FIRST_DAY:
            summary.leave = await care.take_leave(client, watcher, phones, script, names)
        await day_work.visits(day)
        if n + 1 == REPLACEMENT_DAY and replaced:
            # during the day, so the evening's shifts for tomorrow go to the new caregiver
            summary.replacement = await stories.replace_one(
                client, watcher, replaced[0], serving[replaced[0]], day + timedelta(days=1)
            )
            await _scheduling_caught_up(client)
        await day_work.records(day)
    report("month simulated", days, days)
    await day_work.recorded()
    await day_work.missed_alerts(len(day_work.missed), "the missed-visit alerts")
    if summary.leave:
        summary.leave["days"] = care.leave_days(summary.leave, phones)
    in_month = {(first + timedelta(days=n)).isoformat() for n in range(days)}
    summary.shifts = sum(n for d, n in watcher.shifts_by_date.items() if d in in_month)
    summary.shift_messages_received = sum(
        len(phones.received[first + timedelta(days=n)]) for n in range(days)
    )
    summary.shifts_cancelled = sum(1 for c in phones.cancelled if c.date.isoformat() in in_month)
    summary.visits_completed = watcher.by_type["scheduling.VisitCompleted"]
    summary.visits_rejected = watcher.by_type["scheduling.VisitRejected"]
    summary.missed_alerts = [
        p for p in watcher.payloads["scheduling.VisitMissed"] if p["date"] in in_month
    ]
    summary.diaries_recorded = watcher.by_type["scheduling.DiaryRecorded"]
    summary.health_warnings = list(watcher.payloads["scheduling.HealthWarning"])
    summary.ledger = day_work.ledger_summary()
    summary.ratings = [
        r.model_dump(mode="json")
        for r in care.ratings_for(
            script, summary.month, watcher.payloads["scheduling.VisitCompleted"]
        )
    ]
    summary.complaints = [c.model_dump(mode="json") for c in day_work.complaints]


class _DayWork:
    """One simulated day. At 18:00 the evening before, scheduling's evening_shifts job makes
    the day's shifts and each goes to its caregiver's phone; in the day the phones check in
    and out; at 18:00 they send the diaries and ledger entries, and the station has heard
    of every shift nobody came to."""

    def __init__(
        self,
        client: BusClient,
        watcher: BusWatcher,
        phones: Phones,
        clock: SimulatedClock,
        summary: DemoSummary,
        script: care.CareScript,
    ) -> None:
        self.client, self.watcher, self.phones = client, watcher, phones
        self.clock, self.summary, self.script = clock, summary, script
        self.missed: list[ShiftScheduled] = []
        self.ledger_sent: list[RecordLedgerEntry] = []
        self.complaints: list[RecordComplaint] = []
        self._completed_seen = 0

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        self.clock.set(datetime.combine(day, time(hour, minute), self.clock.tz))

    async def shifts_delivered(self, day: date) -> None:
        """The evening job has made the day's shifts (at 18:00 the day before: the clock is
        there already, except before the first day) and every phone has its messages."""
        watcher, phones = self.watcher, self.phones
        self.at(day - timedelta(days=1), 18)
        generated = watcher.payloads["scheduling.ShiftsGenerated"]
        await watcher.wait_until(
            lambda: any(p["date"] == day.isoformat() for p in generated), f"the shifts of {day}"
        )
        created = next(p["created"] for p in generated if p["date"] == day.isoformat())
        await watcher.wait_until(
            lambda: len(phones.received[day]) >= created, f"phones to receive the shifts of {day}"
        )

    async def visits(self, day: date) -> None:
        """The day's check-ins and check-outs, sent before any visit window has ended (so
        the missed-visit check only ever sees the shifts nobody went to)."""
        self.at(day, 6, 30)
        visits, missed = self.phones.visits_for(day)
        await self.client.send_many([(subjects.COMPLETE_VISIT, v) for v in visits])
        self.summary.visits_sent += len(visits)
        self.summary.visits_missed += len(missed)
        self.missed.extend(missed)
        answered = ("scheduling.VisitCompleted", "scheduling.VisitRejected")
        await self.watcher.wait_until(
            lambda: sum(self.watcher.by_type[t] for t in answered) >= self.summary.visits_sent,
            f"the visits of {day}",
        )

    async def records(self, day: date) -> None:
        """18:00: every visit window of the day has ended and its grace passed. The phones
        send a diary for each completed visit and the day's ledger entries; the station
        logs complaints. (Yesterday's diaries are in first: three days without appetite
        are counted from the diaries before.) Yesterday's missed visits are alerted by now."""
        self.at(day, 18)
        await self.recorded()
        completed = self.watcher.payloads["scheduling.VisitCompleted"][self._completed_seen :]
        self._completed_seen += len(completed)
        diaries = [d for d in (care.diary_for(self.script, v) for v in completed) if d]
        self.summary.visits_without_diary += len(completed) - len(diaries)
        entries = care.ledger_for(self.script, day, self._caregiver_of)
        complaints = care.complaints_for(self.script, day)
        await self.client.send_many(
            [(subjects.RECORD_DIARY, d) for d in diaries]
            + [(subjects.RECORD_LEDGER_ENTRY, e) for e in entries]
            + [(subjects.RECORD_COMPLAINT, c) for c in complaints]
        )
        self.summary.diaries_sent += len(diaries)
        self.ledger_sent += entries
        self.complaints += complaints
        yesterday = sum(1 for s in self.missed if s.date < day)
        await self.missed_alerts(yesterday, f"the missed-visit alerts before {day}")

    async def recorded(self) -> None:
        """Scheduling has answered every diary and ledger entry sent so far."""
        watcher = self.watcher
        ledger_answers = ("scheduling.LedgerEntryRecorded", "scheduling.LedgerEntryRejected")
        await watcher.wait_until(
            lambda: (
                watcher.by_type["scheduling.DiaryRecorded"] >= self.summary.diaries_sent
                and sum(watcher.by_type[t] for t in ledger_answers) >= len(self.ledger_sent)
            ),
            "the diaries and ledger entries",
        )

    async def missed_alerts(self, expected: int, what: str) -> None:
        """scheduling's missed_visits job (every 5 simulated minutes) has alerted them."""
        await self.watcher.wait_until(
            lambda: self.watcher.by_type["scheduling.VisitMissed"] >= expected, what
        )

    def _caregiver_of(self, household_id: str, day: date) -> str | None:
        return next(
            (s.caregiver_id for s in self.phones.shifts_of(day) if s.household_id == household_id),
            None,
        )

    def ledger_summary(self) -> dict[str, Any]:
        recorded = self.watcher.payloads["scheduling.LedgerEntryRecorded"]
        balances = {e["household_id"]: e["balance"] for e in recorded}  # the latest of each
        sent = {e.entry_id: e.model_dump(mode="json") for e in self.ledger_sent}
        return {
            "sent": len(self.ledger_sent),
            "recorded": len(recorded),
            "entries": recorded,
            "rejected": [  # the refusal with what was refused
                {**sent.get(r["entry_id"], {}), **r}
                for r in self.watcher.payloads["scheduling.LedgerEntryRejected"]
            ],
            "balances": dict(sorted(balances.items())),
        }


async def _appraise(
    client: BusClient,
    watcher: BusWatcher,
    clock: SimulatedClock,
    summary: DemoSummary,
    last: date,
    settings: Settings,
    names: dict[str, str],
) -> None:
    """The station's satisfaction calls at the end of the month (complaints came during
    it); at 06:00 on the 1st the monthly_appraisal job scores every caregiver for the month
    past."""
    month, threshold = summary.month, settings.appraisal_threshold
    await client.send_many(
        [
            (subjects.RECORD_SATISFACTION, RecordSatisfaction.model_validate(r))
            for r in summary.ratings
        ]
    )
    for consumer in ("record_satisfaction", "record_complaint", "record_diary"):

        async def applied(name: str = f"scheduling_{consumer}") -> bool:
            return await client.caught_up(SCHEDULING_STREAM, name)

        await until(applied, f"scheduling's {consumer} to catch up")
    expected = (
        {v["caregiver_id"] for v in watcher.payloads["scheduling.VisitCompleted"]}
        | {r["caregiver_id"] for r in summary.ratings}
        | {c["caregiver_id"] for c in summary.complaints}
    )
    clock.set(datetime.combine(last + timedelta(days=1), time(6, 5), clock.tz))

    def of_month(kind: str) -> list[dict[str, Any]]:
        return [p for p in watcher.payloads[kind] if p["month"] == month]

    await watcher.wait_until(
        lambda: (
            len(of_month("scheduling.CaregiverAppraised")) >= len(expected)
            and len(of_month("scheduling.AppraisalBelowThreshold"))
            >= sum(p["score"] < threshold for p in of_month("scheduling.CaregiverAppraised"))
        ),
        "the monthly appraisal",
    )
    summary.appraisal = care.appraisal_summary(
        watcher, month, names, len(summary.ratings), len(summary.complaints)
    )
    summary.appraisal["threshold"] = threshold


async def _scheduling_caught_up(client: BusClient) -> None:
    """Scheduling has applied every assignment change dispatch announced."""
    for consumer in ("scheduling_on_assignment_ended", "scheduling_on_caregiver_assigned"):

        async def applied(name: str = consumer) -> bool:
            return await client.caught_up(subjects.DISPATCH_STREAM, name)

        await until(applied, f"{consumer} to catch up")


async def _billing(
    client: BusClient, month: str, visits: int, timeout: float = 60.0
) -> MonthSummary:
    """Billing counts asynchronously: ask until it has seen every completed visit."""
    deadline = wallclock.monotonic() + timeout
    while True:
        counted = await client.ask(
            subjects.RPC_MONTH_SUMMARY, MonthSummaryQuery(month=month), MonthSummary
        )
        if counted.visits + counted.unenrolled_visits >= visits:
            return counted
        if wallclock.monotonic() > deadline:
            raise TimeoutError(f"billing counted {counted.visits} of {visits} visits")
        await asyncio.sleep(0.2)


async def _billing_run(
    client: BusClient, system: System, month: str, output_dir: Path
) -> dict[str, Any]:
    """Finance runs the month (as `homecare billing run` does) and writes its documents."""
    from contracts.billing.runs_v1 import RunBilling
    from services.billing.app import policy_schedule
    from services.billing.documents import write_documents

    answer, result = await client.command(
        subjects.RUN_BILLING,
        RunBilling(month=month, requested_by="demo 财务"),
        [subjects.BILLING_RUN_COMPLETED, subjects.BILLING_RUN_REJECTED],
        timeout=120,
    )
    if answer != subjects.BILLING_RUN_COMPLETED:
        raise RuntimeError(f"the billing run was refused: {result}")
    billing = system["billing"]
    written = await write_documents(
        billing.store,
        month,
        output_dir / "billing",
        policy_schedule(billing.settings),
        billing.settings.district,
    )
    first_statement = next(p for p in written.files if p.parent.name == "statements")
    first_payslip = next(p for p in written.files if p.parent.name == "payslips")
    return {
        **result,
        "folder": str(written.folder),
        "statements": written.statements,
        "payslips": written.payslips,
        "files": len(written.files),
        "example_statement": str(first_statement.with_suffix(".html")),
        "example_payslip": str(first_payslip.with_suffix(".html")),
        "claim_summary": str(next(p for p in written.files if p.name.startswith("claim_"))),
    }


async def _poison(client: BusClient, watcher: BusWatcher, summary: DemoSummary) -> None:
    """One deliberately malformed command, to show it is dead-lettered with its reason."""
    await client.js.publish(
        subjects.REQUEST_CARE,
        b'{"payload": {"household_id": 42}}',
        headers={"Nats-Msg-Id": "demo-malformed-1"},
    )
    await watcher.wait_until(
        lambda: watcher.by_type["system.DeadLettered"] >= 1,
        "the malformed command to be dead-lettered",
    )
    summary.dead_letters = watcher.payloads["system.DeadLettered"]
