"""Fast routing tests with FastStream's in-memory TestNatsBroker: each subject reaches its
handler, the envelope is validated, and the use case's effects (state + outbox) land in the
service's own database. The same flows run on a real nats-server in tests/integration."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa
from builders import caregiver, household, request
from faststream.nats import TestNatsBroker
from routing_helpers import outbox_subjects

from contracts import subjects
from contracts.dispatch.v1 import (
    CaregiverAssigned,
)
from contracts.envelope import Envelope
from contracts.scheduling.v1 import GenerateShifts
from services.dispatch.store import assignments, caregivers
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.scheduling import app as scheduling_app
from services.scheduling.store import shifts


async def migrated(svc: Service) -> Service:
    await svc.migrate()
    return svc


def envelope(payload: object) -> dict[str, object]:
    return Envelope.wrap(payload, producer="test").model_dump(mode="json")  # type: ignore[arg-type]


async def test_dispatch_routes_commands_to_use_cases(dispatch: Service) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        await broker.publish(envelope(caregiver("C1")), subjects.REGISTER_CAREGIVER)
        await broker.publish(envelope(household("H1")), subjects.REGISTER_HOUSEHOLD)
        await broker.publish(envelope(request("H1")), subjects.REQUEST_CARE)
    assert await dispatch.store.count(caregivers) == 1
    rows = await dispatch.store.read(sa.select(assignments.c.caregiver_id))
    assert [r.caregiver_id for r in rows] == ["C1"]
    assert await outbox_subjects(dispatch) == [
        subjects.CAREGIVER_REGISTERED,
        subjects.HOUSEHOLD_REGISTERED,
        subjects.CAREGIVER_ASSIGNED,
    ]


async def test_payload_of_another_type_is_refused(dispatch: Service) -> None:
    # A RequestCare envelope on the caregiver subject fails validation; nothing is written.
    wrong = envelope(request("H1"))
    async with TestNatsBroker(dispatch.broker) as broker:
        with pytest.raises(Exception, match=r"validation|RegisterCaregiver"):
            await broker.publish(wrong, subjects.REGISTER_CAREGIVER)
    assert await dispatch.store.count(caregivers) == 0
    assert await outbox_subjects(dispatch) == []


async def test_same_event_twice_is_applied_once(dispatch: Service) -> None:
    message = envelope(caregiver("C1"))
    async with TestNatsBroker(dispatch.broker) as broker:
        await broker.publish(message, subjects.REGISTER_CAREGIVER)
        await broker.publish(message, subjects.REGISTER_CAREGIVER)
    assert await outbox_subjects(dispatch) == [subjects.CAREGIVER_REGISTERED]


async def test_scheduling_generates_nothing_without_assignments(
    settings: Settings, clock: SimulatedClock
) -> None:
    svc = await migrated(scheduling_app.build(settings, clock))
    try:
        async with TestNatsBroker(svc.broker) as broker:
            await broker.publish(
                envelope(GenerateShifts(date=date(2026, 11, 2))), subjects.GENERATE_SHIFTS
            )
        assert await outbox_subjects(svc) == [subjects.SHIFTS_GENERATED]
    finally:
        await svc.engine.dispose()


async def test_assignment_after_its_day_was_generated_still_gets_the_shift(
    settings: Settings, clock: SimulatedClock
) -> None:
    """Generation and assignment come from two streams with no common order."""
    svc = await migrated(scheduling_app.build(settings, clock))
    day = date(2026, 11, 2)
    assigned = CaregiverAssigned(
        assignment_id="AS-1",
        request_id="R1",
        household_id="H1",
        caregiver_id="C1",
        station_id="S1",
        address="x",
        start_date=day,
        visit_window=(datetime(2026, 1, 1, 9).time(), datetime(2026, 1, 1, 11).time()),
    )
    try:
        async with TestNatsBroker(svc.broker) as broker:
            await broker.publish(envelope(GenerateShifts(date=day)), subjects.GENERATE_SHIFTS)
            await broker.publish(envelope(assigned), subjects.CAREGIVER_ASSIGNED)
            await broker.publish(envelope(GenerateShifts(date=day)), subjects.GENERATE_SHIFTS)
        assert await outbox_subjects(svc) == [
            subjects.SHIFTS_GENERATED,
            subjects.carer_shift_subject("C1"),
            subjects.SHIFTS_GENERATED,  # the second run finds the shift already there
        ]
        assert await svc.store.count(shifts) == 1
    finally:
        await svc.engine.dispose()


async def test_same_registration_again_changes_nothing(dispatch: Service) -> None:
    """A re-import sends the same data under new event ids: no update, no event."""
    async with TestNatsBroker(dispatch.broker) as broker:
        for _ in range(2):
            await broker.publish(envelope(household("H1")), subjects.REGISTER_HOUSEHOLD)
            await broker.publish(envelope(caregiver("C1")), subjects.REGISTER_CAREGIVER)
        changed = household("H1").model_copy(update={"address": "长江路2号"})
        await broker.publish(envelope(changed), subjects.REGISTER_HOUSEHOLD)
    assert await outbox_subjects(dispatch) == [
        subjects.HOUSEHOLD_REGISTERED,
        subjects.CAREGIVER_REGISTERED,
        subjects.HOUSEHOLD_REGISTERED,
    ]
