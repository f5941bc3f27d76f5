"""Diaries and household ledgers on scheduling's database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from scheduling_helpers import apply, emitted

from contracts import subjects
from contracts.scheduling.diary_v1 import RecordDiary, RecordLedgerEntry
from services.infra.runtime import Service
from services.scheduling.diaries import record_diary, record_ledger_entry
from services.scheduling.store import diaries

DAY = date(2026, 11, 10)


def diary(day: date, appetite: str = "good", *signs: str, notes: str = "") -> RecordDiary:
    return RecordDiary(
        household_id="H1",
        caregiver_id="C1",
        date=day,
        tasks=("做饭",),
        appetite=appetite,  # type: ignore[arg-type]
        mood="calm",
        health_signs=signs,  # type: ignore[arg-type]
        notes=notes,
    )


async def test_a_fall_warns_the_doctor_and_a_resent_diary_does_not_warn_twice(
    scheduling_db: Service,
) -> None:
    fell = diary(DAY, "good", "fall", notes="卫生间滑倒")
    await apply(scheduling_db, record_diary, fell, fell)
    warnings = await emitted(scheduling_db, subjects.HEALTH_WARNING)
    assert [(w["signs"], w["reason_zh"]) for w in warnings] == [(["fall"], "报告摔倒")]
    assert len(await emitted(scheduling_db, subjects.DIARY_RECORDED)) == 1
    # a corrected diary for the same day replaces the first one
    await apply(scheduling_db, record_diary, diary(DAY, "fair", notes="补充：已通知家属"))
    rows = await scheduling_db.store.read(sa.select(diaries.c.appetite, diaries.c.entry))
    assert [(r.appetite, r.entry["notes"]) for r in rows] == [("fair", "补充：已通知家属")]


async def test_three_days_without_appetite_warn_on_the_third(scheduling_db: Service) -> None:
    days = [DAY + timedelta(days=n) for n in range(4)]
    await apply(scheduling_db, record_diary, *(diary(d, "none") for d in days))
    warnings = await emitted(scheduling_db, subjects.HEALTH_WARNING)
    assert [(w["date"], w["signs"]) for w in warnings] == [
        ("2026-11-12", ["no_appetite"]),
        ("2026-11-13", ["no_appetite"]),
    ]


def entry(entry_id: str, kind: str, amount: str, what: str = "买菜") -> RecordLedgerEntry:
    return RecordLedgerEntry(
        entry_id=entry_id,
        household_id="H1",
        caregiver_id="C1",
        date=DAY,
        kind=kind,  # type: ignore[arg-type]
        amount=Decimal(amount),
        description=what,
    )


async def test_the_ledger_keeps_a_running_balance_and_refuses_overspending(
    scheduling_db: Service,
) -> None:
    await apply(
        scheduling_db,
        record_ledger_entry,
        entry("L1", "received", "200.00", "家属给的买菜钱"),
        entry("L2", "purchase", "23.50", "蔬菜和鸡蛋"),
        entry("L2", "purchase", "23.50", "蔬菜和鸡蛋"),  # sent twice: once
        entry("L3", "purchase", "180.00", "电饭锅"),  # more than is held
        entry("L2", "returned", "5.00"),  # id reused for another entry
        entry("L4", "returned", "176.50", "余款退还家属"),
    )
    recorded = await emitted(scheduling_db, subjects.LEDGER_ENTRY_RECORDED)
    assert [(r["entry_id"], r["balance"]) for r in recorded] == [
        ("L1", "200.00"),
        ("L2", "176.50"),
        ("L4", "0.00"),
    ]
    refused = await emitted(scheduling_db, subjects.LEDGER_ENTRY_REJECTED)
    assert [(r["entry_id"], r["reason"]) for r in refused] == [
        ("L3", "purchase of 180.00 is more than the 176.50 held for this household"),
        ("L2", "entry id already used for another entry"),
    ]
