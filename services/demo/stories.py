"""The demo's dispatch stories: eligibility assessment and approval, a shortlist confirmed by a
station manager, the street's batch assignment and one replacement. (The leave and its
substitute go through scheduling: services/demo/care.py.)"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from contracts import subjects
from contracts.dispatch.application import Application
from contracts.dispatch.eligibility_v1 import DecideApplication, SubmitApplication
from contracts.dispatch.v1 import (
    AssignStreet,
    ConfirmAssignment,
    RegisterHousehold,
    ReplaceCaregiver,
    RequestCare,
)
from contracts.envelope import Payload
from services.client import BusClient, until
from services.demo.seed import STREET
from services.demo.watch import BusWatcher

INCOME = {"A": "0.00", "B": "580.00", "C": "1500.00", "D": "6000.00"}


def application_for(home: RegisterHousehold, received_on: date) -> Application:
    """A plausible form for the household's circumstances (the assessment decides)."""
    c = home.category or "D"
    return Application.model_validate(
        {
            "household_id": home.household_id,
            "received_on": received_on.isoformat(),
            "hukou_local": True,
            "resides_locally": True,
            "on_dibao": c in ("A", "C"),
            "monthly_income": INCOME[c],
            "wants_service": True,
            "elders": [
                {
                    "sex": e.sex,
                    "birth_date": e.birth_date.isoformat(),
                    "self_care": e.self_care,
                    "can_work": False,
                    "has_income": c in ("C", "D"),
                    "has_legal_supporter": c != "A",
                    "has_children": c != "A",
                    "seriously_ill_certified": e.self_care == "unable" and c == "B",
                    "unemployed": False,
                }
                for e in home.elders
            ],
        }
    )


async def assess_and_approve(
    client: BusClient, watcher: BusWatcher, homes: list[RegisterHousehold], first: date
) -> dict[str, Any]:
    """Last month's round: the street submits, the district officer approves each one."""
    received = (first - timedelta(days=25)).replace(day=5)
    await client.send_many(
        [
            (
                subjects.SUBMIT_APPLICATION,
                SubmitApplication(
                    application_id=f"AP-{h.household_id}", form=application_for(h, received)
                ),
            )
            for h in homes
        ]
    )
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.ApplicationAssessed"] >= len(homes), "assessments"
    )
    await client.send_many(
        [
            (
                subjects.DECIDE_APPLICATION,
                DecideApplication(
                    application_id=f"AP-{h.household_id}",
                    approve=True,
                    decided_by="district-officer",
                ),
            )
            for h in homes
        ]
    )
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.CategoryApproved"] >= len(homes), "approvals"
    )
    by_category: dict[str, int] = {}
    for a in watcher.payloads["dispatch.ApplicationAssessed"]:
        key = a["category"] or "not eligible"
        by_category[key] = by_category.get(key, 0) + 1
    return {
        "applications": len(homes),
        "assessed": dict(sorted(by_category.items())),
        "approved": watcher.by_type["dispatch.CategoryApproved"],
        "example": watcher.payloads["dispatch.ApplicationAssessed"][0],
    }


async def shortlist_and_confirm(
    client: BusClient, watcher: BusWatcher, home: RegisterHousehold, start: date
) -> dict[str, Any]:
    await client.send(
        subjects.REQUEST_CARE,
        RequestCare(
            request_id=f"R-{home.household_id}",
            household_id=home.household_id,
            start_date=start,
            mode="shortlist",
            requested_by="manager-" + home.station_id,
        ),
    )
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.ShortlistProposed"] >= 1, "the shortlist"
    )
    proposed = watcher.payloads["dispatch.ShortlistProposed"][0]
    top = proposed["candidates"][0]["caregiver_id"]
    await client.send(
        subjects.CONFIRM_ASSIGNMENT,
        ConfirmAssignment(
            request_id=proposed["request_id"],
            caregiver_id=top,
            decided_by="manager-" + home.station_id,
        ),
    )
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.CaregiverAssigned"] >= 1, "the confirmed assignment"
    )
    return {
        "household_id": home.household_id,
        "candidates": proposed["candidates"][:3],
        "blocked": proposed["blocked"],
        "confirmed": top,
    }


async def batch_assign(
    client: BusClient, watcher: BusWatcher, homes: list[RegisterHousehold], first: date
) -> dict[str, Any]:
    """Households enrolled by the 1st go into the street's batch; those joining later in the
    month are requested one by one, each from its own first day."""
    requests: list[tuple[str, Payload]] = [
        (
            subjects.REQUEST_CARE,
            RequestCare(
                request_id=f"R-{h.household_id}",
                household_id=h.household_id,
                start_date=max(h.enrolled_on, first),
                mode="batch" if h.enrolled_on <= first else "auto",
            ),
        )
        for h in homes
    ]
    await client.send_many(requests)
    await until(
        lambda: client.caught_up(subjects.DISPATCH_STREAM, "dispatch_request_care"),
        "dispatch to queue the requests",
    )
    await client.send(
        subjects.ASSIGN_STREET,
        AssignStreet(street=STREET, on_date=first, requested_by="street-admin"),
    )
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.StreetAssigned"] >= 1, "the street's batch assignment"
    )
    return dict(watcher.payloads["dispatch.StreetAssigned"][0])


async def replace_one(
    client: BusClient, watcher: BusWatcher, household_id: str, caregiver_id: str, day: date
) -> dict[str, Any]:
    """The elder asks for someone else. If nobody else fits, the current caregiver stays and
    the new request is reported unmet with the reason."""
    request_id = f"RR-{household_id}"
    await client.send(
        subjects.REPLACE_CAREGIVER,
        ReplaceCaregiver(
            household_id=household_id,
            new_request_id=request_id,
            reason="老人希望换一位养护员 (the elder asked for someone else)",
            start_date=day,
        ),
    )

    def answers(kind: str) -> list[dict[str, Any]]:
        return [
            a
            for a in watcher.payloads[kind]
            if a.get("request_id") == request_id or a.get("subject_id") == household_id
        ]

    kinds = ("dispatch.CaregiverAssigned", "dispatch.CareRequestUnmet", "dispatch.CommandRejected")
    await watcher.wait_until(lambda: any(answers(k) for k in kinds), "the replacement's answer")
    assigned = answers("dispatch.CaregiverAssigned")
    refused = answers("dispatch.CareRequestUnmet") + answers("dispatch.CommandRejected")
    return {
        "household_id": household_id,
        "replaced": caregiver_id if assigned else None,
        "new": assigned[0]["caregiver_id"] if assigned else None,
        "reason": refused[0]["reason"] if refused else None,
    }
