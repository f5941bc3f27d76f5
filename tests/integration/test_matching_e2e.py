"""Matching over a real nats-server, on SQLite and PostgreSQL: a request gets a ranked
shortlist with reasons, the station manager confirms, the assignment reaches scheduling."""

from __future__ import annotations

from datetime import date

from builders import caregiver, household, until_registered
from nats.js.api import DeliverPolicy

from contracts import subjects
from contracts.dispatch.v1 import ConfirmAssignment, RequestCare, ShortlistProposed
from contracts.dispatch.values import GeoPoint
from contracts.envelope import Envelope
from contracts.scheduling.v1 import GenerateShifts
from services.client import BusClient
from services.demo.watch import BusWatcher
from services.system import System

DAY = date(2026, 11, 2)


async def test_request_shortlist_confirm_assignment(system: System, client: BusClient) -> None:
    watcher = BusWatcher(client.nc)
    await watcher.start()
    home = GeoPoint(lat=38.905, lon=121.59)
    await client.send_many(
        [
            (
                subjects.REGISTER_CAREGIVER,
                caregiver("C1").model_copy(update={"home": GeoPoint(lat=38.93, lon=121.59)}),
            ),
            (
                subjects.REGISTER_CAREGIVER,
                caregiver("C2").model_copy(update={"home": GeoPoint(lat=38.906, lon=121.59)}),
            ),
            (subjects.REGISTER_HOUSEHOLD, household("H1").model_copy(update={"location": home})),
        ]
    )
    await until_registered(watcher, caregivers=2, households=1)
    proposals = await client.js.subscribe(
        subjects.SHORTLIST_PROPOSED, deliver_policy=DeliverPolicy.ALL
    )
    await client.send(
        subjects.REQUEST_CARE,
        RequestCare(request_id="R1", household_id="H1", start_date=DAY, mode="shortlist"),
    )
    msg = await proposals.next_msg(timeout=20)
    shortlist = Envelope[ShortlistProposed].model_validate_json(msg.data).payload
    assert [c.caregiver_id for c in shortlist.candidates] == ["C2", "C1"]
    assert all(c.components and c.components[0].reason for c in shortlist.candidates)

    await client.send(
        subjects.CONFIRM_ASSIGNMENT,
        ConfirmAssignment(request_id="R1", caregiver_id="C2", decided_by="manager-s1"),
        correlation_id=msg.headers["Homecare-Correlation-Id"] if msg.headers else None,
    )
    await watcher.wait_until(lambda: watcher.by_type["dispatch.CaregiverAssigned"] == 1, "assign")
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=DAY))
    shift = await (
        await client.js.subscribe(
            subjects.carer_shift_subject("C2"), deliver_policy=DeliverPolicy.ALL
        )
    ).next_msg(20)
    assert b"SH-H1-20261102" in shift.data
    await watcher.stop()
