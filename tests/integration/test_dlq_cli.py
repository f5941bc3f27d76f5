"""`homecare dlq list/show/replay` as an operator runs it: a real process against the dead
letters a running service made, on a real nats-server and both databases."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from builders import SHANGHAI
from conftest import eventually

from contracts import subjects
from contracts.scheduling.v1 import VisitCompleted
from services.billing import handlers as billing_handlers
from services.billing.store import visits as billed_visits
from services.client import BusClient
from services.infra.clock import SimulatedClock
from services.infra.nats_server import NatsServer
from services.infra.settings import Settings
from services.system import System

HOMECARE = str(Path(sys.executable).parent / "homecare")
CONSUMER = ("HC_SCHEDULING", "billing_on_visit_completed")


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


def env_for(settings: Settings, nats_server: NatsServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMECARE_")}
    env.update(
        HOMECARE_VAR_DIR=str(settings.var_dir),
        HOMECARE_NATS_URL=nats_server.url,
        COLUMNS="200",
    )
    if settings.database_url:
        env["HOMECARE_DATABASE_URL"] = settings.database_url
    return env


async def dlq(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        HOMECARE,
        "dlq",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


# The commands read and write each service's database directly: PostgreSQL, the production
# database (the dead-letter store itself is tested on both in test_reliability.py).
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_list_show_and_replay_after_a_fix(
    settings: Settings,
    clock: SimulatedClock,
    client: BusClient,
    nats_server: NatsServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """V1 fails every delivery (a bug) and is dead-lettered beside a malformed message; after
    the fix a replay applies V1 once, and a second replay applies nothing more."""
    real = billing_handlers.record_visit
    bug = {"present": True}
    applied: list[str] = []

    async def buggy(tx: Any, evt: VisitCompleted) -> None:
        if bug["present"]:
            raise RuntimeError("bug: rate table missing")
        applied.append(evt.visit_id)
        await real(tx, evt)

    monkeypatch.setattr(billing_handlers, "record_visit", buggy)
    env = env_for(settings, nats_server)
    system = System(settings, clock, ("billing",))
    await system.start()
    try:
        store = system["billing"].store
        dead_letters = store.tables.dead_letters
        sent = await client.send(subjects.VISIT_COMPLETED, completed("V1"))
        await client.js.publish(
            subjects.VISIT_COMPLETED, b"\xff\xfe{not json", headers={"Nats-Msg-Id": "bad-1"}
        )

        async def both_dead() -> bool:
            return await store.dead_letter_count() == 2

        await eventually(both_dead, "V1 and the malformed message dead-lettered", timeout=30)
        rows = await store.read(sa.select(dead_letters).order_by(dead_letters.c.id))
        by_event = {r.event_id: r.id for r in rows}
        v1, bad = by_event[sent.event_id], by_event["bad-1"]

        # list: both, with their reasons, not replayed
        code, out, err = await dlq("list", "--json", env=env)
        assert code == 0, err
        listed = {(d["service"], d["id"]): d for d in json.loads(out)}
        assert set(listed) == {("billing", v1), ("billing", bad)}
        assert "failed 3 deliveries" in listed[("billing", v1)]["reason"]
        assert "bug: rate table missing" in listed[("billing", v1)]["reason"]
        assert "not valid UTF-8" in listed[("billing", bad)]["reason"]
        assert listed[("billing", v1)]["consumer"] == "billing_on_visit_completed"
        assert listed[("billing", v1)]["deliveries"] == 3
        assert all(d["replayed_at"] is None for d in listed.values())
        code, out, _ = await dlq("list", "--service", "billing", env=env)
        assert code == 0 and "billing" in out and "failed 3 deliveries" in out
        code, out, _ = await dlq("list", "--service", "dispatch", "--json", env=env)
        assert code == 0 and json.loads(out) == []

        # show: the body pretty-printed, or escaped when it is not text
        code, out, err = await dlq("show", "billing", str(v1), env=env)
        assert code == 0, err
        assert '"visit_id": "V1"' in out and "bug: rate table missing" in out
        assert f"Nats-Msg-Id: {sent.event_id}" in out
        code, out, _ = await dlq("show", "billing", str(v1), "--json", env=env)
        shown = json.loads(out)
        assert shown["body"]["json"]["payload"]["visit_id"] == "V1"
        assert shown["headers"]["Nats-Msg-Id"] == sent.event_id
        assert shown["replayable_without_force"] is True
        code, out, _ = await dlq("show", "billing", str(bad), env=env)
        assert code == 0 and "needs --force" in out and "ff fe 7b" in out
        code, out, _ = await dlq("show", "billing", str(bad), "--json", env=env)
        assert json.loads(out)["body"]["base64"] == "//57bm90IGpzb24="

        # unknown id: a clear message and exit code 1
        for command in (("show", "billing", "999"), ("replay", "billing", "999")):
            code, _, err = await dlq(*command, env=env)
            assert code == 1 and "no dead letter 999 in billing" in err
        code, _, err = await dlq("list", "--service", "payroll", env=env)
        assert code == 2 and "unknown service payroll" in err

        # the malformed one is refused without --force (it would only dead-letter again)
        code, _, err = await dlq("replay", "billing", str(bad), env=env)
        assert code == 1 and "refused" in err and "--force" in err
        code, out, _ = await dlq("replay", "billing", str(bad), "--force", "--dry-run", env=env)
        assert code == 0 and f"would replay billing/{bad}" in out

        # after the fix: one replay applies V1 once and marks the row
        bug["present"] = False
        code, out, err = await dlq("replay", "billing", str(v1), env=env)
        assert code == 0, err
        assert f"replayed billing/{v1}" in out

        async def billed() -> bool:
            return await store.count(billed_visits) == 1

        await eventually(billed, "V1 billed after the replay")
        replayed = (await store.read(sa.select(dead_letters).where(dead_letters.c.id == v1)))[0]
        assert replayed.replayed_at is not None

        # a second replay reaches the service but its inbox skips it
        code, out, err = await dlq("replay", "billing", str(v1), env=env)
        assert code == 0 and "replayed before" in err

        async def settled() -> bool:
            info = await client.js.consumer_info(*CONSUMER)
            return info.num_pending == 0 and info.num_ack_pending == 0

        await eventually(settled, "the second copy consumed")
        await asyncio.sleep(0.3)
        assert applied == ["V1"]
        assert await store.count(billed_visits) == 1
        assert await store.dead_letter_count() == 2  # no new dead letter either
        stream = await client.js.stream_info(CONSUMER[0])
        assert stream.state.messages == 4  # V1, the malformed one and two replayed copies

        code, out, _ = await dlq("list", "--json", env=env)
        marks = {d["id"]: d["replayed_at"] for d in json.loads(out)}
        assert marks[v1] is not None and marks[bad] is None
        # --all: only what was not replayed, and malformed ones are skipped, not an error
        code, out, err = await dlq("replay", "billing", "--all", "--dry-run", env=env)
        assert code == 0 and "refused" in err and "would replay" not in out
    finally:
        await system.stop()


async def test_list_before_any_database(tmp_path: Path, nats_server: NatsServer) -> None:
    settings = Settings(var_dir=tmp_path / "empty", _env_file=None)  # type: ignore[call-arg]
    env = env_for(settings, nats_server)
    code, out, err = await dlq("list", "--json", env=env)
    assert code == 0 and json.loads(out) == []
    assert "no database yet" in err
    assert not (tmp_path / "empty").exists()
