"""Access control on the bus: a real nats-server with the permissions generated from the code
(services/infra/bus/permissions.py) refuses every publish and subscribe outside them, and the
services still run with only their own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from typer.testing import CliRunner

from contracts import subjects
from contracts.billing.runs_v1 import RunBilling
from services.cli_deploy import deploy_app
from services.client import BusClient, until
from services.infra.bus.permissions import (
    ADMIN_USER,
    caregiver_inbox,
    caregiver_permissions,
    caregiver_user,
    example_config,
    render_config,
    system_permissions,
)
from services.infra.bus.streams import ensure_streams
from services.infra.clock import SimulatedClock
from services.infra.nats_server import NatsServer
from services.infra.settings import Settings
from services.system import System

ROOT = Path(__file__).resolve().parents[2]
CAREGIVERS = ("C1", "C2")
VIOLATION = "permissions violation"  # how nats-py reports the server's -ERR


def password(user: str) -> str:
    return f"pw-{user}"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    users = system_permissions(CAREGIVERS)
    root = tmp_path_factory.mktemp("nats-auth")
    config = root / "auth.conf"
    config.write_text(render_config(users, {u.user: password(u.user) for u in users}))
    server = NatsServer(root / "data", config_file=config).start()
    try:
        yield server
    finally:
        server.kill()


class Conn:
    """A connection as one user, with the errors the server reported to it."""

    def __init__(self, nc: Client, errors: list[Exception]) -> None:
        self.nc = nc
        self.errors = errors

    async def violation(self, subject: str, kind: str, wait: float = 3.0) -> bool:
        """Whether the server reported a violation of ``kind`` (publish, subscription) on
        ``subject``: a late report about an earlier subject does not count."""
        await self.nc.flush()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            for error in map(str, self.errors):
                text = error.lower()
                if VIOLATION in text and subject.lower() in text and kind in text:
                    return True
            await asyncio.sleep(0.02)
        return False

    async def refused_publish(self, subject: str) -> bool:
        await self.nc.publish(subject, b"{}")
        return await self.violation(subject, "publish")

    async def refused_subscribe(self, subject: str) -> bool:
        sub = await self.nc.subscribe(subject)
        refused = await self.violation(subject, "subscription")
        await sub.unsubscribe()
        return refused


async def connect(server: NatsServer, user: str, **kw: Any) -> Conn:
    errors: list[Exception] = []

    async def collect(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(
        server.url,
        user=user,
        password=password(user),
        error_cb=collect,
        max_reconnect_attempts=0,
        **kw,
    )
    return Conn(nc, errors)


@pytest.fixture
async def admin(auth_server: NatsServer) -> AsyncIterator[Conn]:
    conn = await connect(auth_server, ADMIN_USER)
    yield conn
    await conn.nc.close()


async def delivered(admin: Conn, sender: Conn, subject: str) -> bool:
    """``sender`` publishes on ``subject`` and the admin's subscription receives it (a few
    tries: on a busy machine one message may take longer than a timeout)."""
    sub = await admin.nc.subscribe(subject)
    await admin.nc.flush()
    try:
        for _ in range(3):
            await sender.nc.publish(subject, b"{}")
            await sender.nc.flush()
            try:
                msg = await sub.next_msg(timeout=5)
            except Exception:
                continue
            return bool(msg.subject == subject)
        return False
    finally:
        await sub.unsubscribe()


async def receives(admin: Conn, reader: Conn, subject: str, publish_on: str) -> bool:
    """The admin publishes on ``publish_on`` and ``reader``'s subscription to ``subject``
    receives it (a few tries, as in ``delivered``)."""
    sub = await reader.nc.subscribe(subject)
    await reader.nc.flush()
    try:
        for _ in range(3):
            await admin.nc.publish(publish_on, b"{}")
            await admin.nc.flush()
            try:
                await sub.next_msg(timeout=5)
            except Exception:
                continue
            return True
        return False
    finally:
        await sub.unsubscribe()


def test_committed_auth_conf_is_generated() -> None:
    committed = (ROOT / "deploy" / "nats" / "auth.conf").read_text(encoding="utf-8")
    assert committed == example_config(), (
        "run: homecare deploy nats-auth --caregiver C001 "
        "--caregiver C002 --out deploy/nats/auth.conf"
    )


def test_cli_writes_the_config(tmp_path: Path) -> None:
    out = tmp_path / "auth.conf"
    result = CliRunner().invoke(
        deploy_app, ["nats-auth", "--caregiver", "C001", "--caregiver", "C002", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == example_config()
    bad = CliRunner().invoke(deploy_app, ["nats-auth", "--caregiver", "C.1"])
    assert bad.exit_code == 2


def test_caregiver_permissions_are_only_their_own() -> None:
    perms = caregiver_permissions("C1")
    assert perms.subscribe == ("_INBOX_C1.>", "homecare.carer.C1.>")
    assert not perms.allow_responses
    assert all("C2" not in s for s in perms.publish + perms.subscribe)
    assert not any(s.endswith(">") and s.startswith("homecare.") for s in perms.publish)
    commands = [s for s in perms.publish if s.startswith("homecare.")]
    assert commands == sorted(
        subjects.carer_command_subject("C1", name) for name in subjects.CARER_COMMAND_NAMES
    )
    assert not any(".scheduling." in s for s in perms.publish)
    with pytest.raises(ValueError):
        caregiver_permissions("C1.>")


# (service, its own subject, another's subject, a subject it must not read, one it answers)
SERVICE_CASES = [
    (
        "dispatch",
        subjects.CAREGIVER_REGISTERED,
        subjects.VISIT_COMPLETED,
        "homecare.scheduling.cmd.>",
        subjects.RPC_ROSTER,
    ),
    (
        "scheduling",
        subjects.VISIT_COMPLETED,
        subjects.CAREGIVER_REGISTERED,
        "homecare.dispatch.cmd.>",
        subjects.RPC_SHIFTS,
    ),
    (
        "billing",
        subjects.BILLING_RUN_COMPLETED,
        subjects.CAREGIVER_ASSIGNED,
        "homecare.scheduling.evt.>",
        subjects.RPC_MONTH_SUMMARY,
    ),
    (
        "console",
        subjects.REQUEST_CARE,
        subjects.CAREGIVER_REGISTERED,
        "homecare.dispatch.cmd.>",
        subjects.health_subject("console"),
    ),
]


@pytest.mark.parametrize(("service", "own", "other", "unread", "answers"), SERVICE_CASES)
async def test_service_user_is_limited_to_its_subjects(
    auth_server: NatsServer,
    admin: Conn,
    service: str,
    own: str,
    other: str,
    unread: str,
    answers: str,
) -> None:
    conn = await connect(auth_server, service)
    try:
        assert await delivered(admin, conn, own)
        assert await conn.refused_publish(other)
        assert await conn.refused_publish(subjects.carer_shift_subject("C1").replace("shift", "x"))
        assert await conn.refused_publish(subjects.dlq_subject("someone_else"))
        assert await conn.refused_publish("$JS.API.STREAM.DELETE.HC_DISPATCH")
        assert await receives(admin, conn, answers, answers)
        assert await conn.refused_subscribe(unread)
        assert await conn.refused_subscribe(subjects.carer_subjects("C1"))
        assert await conn.refused_subscribe(">")
    finally:
        await conn.nc.close()


async def test_only_scheduling_writes_to_caregivers(auth_server: NatsServer, admin: Conn) -> None:
    scheduling = await connect(auth_server, "scheduling")
    dispatch = await connect(auth_server, "dispatch")
    try:
        assert await delivered(admin, scheduling, subjects.carer_shift_subject("C1"))
        assert await dispatch.refused_publish(subjects.carer_shift_subject("C1"))
    finally:
        await scheduling.nc.close()
        await dispatch.nc.close()


async def test_caregiver_reads_and_sends_only_their_own(
    auth_server: NatsServer, admin: Conn
) -> None:
    c1 = await connect(auth_server, caregiver_user("C1"), inbox_prefix=caregiver_inbox("C1"))
    try:
        assert await receives(admin, c1, "homecare.carer.C1.>", subjects.carer_shift_subject("C1"))
        assert await c1.refused_subscribe("homecare.carer.C2.>")
        assert await c1.refused_subscribe(subjects.carer_shift_subject("C2"))
        assert await c1.refused_subscribe("_INBOX.>")
        assert await c1.refused_subscribe("_INBOX_C2.>")
        assert await c1.refused_subscribe("homecare.scheduling.evt.>")
        assert await c1.refused_subscribe("homecare.>")
        for name in subjects.CARER_COMMAND_NAMES:
            assert await delivered(admin, c1, subjects.carer_command_subject("C1", name))
        # another caregiver's command subject, and the scheduling.cmd subjects (whose payload
        # could name anyone), are refused
        assert await c1.refused_publish(subjects.carer_command_subject("C2", "record_diary"))
        assert await c1.refused_publish(subjects.carer_command_subject("C2", "request_leave"))
        assert await c1.refused_publish(subjects.RECORD_DIARY)
        assert await c1.refused_publish(subjects.REQUEST_LEAVE)
        assert await c1.refused_publish(subjects.CHECK_IN)
        assert await c1.refused_publish("homecare.carer.C1.cmd.decide_leave.v1")
        assert await c1.refused_publish(subjects.REGISTER_HOUSEHOLD)
        assert await c1.refused_publish(subjects.DECIDE_LEAVE)
        assert await c1.refused_publish(subjects.carer_shift_subject("C2"))
        assert await c1.refused_publish(subjects.VISIT_COMPLETED)
        assert any(
            '"$G/user:carer_C1" - Publish Violation' in v for v in _violations_logged(auth_server)
        )
    finally:
        await c1.nc.close()


async def test_caregiver_without_private_inbox_gets_no_replies(auth_server: NatsServer) -> None:
    c1 = await connect(auth_server, caregiver_user("C1"))  # default _INBOX prefix
    try:
        with pytest.raises(Exception):  # noqa: B017 - refused subscription: no answer comes
            await c1.nc.jetstream().publish(
                subjects.carer_command_subject("C1", "check_in"), b"{}", timeout=1
            )
    finally:
        await c1.nc.close()


async def test_caregiver_phone_on_jetstream(auth_server: NatsServer, admin: Conn) -> None:
    """A phone stores its commands in the stream and reads its own messages through its own
    consumer; it can neither open that consumer on another caregiver's subjects nor use the
    consumer-create call that does not name the filter."""
    await ensure_streams(admin.nc.jetstream())
    await admin.nc.jetstream().publish(subjects.carer_shift_subject("C1"), b'{"for": "C1"}')
    await admin.nc.jetstream().publish(subjects.carer_shift_subject("C2"), b'{"for": "C2"}')
    c1 = await connect(auth_server, caregiver_user("C1"), inbox_prefix=caregiver_inbox("C1"))
    js = c1.nc.jetstream()
    try:
        ack = await js.publish(subjects.carer_command_subject("C1", "check_in"), b"{}", timeout=2)
        assert ack.stream == subjects.CARER_STREAM

        def config(filter_subject: str, named: bool = True) -> ConsumerConfig:
            return ConsumerConfig(
                name="carer_C1" if named else None,
                durable_name="carer_C1",
                filter_subject=filter_subject,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
            )

        for refused in (
            config(subjects.carer_subjects("C2")),  # another caregiver's messages
            config("homecare.carer.>"),
            config(subjects.carer_subjects("C1"), named=False),  # DURABLE.CREATE: any filter
        ):
            with pytest.raises(Exception):  # noqa: B017 - refused: the request times out
                await js.add_consumer(subjects.CARER_STREAM, refused, timeout=1)
        await js.add_consumer(subjects.CARER_STREAM, config(subjects.carer_subjects("C1")))
        sub = await js.pull_subscribe_bind("carer_C1", stream=subjects.CARER_STREAM)
        msgs = await sub.fetch(10, timeout=2)
        # its own subjects hold what it receives and (under .cmd.) what it sent
        assert [(m.subject, m.data) for m in msgs] == [
            (subjects.carer_shift_subject("C1"), b'{"for": "C1"}'),
            (subjects.carer_command_subject("C1", "check_in"), b"{}"),
        ]
        for msg in msgs:
            await msg.ack()
        info = await js.consumer_info(subjects.CARER_STREAM, "carer_C1")
        await until(lambda: _caught_up(js, "carer_C1"), "C1's acknowledgement", timeout=5)
        assert info.config.filter_subject == subjects.carer_subjects("C1")
    finally:
        await c1.nc.close()


async def _caught_up(js: Any, durable: str) -> bool:
    info = await js.consumer_info(subjects.CARER_STREAM, durable)
    return bool(info.num_ack_pending == 0 and info.num_pending == 0)


def _service_settings(server: NatsServer, user: str, tmp_path: Path) -> Settings:
    return Settings(
        nats_url=f"nats://{user}:{password(user)}@{server.host}:{server.port}",
        var_dir=tmp_path / "var",
        max_deliver=3,
        ack_wait_seconds=10,
        console_port=0,
        _env_file=None,
    )


def _violations_logged(server: NatsServer) -> list[str]:
    return [line for line in server.log_file.read_text().splitlines() if "Violation" in line]


@pytest.mark.parametrize("service", ["dispatch", "scheduling", "billing", "console"])
async def test_service_starts_with_only_its_permissions(
    auth_server: NatsServer, service: str, tmp_path: Path
) -> None:
    before = len(_violations_logged(auth_server))
    clock = SimulatedClock(datetime(2026, 11, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    system = System(_service_settings(auth_server, service, tmp_path), clock, (service,))
    await system.start()
    try:
        async with await BusClient.connect(
            auth_server.url, producer="test", user=ADMIN_USER, password=password(ADMIN_USER)
        ) as client:
            report = await client.health(service)
            assert report.status == "ok"
            if service == "billing":
                await client.send(
                    subjects.RUN_BILLING, RunBilling(month="2026-10", requested_by="test")
                )
                await until(
                    lambda: client.caught_up("HC_BILLING", "billing_run_billing"),
                    "billing took the command",
                    timeout=15,
                )
                done = await client.js.consumer_info("HC_BILLING", "billing_run_billing")
                assert done.delivered.consumer_seq >= 1

                async def stored_answer() -> bool:
                    info = await client.js.stream_info("HC_BILLING")
                    return bool(info.state.messages >= 2)  # the command and its answer

                await until(stored_answer, "billing's answer in its stream", timeout=15)
            await asyncio.sleep(0.5)  # a pull or two under the permissions
    finally:
        await system.stop()
    assert _violations_logged(auth_server)[before:] == []
