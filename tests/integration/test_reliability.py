"""Redelivery, poison messages and a NATS crash, on a real nats-server and both databases."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from builders import SHANGHAI, caregiver, household, request, until_registered, visit
from conftest import eventually

from contracts import subjects
from contracts.envelope import Envelope, headers_for
from contracts.scheduling.v1 import GenerateShifts, VisitCompleted
from contracts.system.v1 import DeadLettered
from services.billing import handlers as billing_handlers
from services.billing.store import visits as billed_visits
from services.client import BusClient
from services.demo.watch import BusWatcher
from services.dispatch.store import caregivers, households
from services.infra.clock import SimulatedClock
from services.infra.logging import configure_logging
from services.infra.nats_server import NatsServer
from services.infra.settings import Settings
from services.system import System

DAY = date(2026, 11, 2)


def completed(visit_id: str) -> VisitCompleted:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    return VisitCompleted(
        visit_id=visit_id,
        shift_id=f"SH-{visit_id}",
        household_id="H1",
        caregiver_id="C1",
        date=date(2026, 11, 2),
        checked_in_at=at,
        checked_out_at=at,
    )


@asynccontextmanager
async def running(settings: Settings, clock: SimulatedClock, *names: str) -> AsyncIterator[System]:
    system = System(settings, clock, names or None)
    await system.start()
    try:
        yield system
    finally:
        await system.stop()


async def count(system: System, service: str, table: sa.Table) -> int:
    return await system[service].store.count(table)


async def test_redelivered_event_has_one_effect(
    settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    """The same CompleteVisit event twice (as after a lost acknowledgement, or a publisher
    retry past the duplicate window). Checking in twice is not harmless by itself: a second
    one is refused with a VisitRejected. The inbox makes the copy have no effect at all."""
    async with running(settings, clock, "dispatch", "scheduling") as system:
        watcher = BusWatcher(client.nc)
        await watcher.start()
        await client.send_many(
            [
                (subjects.REGISTER_CAREGIVER, caregiver("C1")),
                (subjects.REGISTER_HOUSEHOLD, household("H1")),
            ]
        )
        await until_registered(watcher, caregivers=1, households=1)
        await client.send(subjects.REQUEST_CARE, request("H1"))
        await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=DAY))
        await watcher.wait_until(
            lambda: watcher.by_type["scheduling.ShiftScheduled"] == 1, "the shift"
        )
        envelope = client.envelope(visit("SH-H1-20261102", "C1", DAY))
        for msg_id in ("first", "second"):  # two stored copies: JetStream delivers both
            headers = headers_for(envelope) | {"Nats-Msg-Id": msg_id}
            await client.js.publish(subjects.COMPLETE_VISIT, envelope.to_json(), headers=headers)

        async def both_acknowledged() -> bool:
            info = await client.js.consumer_info("HC_SCHEDULING", "scheduling_complete_visit")
            return info.num_ack_pending == 0 and info.delivered.stream_seq >= 2

        await eventually(both_acknowledged, "both copies delivered and acknowledged")
        await asyncio.sleep(0.3)  # let any second effect reach the bus
        assert watcher.by_type["scheduling.VisitCompleted"] == 1
        assert watcher.by_type["scheduling.VisitRejected"] == 0
        inbox = system["scheduling"].store.tables.inbox
        rows = await system["scheduling"].store.read(
            sa.select(inbox.c.event_id).where(inbox.c.consumer == "scheduling.complete_visit")
        )
        assert [r.event_id for r in rows] == [envelope.event_id]
        await watcher.stop()


async def test_same_msg_id_is_stored_once(
    settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    async with running(settings, clock, "billing"):
        envelope = client.envelope(completed("V1"))
        for _ in range(3):
            await client.js.publish(
                subjects.VISIT_COMPLETED, envelope.to_json(), headers=headers_for(envelope)
            )
        info = await client.js.stream_info("HC_SCHEDULING")
        assert info.state.messages == 1


async def test_failure_after_work_rolls_back_and_redelivery_applies_once(
    settings: Settings,
    clock: SimulatedClock,
    client: BusClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[str] = []
    real = billing_handlers.record_visit

    async def flaky(tx: Any, evt: VisitCompleted) -> None:
        await real(tx, evt)  # the row is written in the transaction ...
        attempts.append(evt.visit_id)
        if len(attempts) == 1:
            raise ConnectionError("database went away")  # ... which then rolls back

    monkeypatch.setattr(billing_handlers, "record_visit", flaky)
    async with running(settings, clock, "billing") as system:
        await client.send(subjects.VISIT_COMPLETED, completed("V1"))

        async def applied() -> bool:
            return len(attempts) >= 2

        await eventually(applied, "the redelivery after the failure")
        assert attempts == ["V1", "V1"]
        assert await count(system, "billing", billed_visits) == 1
        assert await count(system, "billing", system["billing"].store.tables.dead_letters) == 0


async def test_malformed_messages_are_dead_lettered_and_consumer_goes_on(
    settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    async with running(settings, clock, "dispatch") as system:
        store = system["dispatch"].store
        valid = client.envelope(caregiver("C1"))
        wrong_version = valid.model_dump(mode="json") | {"version": 9}
        bad: list[tuple[str, bytes]] = [
            ("not-json", b"{this is not json"),
            ("not-utf8", b"\xff\xfe\xfa"),
            ("missing-fields", b'{"payload": {"caregiver_id": "C2"}}'),
            ("unknown-version", json.dumps(wrong_version).encode()),
            ("wrong-type", b'{"event_id": 5}'),
        ]
        for msg_id, body in bad:
            await client.js.publish(
                subjects.REGISTER_CAREGIVER, body, headers={"Nats-Msg-Id": msg_id}
            )
        await client.send(subjects.REGISTER_CAREGIVER, caregiver("C1"))

        async def settled() -> bool:
            return (
                await store.dead_letter_count() == len(bad)
                and await count(system, "dispatch", caregivers) == 1
            )

        await eventually(settled, "dead letters and the valid caregiver")
        rows = await store.read(sa.select(store.tables.dead_letters).order_by("id"))
        reasons = {r.event_id: r.reason for r in rows}
        assert "not valid JSON" in reasons["not-json"]
        assert "not valid UTF-8" in reasons["not-utf8"]
        assert "unknown message dispatch.RegisterCaregiver v9" in reasons["unknown-version"]
        assert "payload.name: Field required" in reasons["missing-fields"]
        assert all(r.deliveries == 1 and r.consumer == "dispatch_register_caregiver" for r in rows)
        assert rows[0].data == b"{this is not json"

        async def announced() -> bool:
            return (await client.js.stream_info("HC_DLQ")).state.messages == len(bad)

        await eventually(announced, "DeadLettered events on homecare.dlq.dispatch")


async def test_handler_that_keeps_failing_is_dead_lettered_after_max_deliver(
    settings: Settings,
    clock: SimulatedClock,
    client: BusClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = billing_handlers.record_visit

    async def broken_for_v1(tx: Any, evt: VisitCompleted) -> None:
        if evt.visit_id == "V1":
            raise RuntimeError("bug for this visit")
        await real(tx, evt)

    monkeypatch.setattr(billing_handlers, "record_visit", broken_for_v1)
    async with running(settings, clock, "billing") as system:
        store = system["billing"].store
        await client.send(subjects.VISIT_COMPLETED, completed("V1"))
        await client.send(subjects.VISIT_COMPLETED, completed("V2"))

        async def dead() -> bool:
            return await store.dead_letter_count() == 1

        await eventually(dead, "V1 dead-lettered after 3 deliveries", timeout=30)
        row = (await store.read(sa.select(store.tables.dead_letters)))[0]
        assert row.deliveries == settings.max_deliver == 3
        assert "failed 3 deliveries" in row.reason and "bug for this visit" in row.reason
        rows = await store.read(sa.select(billed_visits.c.visit_id))
        assert [r.visit_id for r in rows] == ["V2"]


async def test_nats_crash_loses_no_accepted_request(
    settings: Settings, clock: SimulatedClock, nats_server: NatsServer, client: BusClient
) -> None:
    """SIGKILL the server mid-flow and start it again on the same store: every command the
    stream acknowledged is processed, consumers resume, and the outbox drains."""
    restarted: NatsServer | None = None
    try:
        async with running(settings, clock, "dispatch", "billing") as system:
            first = [(subjects.REGISTER_HOUSEHOLD, household(f"H{i:04d}")) for i in range(1000)]
            await client.send_many(first)  # acknowledged by JetStream = accepted
            nats_server.kill()
            in_flight = 1000 - await count(system, "dispatch", households)
            assert in_flight > 0, "the kill came too late to be mid-flow"
            restarted = NatsServer(nats_server.store_dir, port=nats_server.port).start()
            second = [
                (subjects.REGISTER_HOUSEHOLD, household(f"H{i:04d}")) for i in range(1000, 1050)
            ]

            async def sent() -> bool:
                try:
                    await client.send_many(second, timeout=3)
                except Exception:
                    return False  # still reconnecting: unacknowledged, so send again
                return True

            await eventually(sent, "the client to reconnect and send")

            async def all_processed() -> bool:
                return (
                    await count(system, "dispatch", households) == 1050
                    and await count(system, "billing", _categories()) == 1050
                )

            await eventually(
                all_processed, "all 1050 households in dispatch and billing", timeout=60
            )
            assert await system["dispatch"].store.outbox_backlog() == 0
            assert await system["dispatch"].store.dead_letter_count() == 0
        await client.close()
    finally:
        if restarted:
            restarted.kill()


def _categories() -> sa.Table:
    from services.billing.store import categories

    return categories


def test_builders_make_valid_envelopes() -> None:
    wrap: Callable[..., Envelope[Any]] = Envelope.wrap
    assert wrap(household("H1"), producer="t").payload.household_id == "H1"


async def test_consumer_settings_follow_the_code_on_restart(
    settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    async with running(settings, clock, "billing"):
        pass
    changed = settings.model_copy(update={"ack_wait_seconds": 17.0})
    async with running(changed, clock, "billing"):
        info = await client.js.consumer_info("HC_SCHEDULING", "billing_on_visit_completed")
        assert info.config.ack_wait == 17.0


async def test_correlation_id_reaches_logs_and_the_dead_letter_announcement(
    settings: Settings,
    clock: SimulatedClock,
    client: BusClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(tx: Any, evt: VisitCompleted) -> None:
        raise RuntimeError("always")

    monkeypatch.setattr(billing_handlers, "record_visit", broken)
    lines = io.StringIO()
    configure_logging("INFO", "json", stream=lines)
    try:
        async with running(settings, clock, "billing") as system:
            # A client that follows only the published schemas: no Homecare-* headers.
            sent = client.envelope(completed("V1"))
            await client.js.publish(
                subjects.VISIT_COMPLETED, sent.to_json(), headers={"Nats-Msg-Id": sent.event_id}
            )

            async def dead() -> bool:
                return await system["billing"].store.dead_letter_count() == 1

            await eventually(dead, "the dead letter", timeout=30)
            sub = await client.js.subscribe("homecare.dlq.billing", deliver_policy=None)
            announced = Envelope[DeadLettered].model_validate_json(
                (await sub.next_msg(timeout=10)).data
            )
    finally:
        configure_logging("WARNING", "console")
    assert announced.correlation_id == sent.correlation_id
    assert announced.payload.original_event_id == sent.event_id
    retries = [json.loads(line) for line in lines.getvalue().splitlines() if "will retry" in line]
    assert len(retries) == settings.max_deliver - 1
    assert {r["correlation_id"] for r in retries} == {sent.correlation_id}
    assert {r["event_type"] for r in retries} == {"scheduling.VisitCompleted"}
