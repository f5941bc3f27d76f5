"""Diary and ledger use cases: what the caregiver records each day for a household."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from contracts import subjects
from contracts.scheduling.diary_v1 import (
    DiaryRecorded,
    HealthWarning,
    LedgerEntryRecorded,
    LedgerEntryRejected,
    RecordDiary,
    RecordLedgerEntry,
)
from services.infra.bus.store import Tx
from services.infra.upsert import upsert
from services.scheduling.diary import NO_APPETITE_DAYS, LedgerError, balance_after, diary_warning
from services.scheduling.store import diaries, ledger_entries


def household_lock(household_id: str) -> str:
    return f"scheduling.household:{household_id}"


async def record_diary(tx: Tx, cmd: RecordDiary) -> None:
    """Keep the day's diary (a new version replaces it; the same one again changes nothing)
    and warn the family doctor and station when it reports warning signs."""
    await tx.lock(household_lock(cmd.household_id))
    entry = cmd.model_dump(mode="json")
    stored = await tx.conn.scalar(
        sa.select(diaries.c.entry).where(
            diaries.c.household_id == cmd.household_id, diaries.c.date == cmd.date
        )
    )
    if stored == entry:
        return
    await upsert(
        tx.conn,
        diaries,
        {
            "household_id": cmd.household_id,
            "date": cmd.date,
            "caregiver_id": cmd.caregiver_id,
            "appetite": cmd.appetite,
            "mood": cmd.mood,
            "entry": entry,
            "recorded_at": tx.clock.now(),
        },
        key=["household_id", "date"],
    )
    earlier = dict(
        (
            await tx.conn.execute(
                sa.select(diaries.c.date, diaries.c.appetite).where(
                    diaries.c.household_id == cmd.household_id,
                    diaries.c.date < cmd.date,
                    diaries.c.date >= cmd.date - timedelta(days=NO_APPETITE_DAYS - 1),
                )
            )
        ).all()
    )
    # the warning first: a sender waiting for the first answer hears of it
    # the warning before the record: a sender waiting for the first answer hears of it
    warning = diary_warning(cmd.date, cmd.health_signs, cmd.appetite, earlier)
    if warning:
        await tx.emit(
            subjects.HEALTH_WARNING,
            HealthWarning(
                household_id=cmd.household_id,
                caregiver_id=cmd.caregiver_id,
                date=cmd.date,
                signs=warning.signs,
                reason=warning.reason,
                reason_zh=warning.reason_zh,
            ),
        )
    await tx.emit(
        subjects.DIARY_RECORDED,
        DiaryRecorded(
            household_id=cmd.household_id,
            caregiver_id=cmd.caregiver_id,
            date=cmd.date,
            appetite=cmd.appetite,
            mood=cmd.mood,
            health_signs=cmd.health_signs,
        ),
    )


async def record_ledger_entry(tx: Tx, cmd: RecordLedgerEntry) -> None:
    """Add an entry to the household's ledger with the balance after it, or refuse it with
    the reason (an amount that would leave less than nothing held, an entry id reused)."""
    await tx.lock(household_lock(cmd.household_id))
    existing = (
        await tx.conn.execute(
            sa.select(ledger_entries).where(ledger_entries.c.entry_id == cmd.entry_id)
        )
    ).first()
    if existing is not None:
        same = (existing.household_id, existing.kind, Decimal(existing.amount)) == (
            cmd.household_id,
            cmd.kind,
            cmd.amount,
        )
        if not same:
            await _refuse(tx, cmd, "entry id already used for another entry")
        return  # the same entry sent again: recorded already
    last = (
        await tx.conn.execute(
            sa.select(ledger_entries.c.seq, ledger_entries.c.balance)
            .where(ledger_entries.c.household_id == cmd.household_id)
            .order_by(ledger_entries.c.seq.desc())
            .limit(1)
        )
    ).first()
    held = Decimal(last.balance) if last else Decimal("0.00")
    try:
        balance = balance_after(held, cmd.kind, cmd.amount)
    except LedgerError as exc:
        return await _refuse(tx, cmd, str(exc))
    await tx.conn.execute(
        sa.insert(ledger_entries).values(
            entry_id=cmd.entry_id,
            seq=(last.seq if last else 0) + 1,
            household_id=cmd.household_id,
            caregiver_id=cmd.caregiver_id,
            date=cmd.date,
            kind=cmd.kind,
            amount=str(cmd.amount),
            description=cmd.description,
            balance=str(balance),
        )
    )
    await tx.emit(
        subjects.LEDGER_ENTRY_RECORDED,
        LedgerEntryRecorded(
            entry_id=cmd.entry_id,
            household_id=cmd.household_id,
            caregiver_id=cmd.caregiver_id,
            date=cmd.date,
            kind=cmd.kind,
            amount=cmd.amount,
            description=cmd.description,
            balance=balance,
        ),
    )


async def _refuse(tx: Tx, cmd: RecordLedgerEntry, reason: str) -> None:
    await tx.emit(
        subjects.LEDGER_ENTRY_REJECTED,
        LedgerEntryRejected(
            entry_id=cmd.entry_id,
            household_id=cmd.household_id,
            caregiver_id=cmd.caregiver_id,
            reason=reason,
        ),
    )
