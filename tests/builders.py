"""Small builders of valid commands for the integration tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contracts.dispatch.application import Application
from contracts.dispatch.v1 import (
    CaregiverAssigned,
    RegisterCaregiver,
    RegisterHousehold,
    RequestCare,
)
from contracts.dispatch.values import Certificate
from contracts.scheduling.v1 import CompleteVisit
from services.demo.watch import BusWatcher

SHANGHAI = ZoneInfo("Asia/Shanghai")
STREET = "中山公园街道"


CERTIFIED = tuple(
    Certificate(module=m, expires_on=date(2027, 12, 31))
    for m in ("daily_care", "common_illness", "first_aid")
)


def caregiver(
    cid: str, station: str = "S1", capacity: int = 1, street: str = STREET
) -> RegisterCaregiver:
    return RegisterCaregiver(
        caregiver_id=cid,
        name="王秀兰",
        station_id=station,
        street=street,
        capacity=capacity,
        certificates=CERTIFIED,
    )


def household(
    hid: str,
    station: str = "S1",
    category: str = "B",
    street: str = STREET,
    enrolled_on: date = date(2026, 10, 1),
) -> RegisterHousehold:
    return RegisterHousehold(
        household_id=hid,
        name="李家",
        address=f"五一路{hid}号",
        station_id=station,
        street=street,
        category=category,  # type: ignore[arg-type]
        enrolled_on=enrolled_on,
        visit_window=(time(9), time(11)),
    )


def request(hid: str, start: date = date(2026, 11, 1)) -> RequestCare:
    return RequestCare(request_id=f"R-{hid}", household_id=hid, start_date=start)


def visit(shift_id: str, cid: str, day: date) -> CompleteVisit:
    checked_in = datetime.combine(day, time(9, 5), SHANGHAI)
    return CompleteVisit(
        shift_id=shift_id,
        caregiver_id=cid,
        checked_in_at=checked_in,
        checked_out_at=checked_in + timedelta(minutes=90),
    )


async def one_assignment(client: Any) -> BusWatcher:
    """On the running system: C1 registered, H1 registered and assigned to C1 (mode auto);
    the watcher that saw it, still watching."""
    from contracts import subjects
    from services.client import until

    watcher = BusWatcher(client.nc)
    await watcher.start()
    await client.send_many(
        [
            (subjects.REGISTER_CAREGIVER, caregiver("C1")),
            (subjects.REGISTER_HOUSEHOLD, household("H1")),
        ]
    )
    await until_registered(watcher, caregivers=1, households=1)
    await client.send(subjects.REQUEST_CARE, request("H1"))
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.CaregiverAssigned"] == 1, "assignment", timeout=20
    )
    # Scheduling records the assignment from the same event, concurrently with whatever the
    # test sends next (shift generation would otherwise find no assignment): wait for it.
    await until(
        lambda: client.caught_up(subjects.DISPATCH_STREAM, "scheduling_on_caregiver_assigned"),
        "scheduling to record the assignment",
        timeout=20,
    )
    return watcher


async def until_registered(watcher: BusWatcher, caregivers: int, households: int) -> None:
    """Both registrations applied: a request matched before its caregivers are known
    would be answered from an incomplete registry."""
    await watcher.wait_until(
        lambda: (
            watcher.by_type["dispatch.CaregiverRegistered"] >= caregivers
            and watcher.by_type["dispatch.HouseholdRegistered"] >= households
        ),
        "the registry",
        timeout=30,
    )


ELDER = {
    "sex": "F",
    "birth_date": "1940-03-02",
    "self_care": "needs_help",
    "can_work": False,
    "has_income": True,
    "has_legal_supporter": True,
    "has_children": True,
    "seriously_ill_certified": False,
    "unemployed": False,
}
B2_ELDER = ELDER | {
    "birth_date": "1950-01-01",
    "self_care": "unable",
    "seriously_ill_certified": True,
}


def application_form(
    hid: str, elder: dict[str, Any], received: str = "2026-11-05", income: str = "5000.00"
) -> Application:
    return Application.model_validate(
        {
            "household_id": hid,
            "received_on": received,
            "hukou_local": True,
            "resides_locally": True,
            "on_dibao": False,
            "monthly_income": income,
            "wants_service": True,
            "elders": [elder],
        }
    )


def assignment_event(
    household_id: str, caregiver_id: str, window: tuple[time, time] = (time(9), time(11))
) -> CaregiverAssigned:
    """What scheduling hears from dispatch when a caregiver is assigned (from 2026-11-01)."""
    return CaregiverAssigned(
        assignment_id=f"AS-{household_id}",
        request_id=f"R-{household_id}",
        household_id=household_id,
        caregiver_id=caregiver_id,
        station_id="S1",
        address="五一路1号",
        start_date=date(2026, 11, 1),
        visit_window=window,
        decided_by="auto",
    )
