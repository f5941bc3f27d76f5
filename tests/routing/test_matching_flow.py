"""Shortlist, confirmation/override, street batch, replacement and substitute, through
dispatch's subscribers (in-memory broker, real SQLite)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from builders import CERTIFIED, caregiver, household
from faststream.nats import TestNatsBroker
from routing_helpers import events, send

from contracts import subjects as s
from contracts.dispatch.v1 import (
    AssignStreet,
    ConfirmAssignment,
    ReplaceCaregiver,
    RequestCare,
    RequestSubstitute,
)
from contracts.dispatch.values import GeoPoint
from services.dispatch.store import assignments, decisions
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service

DAY = date(2026, 11, 2)
HOME = GeoPoint(lat=38.905, lon=121.59)


def near(km_north: float) -> GeoPoint:
    return GeoPoint(lat=round(38.905 + km_north / 111.0, 5), lon=121.59)


async def street(broker: Any, *carers: tuple[str, float], homes: int = 1) -> None:
    for cid, km in carers:
        await send(
            broker, s.REGISTER_CAREGIVER, caregiver(cid).model_copy(update={"home": near(km)})
        )
    for n in range(1, homes + 1):
        await send(
            broker, s.REGISTER_HOUSEHOLD, household(f"H{n}").model_copy(update={"location": HOME})
        )


async def test_shortlist_ranks_with_reasons_and_counts_the_blocked(dispatch: Service) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        await street(broker, ("C1", 3.0), ("C2", 0.5))
        await send(
            broker,
            s.REGISTER_CAREGIVER,
            caregiver("C3").model_copy(update={"certificates": CERTIFIED[:2]}),
        )  # no first-aid certificate
        await send(
            broker,
            s.REQUEST_CARE,
            RequestCare(request_id="R1", household_id="H1", start_date=DAY, mode="shortlist"),
        )
    proposed = (await events(dispatch, s.SHORTLIST_PROPOSED))[0]
    assert [c["caregiver_id"] for c in proposed["candidates"]] == ["C2", "C1"]
    assert proposed["blocked"] == {"certificate": 1}
    distance = next(c for c in proposed["candidates"][0]["components"] if c["name"] == "distance")
    assert "km" in distance["reason"] and "公里" in distance["reason_zh"]
    assert await events(dispatch, s.CAREGIVER_ASSIGNED) == []


async def test_override_needs_a_reason_and_is_audited(dispatch: Service) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        await street(broker, ("C1", 3.0), ("C2", 0.5))
        await send(
            broker,
            s.REQUEST_CARE,
            RequestCare(request_id="R1", household_id="H1", start_date=DAY, mode="shortlist"),
        )
        await send(
            broker,
            s.CONFIRM_ASSIGNMENT,
            ConfirmAssignment(request_id="R1", caregiver_id="C1", decided_by="manager"),
        )
        await send(
            broker,
            s.CONFIRM_ASSIGNMENT,
            ConfirmAssignment(
                request_id="R1",
                caregiver_id="C1",
                decided_by="manager",
                override_reason="the elder knows her from the neighbourhood",
            ),
        )
        await send(
            broker,
            s.CONFIRM_ASSIGNMENT,
            ConfirmAssignment(request_id="R1", caregiver_id="C2", decided_by="manager"),
        )
    rejected = await events(dispatch, s.COMMAND_REJECTED)
    assert [r["reason"] for r in rejected] == [
        "choosing anyone but the top-ranked caregiver needs a reason",
        "request is assigned, not open",
    ]
    assigned = await events(dispatch, s.CAREGIVER_ASSIGNED)
    assert [(a["caregiver_id"], a["decided_by"]) for a in assigned] == [("C1", "manager")]
    audit = await dispatch.store.read(sa.select(decisions.c.action, decisions.c.detail))
    assert audit[0].action == "override" and audit[0].detail["rank"] == 2


async def test_street_batch_serves_higher_categories_first(dispatch: Service) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        await street(broker, ("C1", 0.5), ("C2", 1.0))
        for hid, category in (("H1", "D"), ("H2", "A"), ("H3", "C")):
            await send(
                broker,
                s.REGISTER_HOUSEHOLD,
                household(hid, category=category).model_copy(update={"location": HOME}),
            )
            await send(
                broker,
                s.REQUEST_CARE,
                RequestCare(request_id=f"R-{hid}", household_id=hid, start_date=DAY, mode="batch"),
            )
        await send(broker, s.ASSIGN_STREET, AssignStreet(street="中山公园街道", on_date=DAY))
    assigned = {a["household_id"] for a in await events(dispatch, s.CAREGIVER_ASSIGNED)}
    assert assigned == {"H2", "H3"}
    unmet = await events(dispatch, s.CARE_REQUEST_UNMET)
    assert [u["household_id"] for u in unmet] == ["H1"]
    summary = (await events(dispatch, s.STREET_ASSIGNED))[0]
    assert (summary["assigned"], summary["unmet"]) == (2, 1)


async def test_replacement_never_returns_to_a_replaced_caregiver(dispatch: Service) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        await street(broker, ("C1", 0.5), ("C2", 1.0))
        await send(
            broker, s.REQUEST_CARE, RequestCare(request_id="R1", household_id="H1", start_date=DAY)
        )
        for n in (2, 3):
            await send(
                broker,
                s.REPLACE_CAREGIVER,
                ReplaceCaregiver(
                    household_id="H1",
                    new_request_id=f"R{n}",
                    reason="asked for someone else",
                    start_date=DAY,
                ),
            )
        # the same replacement again (a retry under a new event id) has no second effect
        await send(
            broker,
            s.REPLACE_CAREGIVER,
            ReplaceCaregiver(
                household_id="H1", new_request_id="R2", reason="again", start_date=DAY
            ),
        )
    assigned = [a["caregiver_id"] for a in await events(dispatch, s.CAREGIVER_ASSIGNED)]
    assert assigned == ["C1", "C2"]
    # the second replacement finds nobody but the replaced C1: C2 stays, R3 is unmet
    ended = [e["caregiver_id"] for e in await events(dispatch, s.ASSIGNMENT_ENDED)]
    assert ended == ["C1"]
    unmet = await events(dispatch, s.CARE_REQUEST_UNMET)
    assert [u["request_id"] for u in unmet] == ["R3"]
    assert "replaced" in unmet[0]["reason"] and "C2 stays" in unmet[0]["reason"]
    active = await dispatch.store.read(
        sa.select(assignments.c.caregiver_id).where(assignments.c.active)
    )
    assert [r.caregiver_id for r in active] == ["C2"]


async def substitute_street(broker: Any) -> None:
    """C1 (nearest) serves H1; C2 (room for two) and C3 (farther) are free."""
    await street(broker, ("C1", 0.2), ("C2", 0.5), ("C3", 3.0))
    await send(
        broker,
        s.REGISTER_CAREGIVER,
        caregiver("C2", capacity=2).model_copy(update={"home": near(0.5)}),
    )
    await send(
        broker, s.REQUEST_CARE, RequestCare(request_id="R1", household_id="H1", start_date=DAY)
    )


async def test_substitute_prefers_who_served_before(dispatch: Service) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        await substitute_street(broker)
        first = RequestSubstitute(
            substitute_request_id="S1",
            household_id="H1",
            caregiver_id="C1",
            first_day=date(2026, 11, 5),
            last_day=date(2026, 11, 6),
        )
        await send(broker, s.REQUEST_SUBSTITUTE, first)
        # C2 is then away on the second leave's first day: C3 must cover, though farther
        await send(
            broker,
            s.REQUEST_SUBSTITUTE,
            RequestSubstitute(
                substitute_request_id="S2",
                household_id="H1",
                caregiver_id="C2",
                first_day=date(2026, 11, 20),
                last_day=date(2026, 11, 20),
            ),
        )
        await send(
            broker,
            s.REQUEST_SUBSTITUTE,
            first.model_copy(
                update={
                    "substitute_request_id": "S3",
                    "first_day": date(2026, 11, 25),
                    "last_day": date(2026, 11, 26),
                }
            ),
        )
    subs = await events(dispatch, s.SUBSTITUTE_ASSIGNED)
    assert [(x["caregiver_id"], x["served_before"]) for x in subs] == [
        ("C2", False),
        ("C3", False),
        ("C2", True),
    ]


async def test_the_stations_chosen_substitute_is_taken_only_when_free(dispatch: Service) -> None:
    """C2 (nearest, room for two) is dispatch's own choice; the station names others."""
    async with TestNatsBroker(dispatch.broker) as broker:
        await substitute_street(broker)
        await send(broker, s.REGISTER_CAREGIVER, caregiver("C4", street="西岗街道"))
        leave = RequestSubstitute(
            substitute_request_id="S1",
            household_id="H1",
            caregiver_id="C1",
            first_day=date(2026, 11, 5),
            last_day=date(2026, 11, 6),
            preferred_caregiver_id="C3",
        )

        def later(n: int, preferred: str | None) -> RequestSubstitute:
            """Another leave, on a day of its own (each takes room from who covers it)."""
            on = date(2026, 11, 20 + n)
            return leave.model_copy(
                update={
                    "substitute_request_id": f"S{n}",
                    "preferred_caregiver_id": preferred,
                    "first_day": on,
                    "last_day": on,
                }
            )

        for request in (
            leave,  # C3 is free: taken, though farther than C2
            leave.model_copy(update={"substitute_request_id": "S2"}),  # C3 covers S1 now
            later(3, "C4"),
            later(4, "C9"),
            later(5, "C1"),
            later(6, None),
        ):
            await send(broker, s.REQUEST_SUBSTITUTE, request)
    subs = await events(dispatch, s.SUBSTITUTE_ASSIGNED)
    assert [
        (x["substitute_request_id"], x["caregiver_id"], x["preferred_caregiver_id"]) for x in subs
    ] == [
        ("S1", "C3", "C3"),
        ("S2", "C2", "C3"),
        ("S3", "C2", "C4"),
        ("S4", "C2", "C9"),
        ("S5", "C2", "C1"),
        ("S6", "C2", None),
    ]
    assert [x["preference_reason"] for x in subs] == [
        None,
        "C3 is not free on every day of the leave: at capacity: serves 1 of 1 households",
        "C4 belongs to street 西岗街道, not 中山公园街道",
        "C9 is not a registered caregiver",
        "C1 is the caregiver on leave",
        None,
    ]


async def test_one_open_request_or_caregiver_per_household(dispatch: Service) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        await street(broker, ("C1", 0.5), ("C2", 1.0), ("C3", 2.0))
        await send(
            broker,
            s.REQUEST_CARE,
            RequestCare(request_id="R1", household_id="H1", start_date=DAY, mode="shortlist"),
        )
        await send(
            broker, s.REQUEST_CARE, RequestCare(request_id="R2", household_id="H1", start_date=DAY)
        )
        # a street batch leaves the request waiting for its station manager alone
        await send(broker, s.ASSIGN_STREET, AssignStreet(street="中山公园街道", on_date=DAY))
        await send(
            broker,
            s.CONFIRM_ASSIGNMENT,
            ConfirmAssignment(request_id="R1", caregiver_id="C1", decided_by="manager"),
        )
        await send(
            broker, s.REQUEST_CARE, RequestCare(request_id="R3", household_id="H1", start_date=DAY)
        )
    unmet = [(u["request_id"], u["reason"]) for u in await events(dispatch, s.CARE_REQUEST_UNMET)]
    assert unmet == [
        ("R2", "household already has an open request"),
        ("R3", "household already has an active caregiver"),
    ]
    assigned = [
        (a["request_id"], a["decided_by"]) for a in await events(dispatch, s.CAREGIVER_ASSIGNED)
    ]
    assert assigned == [("R1", "manager")]


async def test_own_child_serves_only_after_the_b2_notice(dispatch: Service, tmp_path: Path) -> None:
    """C1 and C5 are children of H1's elder; only C1, named in an approved B2 application
    whose public notice passed, may serve H1."""
    from datetime import timedelta

    from builders import B2_ELDER
    from builders import application_form as form

    from contracts.dispatch.eligibility_v1 import (
        CloseNotices,
        DecideApplication,
        SubmitApplication,
    )

    clock = dispatch.clock
    assert isinstance(clock, SimulatedClock)
    async with TestNatsBroker(dispatch.broker) as broker:
        for cid in ("C1", "C5"):
            await send(
                broker,
                s.REGISTER_CAREGIVER,
                caregiver(cid).model_copy(
                    update={"home": near(0.5), "child_of": frozenset({"H1"})}
                ),
            )
        await street(broker, ("C2", 2.0))
        await send(
            broker,
            s.REQUEST_CARE,
            RequestCare(request_id="R1", household_id="H1", start_date=DAY, mode="shortlist"),
        )
        await send(
            broker,
            s.SUBMIT_APPLICATION,
            SubmitApplication(
                application_id="AP1",
                form=form("H1", B2_ELDER, received="2026-10-05"),
                child_caregiver_id="C1",
            ),
        )
        await send(
            broker,
            s.DECIDE_APPLICATION,
            DecideApplication(application_id="AP1", approve=True, decided_by="o"),
        )
        clock.advance(timedelta(days=3))
        await send(broker, s.CLOSE_NOTICES, CloseNotices(on=clock.today()))
        for cid in ("C5", "C1"):  # not in the shortlist: an override, with its reason
            await send(
                broker,
                s.CONFIRM_ASSIGNMENT,
                ConfirmAssignment(
                    request_id="R1",
                    caregiver_id=cid,
                    decided_by="manager",
                    override_reason="the family's own child, publicly noticed",
                ),
            )
    proposals = await events(dispatch, s.SHORTLIST_PROPOSED)
    assert [c["caregiver_id"] for c in proposals[0]["candidates"]] == ["C2"]
    assert proposals[0]["blocked"] == {"own_child": 2}
    rejected = await events(dispatch, s.COMMAND_REJECTED)
    assert len(rejected) == 1 and "own child" in rejected[0]["reason"]
    assigned = [a["caregiver_id"] for a in await events(dispatch, s.CAREGIVER_ASSIGNED)]
    assert assigned == ["C1"]


async def test_approval_rules_for_children_and_the_ineligible(dispatch: Service) -> None:
    from builders import ELDER
    from builders import application_form as form

    from contracts.dispatch.eligibility_v1 import DecideApplication, SubmitApplication

    not_resident = form("H1", ELDER).model_copy(update={"resides_locally": False})
    async with TestNatsBroker(dispatch.broker) as broker:
        await send(
            broker, s.SUBMIT_APPLICATION, SubmitApplication(application_id="AP1", form=not_resident)
        )
        await send(
            broker,
            s.SUBMIT_APPLICATION,
            SubmitApplication(
                application_id="AP2",
                form=form("H2", ELDER, income="500.00"),
                child_caregiver_id="C9",
            ),
        )
        for app_id in ("AP1", "AP2"):
            await send(
                broker,
                s.DECIDE_APPLICATION,
                DecideApplication(application_id=app_id, approve=True, decided_by="o"),
            )
    reasons = [r["reason"] for r in await events(dispatch, s.COMMAND_REJECTED)]
    assert reasons == [
        "the household is not eligible",
        "an elder's own child may be the caregiver only in the B2 case",
    ]
    assert await events(dispatch, s.CATEGORY_APPROVED) == []
