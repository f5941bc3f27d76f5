"""Poison on every subscribed subject: hypothesis makes malformed messages (not JSON, invalid
UTF-8, wrong types, missing fields, unknown types and versions, huge payloads) for every
subject any service consumes, sent between valid commands. Each one is accounted for: it is
either dead-lettered with a reason, or it was a valid message after all and applied once;
the valid traffic is processed; every consumer still works afterwards."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from builders import caregiver, household
from conftest import eventually
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contracts import subjects
from contracts.envelope import Envelope, Payload
from services.client import BusClient
from services.dispatch.store import caregivers, households
from services.infra.clock import SimulatedClock
from services.infra.settings import Settings
from services.system import CORE, System

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from test_contracts_up_to_date import SAMPLE_PAYLOADS

pytestmark = pytest.mark.integration

PER_SUBJECT = 4
PLACEHOLDER = "poison-id-placeholder"
HUGE = 900_000  # under the server's 1 MB max_payload, far over any field's limit
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def mutations(valid: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Ways to spoil a valid envelope (as JSON) of one subject's payload."""
    payload = valid["payload"]
    keys = sorted(payload) or ["payload"]

    def dumps(envelope: dict[str, Any]) -> bytes:
        return json.dumps(envelope, ensure_ascii=False).encode()

    def with_payload(change: dict[str, Any]) -> bytes:
        return dumps(valid | {"payload": change})

    return st.one_of(
        st.binary(max_size=64).map(lambda b: b"\xff" + b),  # invalid UTF-8
        st.text(max_size=40).map(lambda t: ("{" + t).encode()),  # not JSON
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),  # JSON, not an envelope
        st.sampled_from(keys).map(lambda k: with_payload({x: payload[x] for x in keys if x != k})),
        st.tuples(st.sampled_from(keys), JSON_VALUES).map(
            lambda kv: with_payload(payload | {kv[0]: kv[1]})
        ),
        st.integers()
        .filter(lambda v: v != valid["version"])
        .map(lambda v: dumps(valid | {"version": v})),
        st.text(max_size=30).map(lambda t: dumps(valid | {"type": t})),
        st.just(with_payload(payload | {keys[0]: "字" * (HUGE // 3)})),
    )


def poison_for(subject_samples: dict[str, Payload]) -> dict[str, list[bytes]]:
    """PER_SUBJECT malformed bodies for each subject, drawn by hypothesis (reproducibly)."""
    drawn: dict[str, list[bytes]] = {}

    @hypothesis_settings(
        max_examples=1,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        drawn.clear()
        for subject, sample in sorted(subject_samples.items()):
            valid = json.loads(Envelope.wrap(sample, producer="poison").to_json())
            valid["event_id"] = PLACEHOLDER  # each message's own id, filled in when sent
            drawn[subject] = [data.draw(mutations(valid)) for _ in range(PER_SUBJECT)]

    draw()
    return drawn


async def test_every_subscribed_subject_survives_poison(
    settings: Settings, clock: SimulatedClock, client: BusClient
) -> None:
    system = System(settings.model_copy(update={"console_port": 0}), clock, (*CORE, "console"))
    subscribed = {s: p for svc in system.services for s, p in svc.subscribed.items()}
    samples = {subject: SAMPLE_PAYLOADS[payload] for subject, payload in subscribed.items()}
    poison = poison_for(samples)
    expected: Counter[str] = Counter()  # service -> poison messages its consumers take
    for svc in system.services:
        for subject in svc.subscribed:
            expected[svc.name] += len(poison[subject])
    await system.start()
    try:
        n = 0
        for subject, bodies in poison.items():
            for body in bodies:
                n += 1
                msg_id = f"poison-{n}"
                body = body.replace(PLACEHOLDER.encode(), msg_id.encode())
                await client.js.publish(subject, body, headers={"Nats-Msg-Id": msg_id})
                # valid traffic between the poison
                await client.send(subjects.REGISTER_HOUSEHOLD, household(f"H{n:03d}"))

        async def accounted() -> bool:
            return all([await _accounted(svc) == expected[svc.name] for svc in system.services])

        await eventually(accounted, "every poison message dead-lettered or applied", timeout=90)
        # the valid traffic went through, and every consumer still works
        await client.send(subjects.REGISTER_CAREGIVER, caregiver("C-after"))

        async def still_working() -> bool:
            store = system["dispatch"].store
            return await store.count(households) == n and bool(await store.count(caregivers))

        await eventually(still_working, "valid traffic and a message after the poison")
        for svc in system.services:
            rows = await svc.store.read(sa.select(svc.store.tables.dead_letters))
            assert all(r.reason for r in rows), "a dead letter without its reason"
    finally:
        await system.stop()


async def _accounted(svc: Any) -> int:
    """Poison messages this service's consumers dead-lettered or (valid after all) applied."""
    tables = svc.store.tables
    dead = await svc.store.read(
        sa.select(sa.func.count())
        .select_from(tables.dead_letters)
        .where(tables.dead_letters.c.event_id.like("poison-%"))
    )
    applied = await svc.store.read(
        sa.select(sa.func.count())
        .select_from(tables.inbox)
        .where(tables.inbox.c.event_id.like("poison-%"))
    )
    return int(dead[0][0]) + int(applied[0][0])
