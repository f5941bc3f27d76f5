"""The roster cache (facts.ROSTERS): a street's registered caregivers are kept between reads,
valid while the street's token in street_rosters is unchanged. Every registration that
changes a caregiver renews the token (of both streets when they move), so a read never sees
an old roster, and cached facts always equal facts read afresh; tokens are random, so two
databases never share an entry."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from builders import STREET, caregiver, household

from contracts.dispatch.v1 import RegisterCaregiver, RegisterHousehold, RequestCare
from contracts.scheduling.appraisal_v1 import CaregiverAppraised
from services.dispatch import app as dispatch_app
from services.dispatch import facts
from services.dispatch.assigning import for_good
from services.dispatch.facts import RosterCache, caregiver_facts, caregiver_pools
from services.dispatch.matching import CaregiverFacts
from services.dispatch.registering import record_appraisal, register_caregiver, register_household
from services.dispatch.requesting import request_care
from services.dispatch.store import caregivers, street_rosters
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service
from services.infra.settings import Settings

DAY = date(2026, 11, 2)
OTHER = "西岗街道"
SKILLED = frozenset({"dementia_care"})


class CountingCache(RosterCache):
    """A RosterCache that counts how often it answered (so a test knows it was used)."""

    def __init__(self, streets: int = 1024) -> None:
        super().__init__(streets)
        self.hits = 0
        self.misses = 0

    def get(self, street: str, token: str | None) -> list[CaregiverFacts] | None:
        found = super().get(street, token)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found


@pytest.fixture
def rosters(monkeypatch: pytest.MonkeyPatch) -> CountingCache:
    """An empty cache of this test's own in place of the module-global one."""
    cache = CountingCache()
    monkeypatch.setattr(facts, "ROSTERS", cache)
    return cache


async def a_service(
    var_dir: Path, clock: SimulatedClock, database_url: str | None = None
) -> Service:
    settings = Settings(
        nats_url="nats://127.0.0.1:1",  # never connected
        var_dir=var_dir,
        database_url=database_url,
        _env_file=None,
    )
    svc = dispatch_app.build(settings, clock)
    await svc.migrate()
    return svc


@pytest.fixture
async def dispatch(
    database_url: str | None, tmp_path: Path, clock: SimulatedClock
) -> AsyncIterator[Service]:
    """Dispatch's migrated database: a SQLite file, or a fresh PostgreSQL database."""
    svc = await a_service(tmp_path, clock, database_url)
    yield svc
    await svc.engine.dispose()


async def register(svc: Service, *cmds: RegisterCaregiver | RegisterHousehold) -> int:
    """Each registration in its own transaction; how many events they emitted."""
    events = 0
    for cmd in cmds:
        async with svc.store.transaction() as tx:
            if isinstance(cmd, RegisterCaregiver):
                await register_caregiver(tx, cmd)
            else:
                await register_household(tx, cmd)
        events += len(tx.emitted)
    return events


async def roster(svc: Service, street: str = STREET) -> list[CaregiverFacts]:
    async with svc.engine.connect() as conn:
        return await caregiver_facts(conn, street, DAY, DAY)


async def token(svc: Service, street: str = STREET) -> str | None:
    found = await svc.store.read(
        sa.select(street_rosters.c.token).where(street_rosters.c.street == street)
    )
    return found[0].token if found else None


def ids(found: list[CaregiverFacts]) -> list[str]:
    return [c.caregiver_id for c in found]


async def test_a_change_is_seen_at_once_and_the_same_registration_keeps_the_token(
    dispatch: Service, rosters: CountingCache
) -> None:
    await register(dispatch, caregiver("C1", capacity=1), caregiver("C2"))
    first = await roster(dispatch)
    assert [(c.caregiver_id, c.capacity, c.skills) for c in first] == [
        ("C1", 1, frozenset()),
        ("C2", 1, frozenset()),
    ]
    before = await token(dispatch)
    assert before is not None

    # Cached indeed: a row changed behind the registry's back (no new token) goes unseen.
    async with dispatch.engine.begin() as conn:
        await conn.execute(
            sa.update(caregivers).where(caregivers.c.caregiver_id == "C1").values(capacity=5)
        )
    assert await roster(dispatch) == first
    assert rosters.hits == 1

    # Through the registry: a new token, so the next read has the new skills and capacity.
    changed = caregiver("C1", capacity=2).model_copy(update={"skills": SKILLED})
    assert await register(dispatch, changed) == 1
    renewed = await token(dispatch)
    assert renewed not in (None, before)
    now = await roster(dispatch)
    assert [(c.caregiver_id, c.capacity, c.skills) for c in now] == [
        ("C1", 2, SKILLED),
        ("C2", 1, frozenset()),
    ]

    # The same registration again (a re-import) changes nothing: same token, a cache hit.
    hits = rosters.hits
    assert await register(dispatch, changed) == 0
    assert await token(dispatch) == renewed
    assert await roster(dispatch) == now
    assert rosters.hits == hits + 1


async def test_a_caregiver_who_moves_leaves_the_old_street_and_joins_the_new(
    dispatch: Service, rosters: CountingCache
) -> None:
    await register(dispatch, caregiver("C1"), caregiver("C2"), caregiver("C3", street=OTHER))
    assert ids(await roster(dispatch, STREET)) == ["C1", "C2"]
    assert ids(await roster(dispatch, OTHER)) == ["C3"]
    tokens = (await token(dispatch, STREET), await token(dispatch, OTHER))

    await register(dispatch, caregiver("C1", street=OTHER))
    assert tokens[0] != await token(dispatch, STREET) and tokens[1] != await token(dispatch, OTHER)
    assert ids(await roster(dispatch, STREET)) == ["C2"]
    moved = await roster(dispatch, OTHER)
    assert [(c.caregiver_id, c.street) for c in moved] == [("C1", OTHER), ("C3", OTHER)]

    # The last one leaves: the street is empty, also when read with others at once.
    await register(dispatch, caregiver("C2", street=OTHER))
    async with dispatch.engine.connect() as conn:
        pools = await caregiver_pools(conn, [STREET, OTHER, "无人街道"], DAY, DAY)
    assert {street: ids(pool) for street, pool in pools.items()} == {
        STREET: [],
        OTHER: ["C1", "C2", "C3"],
        "无人街道": [],  # never had a caregiver: no token, nothing cached
    }
    assert rosters.misses > 0


async def test_a_change_rolled_back_leaves_no_trace_in_the_cache(
    dispatch: Service, rosters: CountingCache
) -> None:
    """Read inside the changing transaction, the roster is cached under the new token; the
    rollback takes the token back with it, so that entry is never used."""
    await register(dispatch, caregiver("C1", capacity=1))
    assert [c.capacity for c in await roster(dispatch)] == [1]

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon):
        async with dispatch.store.transaction() as tx:
            await register_caregiver(tx, caregiver("C1", capacity=3))
            inside = await caregiver_facts(tx.conn, STREET, DAY, DAY)
            assert [c.capacity for c in inside] == [3]
            raise Abandon
    assert [c.capacity for c in await roster(dispatch)] == [1]


async def test_cached_facts_equal_facts_read_afresh(
    dispatch: Service, rosters: CountingCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixed pseudo-random run of registrations, changes, moves, re-imports and
    assignments (load); after each, every street's facts through the warm cache equal the
    same facts read with an empty cache, and list the caregivers registered there."""
    streets = [STREET, OTHER, "沙河口街道"]
    homes = [household(f"H{n}", street=streets[n % 3]) for n in range(6)]
    await register(dispatch, *homes)
    rng = random.Random(20261102)
    registered: dict[str, RegisterCaregiver] = {}
    requests = 0

    async def pools() -> dict[str, list[CaregiverFacts]]:
        async with dispatch.engine.connect() as conn:
            return await caregiver_pools(conn, streets, DAY, for_good(DAY))

    for _ in range(30):
        step = rng.choice(("new_or_changed", "new_or_changed", "moved", "again", "request"))
        if step == "request" and registered:
            home = rng.choice(homes)
            requests += 1
            async with dispatch.store.transaction() as tx:
                await request_care(
                    tx,
                    RequestCare(
                        request_id=f"R{requests}", household_id=home.household_id, start_date=DAY
                    ),
                )
        elif step == "again" and registered:
            assert await register(dispatch, rng.choice(list(registered.values()))) == 0
        else:
            cid = (
                rng.choice(sorted(registered))
                if step == "moved" and registered
                else f"C{rng.randrange(8)}"
            )
            cmd = caregiver(cid, capacity=rng.randint(1, 3), street=rng.choice(streets))
            cmd = cmd.model_copy(
                update={
                    "skills": rng.choice((frozenset(), SKILLED)),
                    "active": rng.random() < 0.8,
                    "sex": rng.choice(("F", "M")),
                    "appraisal_score": rng.choice((None, 70.0, 95.0)),
                }
            )
            await register(dispatch, cmd)
            registered[cid] = cmd
        warm = await pools()
        with monkeypatch.context() as m:
            m.setattr(facts, "ROSTERS", RosterCache())
            cold = await pools()
        assert warm == cold
        assert {s: ids(pool) for s, pool in warm.items()} == {
            s: sorted(c for c, cmd in registered.items() if cmd.street == s) for s in streets
        }
    assert rosters.hits > 10 and rosters.misses > 3  # both paths were compared
    assert any(c.load for pool in warm.values() for c in pool)  # loads on cached rosters


async def test_two_databases_never_share_an_entry(
    tmp_path: Path, clock: SimulatedClock, rosters: CountingCache
) -> None:
    """The same street, the same caregiver id, in two databases (SQLite files) served by
    one process: each read gives that database's own roster."""
    first = await a_service(tmp_path / "a", clock)
    second = await a_service(tmp_path / "b", clock)
    try:
        await register(first, caregiver("C1", capacity=1))
        await register(second, caregiver("C1", capacity=3), caregiver("C2"))
        for _ in range(2):
            assert [(c.caregiver_id, c.capacity) for c in await roster(first)] == [("C1", 1)]
            assert [(c.caregiver_id, c.capacity) for c in await roster(second)] == [
                ("C1", 3),
                ("C2", 1),
            ]
        assert rosters.hits == 0  # one entry per street: each database replaced the other's
        assert await token(first) != await token(second)
    finally:
        await first.engine.dispose()
        await second.engine.dispose()


def test_the_least_recently_used_street_is_evicted_first() -> None:
    cache = RosterCache(streets=2)
    a, b, c = ([CaregiverFacts(caregiver_id=f"C{s}", station_id="S1", street=s)] for s in "ABC")
    cache.put("A", "ta", a)
    cache.put("B", "tb", b)
    assert cache.get("A", "ta") is a  # A used last: B is now the least recently used
    cache.put("C", "tc", c)
    assert cache.get("B", "tb") is None
    assert cache.get("A", "ta") is a and cache.get("C", "tc") is c
    # a put refreshes too: A, then C used; putting A anew keeps A and evicts C on the next put
    cache.put("A", "ta2", a)
    cache.put("B", "tb", b)
    assert cache.get("C", "tc") is None
    assert cache.get("A", "ta2") is a and cache.get("B", "tb") is b
    assert cache.get("A", "ta") is None  # an old token is never current
    cache.put("D", None, c)  # no token (the street has no row): nothing kept, nothing evicted
    assert cache.get("D", None) is None
    assert cache.get("A", "ta2") is a and cache.get("B", "tb") is b


def appraised(caregiver_id: str, month: str, score: float) -> CaregiverAppraised:
    return CaregiverAppraised(
        caregiver_id=caregiver_id,
        month=month,
        score=score,
        satisfaction=4.0,
        diary_completeness=1.0,
        punctuality=1.0,
        complaints=0,
        visits=30,
    )


async def test_the_latest_monthly_appraisal_is_what_matching_sees(
    dispatch: Service, rosters: CountingCache
) -> None:
    """Scheduling's CaregiverAppraised reaches the facts at once (the token is renewed); a
    late score of an earlier month keeps the later one; a re-registration keeps the score."""
    await register(dispatch, caregiver("C1"), caregiver("C2"))
    assert [c.appraisal for c in await roster(dispatch)] == [None, None]
    before = await token(dispatch)

    async def apply(evt: CaregiverAppraised) -> None:
        async with dispatch.store.transaction() as tx:
            await record_appraisal(tx, evt)

    await apply(appraised("C1", "2026-10", 55.0))
    assert await token(dispatch) != before
    assert [c.appraisal for c in await roster(dispatch)] == [55.0, None]
    await apply(appraised("C1", "2026-11", 82.5))
    await apply(appraised("C1", "2026-09", 10.0))  # late, older: ignored
    await apply(appraised("C9", "2026-11", 70.0))  # not registered here: ignored
    assert [c.appraisal for c in await roster(dispatch)] == [82.5, None]
    await register(dispatch, caregiver("C1", capacity=2))
    assert [(c.capacity, c.appraisal) for c in await roster(dispatch)] == [(2, 82.5), (1, None)]
