"""A caregiver's phone sends its commands on the caregiver's own subject
(``homecare.carer.<id>.cmd.<name>.v1``, the only command subjects a caregiver's NATS user may
publish): scheduling runs the same use case as for the scheduling.cmd subject, and refuses
(dead-letters, with the reason) a command whose payload names another caregiver than the
subject does. Both backends."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from contracts import subjects
from contracts.scheduling.diary_v1 import RecordDiary
from contracts.scheduling.leave_v1 import RequestLeave
from services.client import BusClient, until
from services.scheduling.app import CARER_COMMANDS
from services.scheduling.store import diaries, leaves
from services.system import System

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 10)


def diary(caregiver_id: str, household_id: str) -> RecordDiary:
    return RecordDiary(
        household_id=household_id,
        caregiver_id=caregiver_id,
        date=DAY,
        tasks=("做饭",),
        appetite="good",
        mood="calm",
        health_signs=(),
        notes="",
    )


def test_carer_command_subjects() -> None:
    subject = subjects.carer_command_subject("C1", "record_diary")
    assert subject == "homecare.carer.C1.cmd.record_diary.v1"
    assert subjects.stream_for(subject).name == subjects.CARER_STREAM
    assert subjects.carer_of_command(subject) == "C1"
    assert subjects.carer_of_command(subjects.RECORD_DIARY) is None
    assert subjects.carer_of_command(subjects.carer_shift_subject("C1")) is None
    with pytest.raises(ValueError):
        subjects.carer_command_subject("C1", "decide_leave")
    consumed = {carer for carer, _ in CARER_COMMANDS}
    assert consumed == {
        subjects.carer_command_subject("*", name) for name in subjects.CARER_COMMAND_NAMES
    }


async def _dead_letters(system: System) -> list[Any]:
    store = system["scheduling"].store
    return list(await store.read(sa.select(store.tables.dead_letters)))


async def test_a_caregiver_records_only_their_own_diary_and_leave(
    system: System, client: BusClient
) -> None:
    diary_subject = subjects.carer_command_subject("C1", "record_diary")
    leave_subject = subjects.carer_command_subject("C1", "request_leave")
    # C1's credentials, a payload in C2's name: refused
    forged_diary = await client.send(diary_subject, diary("C2", "H2"))
    forged_leave = await client.send(
        leave_subject,
        RequestLeave(leave_id="LV-C2", caregiver_id="C2", first_day=DAY, last_day=DAY),
    )
    # C1's own: recorded as from the scheduling.cmd subjects
    await client.send(diary_subject, diary("C1", "H1"))
    await client.send(
        leave_subject,
        RequestLeave(leave_id="LV-C1", caregiver_id="C1", first_day=DAY, last_day=DAY),
    )
    store = system["scheduling"].store

    async def settled() -> bool:
        recorded = await store.count(diaries) == 1 and await store.count(leaves) == 1
        return recorded and len(await _dead_letters(system)) == 2

    await until(settled, "C1's diary and leave recorded, the forged ones dead-lettered", 20)
    rows = await store.read(sa.select(diaries.c.household_id, diaries.c.caregiver_id))
    assert [(r.household_id, r.caregiver_id) for r in rows] == [("H1", "C1")]
    rows = await store.read(sa.select(leaves.c.leave_id, leaves.c.caregiver_id))
    assert [(r.leave_id, r.caregiver_id) for r in rows] == [("LV-C1", "C1")]
    dead = {r.event_id: r for r in await _dead_letters(system)}
    assert set(dead) == {forged_diary.event_id, forged_leave.event_id}
    assert dead[forged_diary.event_id].subject == diary_subject
    assert dead[forged_leave.event_id].subject == leave_subject
    for row in dead.values():
        assert "'C2'" in row.reason and "'C1'" in row.reason
        assert "only in their own name" in row.reason
