"""The JetStream settings that keep data (deploy/README.md, "Streams and consumers"): the
deployed server and the embedded one of `homecare up` fsync every write before acknowledging
it; streams are file-stored with the duplicate window; consumers take the ack wait from the
settings and leave the delivery limit to the middleware (which dead-letters)."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from nats.js.api import StorageType

from contracts.subjects import STREAMS
from services.client import BusClient
from services.infra.bus.streams import DUPLICATE_WINDOW_SECONDS, MAX_AGE_SECONDS
from services.infra.clock import SimulatedClock
from services.infra.nats_server import NatsServer, free_port, nats_server_binary
from services.infra.settings import Settings
from services.system import System

pytestmark = pytest.mark.integration
DEPLOYED = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "nats-server.conf"


def jetstream_config(monitor_port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{monitor_port}/varz", timeout=5) as answer:
        config: dict[str, object] = json.load(answer)["jetstream"]["config"]
    return config


def test_the_deployed_configuration_is_valid_and_syncs_every_write(tmp_path: Path) -> None:
    checked = subprocess.run(
        [nats_server_binary(), "-c", str(DEPLOYED), "-t"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    # the same file, run here: only where it listens and stores changes
    text = DEPLOYED.read_text()
    text = re.sub(r"(?m)^listen: .*$", "", text)
    text = re.sub(r"(?m)^http: .*$", "", text)
    text = re.sub(r"(?m)^\s*store_dir: .*$", "", text)  # given on the command line instead
    local = tmp_path / "nats-server.conf"
    local.write_text(text)
    monitor = free_port()
    server = NatsServer(tmp_path / "js", config_file=local, monitor_port=monitor).start()
    try:
        config = jetstream_config(monitor)
        assert config["sync_always"] is True
    finally:
        server.stop()


def test_the_embedded_server_syncs_every_write_the_tests_one_does_not(tmp_path: Path) -> None:
    for sync, expected in ((True, True), (False, False)):
        monitor = free_port()
        server = NatsServer(tmp_path / f"js-{sync}", sync_always=sync, monitor_port=monitor)
        server.start()
        try:
            assert jetstream_config(monitor).get("sync_always", False) is expected
        finally:
            server.stop()


async def test_streams_and_consumers_carry_the_chosen_settings(
    settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    system = System(settings, clock)
    await system.start()
    try:
        for spec in STREAMS:
            info = await client.js.stream_info(spec.name)
            assert info.config.storage == StorageType.FILE
            assert info.config.duplicate_window == DUPLICATE_WINDOW_SECONDS
            assert info.config.max_age == MAX_AGE_SECONDS
        for svc in system.services:
            for durable in svc._durables:
                consumer = await client.js.consumer_info(durable.stream, durable.durable)
                assert consumer.config.ack_wait == settings.ack_wait_seconds
                assert consumer.config.max_deliver in (None, -1)
    finally:
        await system.stop()
