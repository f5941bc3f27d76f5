"""The approval workflow through dispatch's subscribers (in-memory broker, real SQLite)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from builders import B2_ELDER, ELDER, application_form
from faststream.nats import TestNatsBroker
from routing_helpers import emitted, send

from contracts import subjects as s
from contracts.dispatch.eligibility_v1 import (
    CloseNotices,
    DecideApplication,
    ObjectToNotice,
    SubmitApplication,
)
from services.dispatch.store import decisions
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 11, 11, 9, tzinfo=SHANGHAI))


async def test_approved_application_sets_the_category_from_its_round(dispatch: Service) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        await send(
            broker,
            s.SUBMIT_APPLICATION,
            SubmitApplication(
                application_id="AP1", form=application_form("H1", ELDER, income="500.00")
            ),
        )
        await send(
            broker,
            s.DECIDE_APPLICATION,
            DecideApplication(application_id="AP1", approve=True, decided_by="officer"),
        )
    events = await emitted(dispatch)
    assert [subject for subject, _ in events] == [
        s.APPLICATION_ASSESSED,
        s.APPLICATION_DECIDED,
        s.CATEGORY_APPROVED,
    ]
    assert events[0][1]["category"] == "B" and events[0][1]["rules"] == ["B1"]
    assert events[2][1]["category"] == "B" and events[2][1]["effective_from"] == "2026-11-01"
    assert events[2][1]["monthly_subsidy"] == "200.00"
    audit = await dispatch.store.read(sa.select(decisions.c.actor, decisions.c.action))
    assert [tuple(r) for r in audit] == [("officer", "application_approved")]


async def test_refusal_needs_a_reason_and_a_decision_is_final(dispatch: Service) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        await send(
            broker,
            s.SUBMIT_APPLICATION,
            SubmitApplication(application_id="AP1", form=application_form("H1", ELDER)),
        )
        await send(
            broker,
            s.DECIDE_APPLICATION,
            DecideApplication(application_id="AP1", approve=False, decided_by="officer"),
        )
        await send(
            broker,
            s.DECIDE_APPLICATION,
            DecideApplication(
                application_id="AP1", approve=False, decided_by="officer", reason="income too high"
            ),
        )
        await send(
            broker,
            s.DECIDE_APPLICATION,
            DecideApplication(application_id="AP1", approve=True, decided_by="officer"),
        )
    events = await emitted(dispatch)
    assert [subject for subject, _ in events] == [
        s.APPLICATION_ASSESSED,
        s.COMMAND_REJECTED,
        s.APPLICATION_DECIDED,
        s.COMMAND_REJECTED,
    ]
    assert events[1][1]["reason"] == "a refusal needs a reason"
    assert events[2][1]["outcome"] == "refused"
    assert events[3][1]["reason"] == "application is refused"


async def test_b2_child_caregiver_needs_three_quiet_days(
    dispatch: Service, clock: SimulatedClock
) -> None:
    async with TestNatsBroker(dispatch.broker) as broker:
        for app_id, hid in (("AP1", "H1"), ("AP2", "H2")):
            await send(
                broker,
                s.SUBMIT_APPLICATION,
                SubmitApplication(
                    application_id=app_id,
                    form=application_form(hid, B2_ELDER),
                    child_caregiver_id="C9",
                ),
            )
            await send(
                broker,
                s.DECIDE_APPLICATION,
                DecideApplication(application_id=app_id, approve=True, decided_by="o"),
            )
        clock.advance(timedelta(days=2))  # day 3 of the notice: objections still count
        await send(
            broker,
            s.OBJECT_TO_NOTICE,
            ObjectToNotice(application_id="AP2", objection="she has a job elsewhere"),
        )
        await send(broker, s.CLOSE_NOTICES, CloseNotices(on=date(2026, 11, 13)))  # too early
        # a date ahead of the service's clock cannot close a notice early either
        await send(broker, s.CLOSE_NOTICES, CloseNotices(on=date(2026, 11, 30)))
        clock.advance(timedelta(days=1))  # day 3 has ended
        await send(broker, s.CLOSE_NOTICES, CloseNotices(on=date(2026, 11, 14)))
        await send(
            broker, s.OBJECT_TO_NOTICE, ObjectToNotice(application_id="AP1", objection="too late")
        )
    events = await emitted(dispatch)
    kinds = [
        (subject.split(".")[-2], p.get("application_id") or p.get("subject_id"))
        for subject, p in events
    ]
    assert kinds == [
        ("application_assessed", "AP1"),
        ("application_decided", "AP1"),
        ("notice_posted", "AP1"),
        ("application_assessed", "AP2"),
        ("application_decided", "AP2"),
        ("notice_posted", "AP2"),
        ("notice_objected", "AP2"),
        ("category_approved", "AP1"),
        ("command_rejected", "AP1"),
    ]
    posted = events[2][1]
    assert (posted["posted_on"], posted["last_day"]) == ("2026-11-11", "2026-11-13")
    assert events[7][1]["child_caregiver_id"] == "C9"


async def test_resubmitted_after_objection_can_be_decided_again(
    dispatch: Service, clock: SimulatedClock
) -> None:
    b2 = SubmitApplication(
        application_id="AP1", form=application_form("H1", B2_ELDER), child_caregiver_id="C9"
    )
    approve = DecideApplication(application_id="AP1", approve=True, decided_by="o")
    async with TestNatsBroker(dispatch.broker) as broker:
        await send(broker, s.SUBMIT_APPLICATION, b2)
        await send(broker, s.DECIDE_APPLICATION, approve)
        await send(
            broker,
            s.OBJECT_TO_NOTICE,
            ObjectToNotice(application_id="AP1", objection="not her mother"),
        )
        await send(broker, s.SUBMIT_APPLICATION, b2)  # after the investigation
        await send(broker, s.DECIDE_APPLICATION, approve)
    subjects_seen = [subject for subject, _ in await emitted(dispatch)]
    assert subjects_seen.count(s.NOTICE_POSTED) == 2
    assert s.COMMAND_REJECTED not in subjects_seen


async def test_registration_update_keeps_the_approved_category(dispatch: Service) -> None:
    from builders import household

    async with TestNatsBroker(dispatch.broker) as broker:
        await send(broker, s.REGISTER_HOUSEHOLD, household("H1", category="D"))
        await send(
            broker,
            s.SUBMIT_APPLICATION,
            SubmitApplication(
                application_id="AP1", form=application_form("H1", ELDER, income="500.00")
            ),
        )
        await send(
            broker,
            s.DECIDE_APPLICATION,
            DecideApplication(application_id="AP1", approve=True, decided_by="o"),
        )
        moved = household("H1", category="D").model_copy(update={"address": "长江路9号"})
        await send(broker, s.REGISTER_HOUSEHOLD, moved)
    registered = [p for subject, p in await emitted(dispatch) if subject == s.HOUSEHOLD_REGISTERED]
    assert [p["category"] for p in registered] == ["D", "B"]
