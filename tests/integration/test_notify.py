"""Notifiers: extra channels to caregivers read every caregiver's messages from the bus; a
failed delivery is tried again, a delivered one is not repeated (real nats-server)."""

from __future__ import annotations

from datetime import date

import pytest
from builders import one_assignment
from conftest import eventually

from contracts import subjects
from contracts.scheduling.v1 import GenerateShifts
from services.carer import CarerMessage
from services.client import BusClient
from services.notify import ConsoleNotifier, NotifierRunner, load_notifier
from services.system import System


class Collecting:
    """A gateway that is down for its first ``failures`` attempts."""

    name = "collecting"

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts = 0
        self.sent: list[CarerMessage] = []

    async def deliver(self, message: CarerMessage) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionError("SMS gateway unreachable")
        self.sent.append(message)


def test_notifiers_are_named_by_spec() -> None:
    assert isinstance(load_notifier("console"), ConsoleNotifier)
    assert load_notifier("test_notify:Collecting").name == "collecting"
    for spec, message in (
        ("sms", "use console or package.module:ClassName"),
        ("no_such_module:Gateway", "cannot load it"),
        ("test_notify:Missing", "cannot load it"),
    ):
        with pytest.raises(ValueError, match=message):
            load_notifier(spec)


async def test_a_notifier_gets_each_message_once_even_after_a_failure(
    system: System, client: BusClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.notify.RETRY_SECONDS", 0.2)
    gateway = Collecting(failures=1)
    runner = await NotifierRunner(client, gateway).open()  # from now on
    try:
        watcher = await one_assignment(client)
        await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=date(2026, 11, 2)))
        await watcher.wait_until(
            lambda: watcher.by_type["scheduling.ShiftScheduled"] == 1, "the shift", timeout=20
        )

        async def delivered() -> bool:
            await runner.run_once(wait=0.3)
            return len(gateway.sent) == 1

        await eventually(delivered, "the shift message through the gateway")
        assert gateway.attempts == 2 and runner.failed == 1  # down once, then delivered
        message = gateway.sent[0]
        assert (message.type, message.payload["caregiver_id"]) == (
            "scheduling.ShiftScheduled",
            "C1",
        )
        assert await runner.run_once(wait=0.5) == 0  # delivered ones do not come back
    finally:
        await runner.close()
