"""Diaries and household ledgers (scheduling), version 1."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from contracts.envelope import Payload
from contracts.money import Money
from contracts.types import Id, Ref

Appetite = Literal["good", "fair", "poor", "none"]
Mood = Literal["good", "calm", "low", "agitated"]
HealthSign = Literal["fall", "fever", "breathing", "confusion", "pain", "injury", "other"]
LedgerKind = Literal["received", "purchase", "returned"]


class RecordDiary(Payload):
    """Command from a caregiver's phone: the day's diary for one household (one per day;
    sending it again replaces it)."""

    TYPE = "scheduling.RecordDiary"
    household_id: Id
    caregiver_id: Id
    date: date
    tasks: tuple[str, ...] = Field(default=(), max_length=30)
    appetite: Appetite
    mood: Mood
    health_signs: tuple[HealthSign, ...] = Field(default=(), max_length=7)
    notes: str = Field(default="", max_length=2000)


class DiaryRecorded(Payload):
    TYPE = "scheduling.DiaryRecorded"
    household_id: Id
    caregiver_id: Id
    date: date
    appetite: Appetite
    mood: Mood
    health_signs: tuple[HealthSign, ...]


class HealthWarning(Payload):
    """Event for the family doctor and the station: a diary reported warning signs."""

    TYPE = "scheduling.HealthWarning"
    household_id: Id
    caregiver_id: Id
    date: date
    signs: tuple[str, ...]
    reason: str
    reason_zh: str


class RecordLedgerEntry(Payload):
    """Command from a caregiver's phone: money received from the elder or family, a purchase
    made for them, or cash returned to them."""

    TYPE = "scheduling.RecordLedgerEntry"
    entry_id: Ref
    household_id: Id
    caregiver_id: Id
    date: date
    kind: LedgerKind
    amount: Money
    description: str = Field(min_length=1, max_length=200)


class LedgerEntryRecorded(Payload):
    """Event: an entry and the household's cash the caregiver holds after it."""

    TYPE = "scheduling.LedgerEntryRecorded"
    entry_id: Ref
    household_id: Id
    caregiver_id: Id
    date: date
    kind: LedgerKind
    amount: Money
    description: str
    balance: Money


class LedgerEntryRejected(Payload):
    TYPE = "scheduling.LedgerEntryRejected"
    entry_id: Ref
    household_id: Id
    caregiver_id: Id
    reason: str
