"""The console's queries answered by dispatch (contracts/dispatch/queries_v1.py), on SQLite and
PostgreSQL: open requests with their ranked shortlists and the reason of every score, the
caregivers' roster with certificates flagged relative to the asker's date, and the households
with their current caregiver; the handlers on dispatch's own database, then the three
queries over a real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from builders import STREET, caregiver, household, until_registered

from contracts import subjects
from contracts.dispatch.queries_v1 import (
    HouseholdsList,
    HouseholdsQuery,
    OpenRequests,
    OpenRequestsQuery,
    Roster,
    RosterEntry,
    RosterQuery,
)
from contracts.dispatch.v1 import (
    ConfirmAssignment,
    RegisterCaregiver,
    RegisterHousehold,
    RequestCare,
    RequestSubstitute,
    ShortlistProposed,
)
from contracts.dispatch.values import Certificate, GeoPoint
from contracts.envelope import Payload
from services.client import BusClient
from services.demo.watch import BusWatcher
from services.dispatch import app as dispatch_app
from services.dispatch import queries
from services.dispatch.assigning import confirm_assignment
from services.dispatch.registering import register_caregiver, register_household
from services.dispatch.replacing import request_substitute
from services.dispatch.requesting import request_care
from services.dispatch.store import shortlists
from services.infra.bus.store import MessageStore
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service
from services.infra.settings import Settings
from services.system import System

DAY = date(2026, 11, 2)
OTHER = "西岗街道"
NEAR, FAR = GeoPoint(lat=38.906, lon=121.59), GeoPoint(lat=38.93, lon=121.59)


def certified(
    daily_care: date, common_illness: date | None, first_aid: date
) -> tuple[Certificate, ...]:
    held = {"daily_care": daily_care, "common_illness": common_illness, "first_aid": first_aid}
    return tuple(
        Certificate(module=module, expires_on=expires)
        for module, expires in held.items()
        if expires is not None
    )


def carer(cid: str, **changes: Any) -> RegisterCaregiver:
    return caregiver(cid).model_copy(update=changes)


def home(hid: str, **changes: Any) -> RegisterHousehold:
    return household(hid).model_copy(
        update={"location": GeoPoint(lat=38.905, lon=121.59)} | changes
    )


REGISTRY: tuple[RegisterCaregiver | RegisterHousehold, ...] = (
    carer("C1", capacity=2, home=NEAR, appraisal_score=88.0),
    # expiring: daily_care in 10 days, the other two on DAY itself (valid through that day)
    carer("C2", home=FAR, certificates=certified(DAY + timedelta(days=10), DAY, DAY)),
    carer("C3", active=False),  # blocked: inactive
    # blocked: common_illness missing, first_aid expired yesterday
    carer("C4", certificates=certified(DAY, None, DAY - timedelta(days=1))),
    carer("C9", station_id="S2", street=OTHER),
    home("H1"),  # shortlist
    home("H2", category=None),  # batch: open, without a shortlist
    home("H3"),  # auto: assigned at once
    home("H9", station_id="S2", street=OTHER),  # shortlist, another station
)
REQUESTS = (
    RequestCare(request_id="R-H1", household_id="H1", start_date=DAY, mode="shortlist"),
    RequestCare(request_id="R-H2", household_id="H2", start_date=DAY, mode="batch"),
    RequestCare(request_id="R-H3", household_id="H3", start_date=DAY, mode="auto"),
    RequestCare(request_id="R-H9", household_id="H9", start_date=DAY, mode="shortlist"),
    # H1 again while its first request is open: answered unmet, so not open
    RequestCare(request_id="R-H1b", household_id="H1", start_date=DAY, mode="shortlist"),
)


@dataclass
class Dispatch:
    svc: Service
    proposed: dict[str, ShortlistProposed]  # request id -> its ShortlistProposed event

    @property
    def store(self) -> MessageStore:
        return self.svc.store


@pytest.fixture
async def dispatch(
    database_url: str | None, tmp_path: Path, clock: SimulatedClock
) -> AsyncIterator[Dispatch]:
    """Dispatch's migrated database (never connected to NATS) with REGISTRY and REQUESTS
    applied, each command in its own transaction; and the shortlists they proposed."""
    settings = Settings(
        nats_url="nats://127.0.0.1:1",
        var_dir=tmp_path,
        database_url=database_url,
        _env_file=None,
    )
    svc = dispatch_app.build(settings, clock)
    await svc.migrate()
    for cmd in REGISTRY:
        await apply(svc, cmd)
    proposed: dict[str, ShortlistProposed] = {}
    for request in REQUESTS:
        for event in await apply(svc, request):
            if isinstance(event, ShortlistProposed):
                proposed[event.request_id] = event
    yield Dispatch(svc, proposed)
    await svc.engine.dispose()


async def apply(svc: Service, cmd: Payload) -> list[Any]:
    """Run the command's use case in one transaction; the events it emitted."""
    use_cases: dict[type[Payload], Any] = {
        RegisterCaregiver: register_caregiver,
        RegisterHousehold: register_household,
        RequestCare: request_care,
        ConfirmAssignment: confirm_assignment,
        RequestSubstitute: request_substitute,
    }
    async with svc.store.transaction() as tx:
        await use_cases[type(cmd)](tx, cmd)
    return [envelope.payload for envelope in tx.emitted]


# -- open requests -----------------------------------------------------------------------


async def test_open_requests_carry_the_ranked_shortlist_with_every_reason(
    dispatch: Dispatch,
) -> None:
    answer = await queries.open_requests(dispatch.store, OpenRequestsQuery(station_id="S1"))
    assert answer.station_id == "S1"
    assert [(r.request_id, r.mode) for r in answer.requests] == [
        ("R-H1", "shortlist"),
        ("R-H2", "batch"),
    ]
    first, batch = answer.requests
    assert (first.household_id, first.household_name, first.address) == ("H1", "李家", "五一路H1号")
    assert (first.station_id, first.street, first.start_date) == ("S1", STREET, DAY)
    assert first.requested_at == first.proposed_at == dispatch.svc.clock.now()

    # exactly what ShortlistProposed said: rank order, totals, each component with its reasons
    event = dispatch.proposed["R-H1"]
    assert tuple(first.candidates) == event.candidates
    assert [c.caregiver_id for c in first.candidates] == ["C1", "C2"]  # C1 lives nearer
    assert [c.rank for c in first.candidates] == [1, 2]
    assert first.candidates[0].total < first.candidates[1].total  # a cost: lower ranks first
    for c in first.candidates:
        assert c.components and all(p.reason and p.reason_zh for p in c.components)
    assert first.blocked == event.blocked == {"inactive": 1, "certificate": 1}

    assert (batch.household_id, batch.candidates, batch.blocked) == ("H2", [], {})
    assert batch.proposed_at is None

    everywhere = await queries.open_requests(dispatch.store, OpenRequestsQuery())
    assert [r.request_id for r in everywhere.requests] == ["R-H1", "R-H2", "R-H9"]
    assert [c.caregiver_id for c in everywhere.requests[2].candidates] == ["C9"]
    nowhere = await queries.open_requests(dispatch.store, OpenRequestsQuery(station_id="S7"))
    assert nowhere.requests == []


async def test_an_answered_request_leaves_and_an_old_shortlist_has_no_counts(
    dispatch: Dispatch,
) -> None:
    confirm = ConfirmAssignment(request_id="R-H1", caregiver_id="C1", decided_by="manager-s1")
    assert [type(e).__name__ for e in await apply(dispatch.svc, confirm)] == ["CaregiverAssigned"]
    # a shortlist stored before its blocked counts were kept (migration 0006)
    async with dispatch.svc.engine.begin() as conn:
        await conn.execute(
            sa.update(shortlists).where(shortlists.c.request_id == "R-H9").values(blocked=None)
        )
    answer = await queries.open_requests(dispatch.store, OpenRequestsQuery())
    assert [r.request_id for r in answer.requests] == ["R-H2", "R-H9"]
    assert answer.requests[1].blocked == {}
    assert [c.caregiver_id for c in answer.requests[1].candidates] == ["C9"]


# -- roster ------------------------------------------------------------------------------


def by_id(roster: Roster) -> dict[str, RosterEntry]:
    return {c.caregiver_id: c for c in roster.caregivers}


async def test_roster_flags_certificates_relative_to_the_askers_date(dispatch: Dispatch) -> None:
    answer = await queries.roster(dispatch.store, RosterQuery(on=DAY, station_id="S1"))
    assert (answer.station_id, answer.on, answer.expiring_within_days) == ("S1", DAY, 30)
    assert [c.caregiver_id for c in answer.caregivers] == ["C1", "C2", "C3", "C4"]
    found = by_id(answer)

    c1 = found["C1"]  # auto-assigned to H3
    assert (c1.name, c1.station_id, c1.street, c1.sex) == ("王秀兰", "S1", STREET, "F")
    assert (c1.active, c1.capacity, c1.assignments, c1.appraisal_score) == (True, 2, 1, 88.0)
    assert [(c.module, c.expires_on) for c in c1.certificates] == [
        ("daily_care", date(2027, 12, 31)),
        ("common_illness", date(2027, 12, 31)),
        ("first_aid", date(2027, 12, 31)),
    ]
    assert (c1.certificates_valid, c1.expiring_soon, c1.missing_certificates) == (True, False, [])
    assert not any(c.expired or c.expiring for c in c1.certificates)

    c2 = found["C2"]
    assert [(c.module, c.days_left, c.expired, c.expiring) for c in c2.certificates] == [
        ("daily_care", 10, False, True),
        ("common_illness", 0, False, True),  # expires today: valid through today
        ("first_aid", 0, False, True),
    ]
    assert (c2.certificates_valid, c2.expiring_soon, c2.assignments) == (True, True, 0)
    assert c2.appraisal_score is None

    assert (found["C3"].active, found["C3"].certificates_valid) == (False, True)

    c4 = found["C4"]
    assert [(c.module, c.days_left, c.expired, c.expiring) for c in c4.certificates] == [
        ("daily_care", 0, False, True),
        ("first_aid", -1, True, False),
    ]
    assert (c4.missing_certificates, c4.certificates_valid) == (["common_illness"], False)

    # Another day, another window: the same stored dates, other flags.
    later = by_id(await queries.roster(dispatch.store, RosterQuery(on=DAY + timedelta(days=1))))
    assert set(later) == {"C1", "C2", "C3", "C4", "C9"}
    assert [(c.days_left, c.expired) for c in later["C2"].certificates] == [
        (9, False),
        (-1, True),
        (-1, True),
    ]
    assert later["C2"].certificates_valid is False
    narrow = RosterQuery(on=DAY - timedelta(days=1), station_id="S1", expiring_within_days=5)
    early = by_id(await queries.roster(dispatch.store, narrow))
    assert [c.expiring for c in early["C2"].certificates] == [False, True, True]
    assert [c.days_left for c in early["C2"].certificates] == [11, 1, 1]


async def test_roster_counts_leave_and_substitute_duties_on_the_day(dispatch: Dispatch) -> None:
    # C1 away for a day; C2 (certificates valid through DAY) covers H3
    leave = RequestSubstitute(
        substitute_request_id="SUB1",
        household_id="H3",
        caregiver_id="C1",
        first_day=DAY,
        last_day=DAY,
    )
    events = await apply(dispatch.svc, leave)
    assert [(type(e).__name__, getattr(e, "caregiver_id", None)) for e in events] == [
        ("SubstituteAssigned", "C2")
    ]
    during = by_id(await queries.roster(dispatch.store, RosterQuery(on=DAY)))
    assert (during["C1"].on_leave, during["C1"].assignments) == (True, 1)
    assert (during["C2"].substitute_duties, during["C2"].on_leave) == (1, False)
    after = by_id(await queries.roster(dispatch.store, RosterQuery(on=DAY + timedelta(days=1))))
    assert (after["C1"].on_leave, after["C1"].assignments, after["C2"].substitute_duties) == (
        False,
        1,
        0,
    )


# -- households --------------------------------------------------------------------------


async def test_households_with_category_current_caregiver_and_window(dispatch: Dispatch) -> None:
    answer = await queries.households_list(dispatch.store, HouseholdsQuery(station_id="S1"))
    assert answer.station_id == "S1"
    rows = [
        (h.household_id, h.category, h.caregiver_id, h.caregiver_since) for h in answer.households
    ]
    assert rows == [("H1", "B", None, None), ("H2", None, None, None), ("H3", "B", "C1", DAY)]
    h3 = answer.households[2]
    assert (h3.name, h3.address, h3.station_id, h3.street) == ("李家", "五一路H3号", "S1", STREET)
    assert h3.enrolled_on == date(2026, 10, 1)
    assert [t.isoformat() for t in h3.visit_window] == ["09:00:00", "11:00:00"]

    confirm = ConfirmAssignment(request_id="R-H9", caregiver_id="C9", decided_by="manager-s2")
    await apply(dispatch.svc, confirm)
    everywhere = await queries.households_list(dispatch.store, HouseholdsQuery())
    assert [(h.household_id, h.caregiver_id) for h in everywhere.households] == [
        ("H1", None),
        ("H2", None),
        ("H3", "C1"),
        ("H9", "C9"),
    ]


# -- over the bus ------------------------------------------------------------------------


async def test_the_console_asks_over_the_bus(system: System, client: BusClient) -> None:
    watcher = BusWatcher(client.nc)
    await watcher.start()
    registry: list[tuple[str, Payload]] = [
        (subjects.REGISTER_CAREGIVER, REGISTRY[0]),  # C1
        (subjects.REGISTER_CAREGIVER, REGISTRY[1]),  # C2, certificates expiring
        (subjects.REGISTER_HOUSEHOLD, home("H1")),
    ]
    await client.send_many(registry)
    await until_registered(watcher, caregivers=2, households=1)
    await client.send(subjects.REQUEST_CARE, REQUESTS[0])
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.ShortlistProposed"] == 1, "the shortlist", timeout=20
    )
    [event] = watcher.payloads["dispatch.ShortlistProposed"]

    open_now = await client.ask(subjects.RPC_OPEN_REQUESTS, OpenRequestsQuery(), OpenRequests)
    assert [r.request_id for r in open_now.requests] == ["R-H1"]
    assert [c.model_dump(mode="json") for c in open_now.requests[0].candidates] == event[
        "candidates"
    ]
    assert open_now.requests[0].blocked == event["blocked"]

    roster = await client.ask(subjects.RPC_ROSTER, RosterQuery(on=DAY, station_id="S1"), Roster)
    assert [(c.caregiver_id, c.expiring_soon) for c in roster.caregivers] == [
        ("C1", False),
        ("C2", True),
    ]

    await client.send(
        subjects.CONFIRM_ASSIGNMENT,
        ConfirmAssignment(request_id="R-H1", caregiver_id="C1", decided_by="manager-s1"),
    )
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.CaregiverAssigned"] == 1, "the assignment", timeout=20
    )
    homes = await client.ask(
        subjects.RPC_HOUSEHOLDS, HouseholdsQuery(station_id="S1"), HouseholdsList
    )
    assert [(h.household_id, h.caregiver_id) for h in homes.households] == [("H1", "C1")]
    answered = await client.ask(
        subjects.RPC_OPEN_REQUESTS, OpenRequestsQuery(station_id="S1"), OpenRequests
    )
    assert answered.requests == []
    await watcher.stop()
