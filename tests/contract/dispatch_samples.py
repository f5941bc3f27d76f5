"""Valid samples of the dispatch matching and approval payloads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from contracts.dispatch.application import Application
from contracts.dispatch.eligibility_v1 import (
    ApplicationAssessed,
    ApplicationDecided,
    CategoryApproved,
    CloseNotices,
    DecideApplication,
    NoticeObjected,
    NoticePosted,
    ObjectToNotice,
    RoundQuery,
    SubmitApplication,
)
from contracts.dispatch.v1 import (
    AssignmentEnded,
    AssignStreet,
    CommandRejected,
    ConfirmAssignment,
    ReplaceCaregiver,
    RequestSubstitute,
    ShortlistProposed,
    StreetAssigned,
    SubstituteAssigned,
    SubstituteUnavailable,
)
from contracts.dispatch.values import Candidate, ScoreComponent
from contracts.envelope import Payload

DAY = date(2026, 11, 2)
FORM = Application.model_validate(
    {
        "household_id": "H0001",
        "received_on": "2026-11-05",
        "hukou_local": True,
        "resides_locally": True,
        "on_dibao": False,
        "monthly_income": "500.00",
        "wants_service": True,
        "elders": [
            {
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
        ],
    }
)

DISPATCH_SAMPLES: dict[type[Payload], Payload] = {
    ShortlistProposed: ShortlistProposed(
        request_id="R1",
        household_id="H0001",
        station_id="S01",
        candidates=(
            Candidate(
                caregiver_id="C0001",
                rank=1,
                total=87.5,
                components=(
                    ScoreComponent(
                        name="distance",
                        points=40.0,
                        reason="1.2 km from home",
                        reason_zh="距家1.2公里",
                    ),
                ),
            ),
        ),
        blocked={"at_capacity": 3},
    ),
    ConfirmAssignment: ConfirmAssignment(
        request_id="R1",
        caregiver_id="C0002",
        decided_by="manager-s01",
        override_reason="the elder knows her",
    ),
    CommandRejected: CommandRejected(
        command="dispatch.ConfirmAssignment",
        subject_id="R1",
        reason="request is not awaiting confirmation",
    ),
    AssignStreet: AssignStreet(street="中山公园街道", on_date=DAY),
    StreetAssigned: StreetAssigned(
        street="中山公园街道", on_date=DAY, assigned=40, unmet=2, total_cost=5120
    ),
    ReplaceCaregiver: ReplaceCaregiver(
        household_id="H0001",
        new_request_id="R9",
        reason="the elder asked for someone else",
        start_date=DAY,
    ),
    AssignmentEnded: AssignmentEnded(
        assignment_id="AS-R1",
        household_id="H0001",
        caregiver_id="C0001",
        ended_on=DAY,
        reason="replaced",
    ),
    RequestSubstitute: RequestSubstitute(
        substitute_request_id="SUB1",
        household_id="H0001",
        caregiver_id="C0001",
        first_day=DAY,
        last_day=DAY,
    ),
    SubstituteAssigned: SubstituteAssigned(
        substitute_request_id="SUB1",
        household_id="H0001",
        caregiver_id="C0002",
        replaces="C0001",
        first_day=DAY,
        last_day=DAY,
        served_before=True,
    ),
    SubstituteUnavailable: SubstituteUnavailable(
        substitute_request_id="SUB1", household_id="H0001", reason="no caregiver with spare time"
    ),
    SubmitApplication: SubmitApplication(application_id="AP1", form=FORM),
    ApplicationAssessed: ApplicationAssessed(
        application_id="AP1",
        household_id="H0001",
        round="2026-11",
        category="B",
        rules=("B1",),
        monthly_subsidy=Decimal("200.00"),
    ),
    DecideApplication: DecideApplication(
        application_id="AP1", approve=True, decided_by="officer-1"
    ),
    ApplicationDecided: ApplicationDecided(
        application_id="AP1",
        household_id="H0001",
        round="2026-11",
        outcome="approved",
        category="B",
        decided_by="officer-1",
    ),
    NoticePosted: NoticePosted(
        application_id="AP1",
        household_id="H0001",
        child_caregiver_id="C0009",
        posted_on=DAY,
        last_day=date(2026, 11, 4),
    ),
    ObjectToNotice: ObjectToNotice(application_id="AP1", objection="she works elsewhere"),
    NoticeObjected: NoticeObjected(
        application_id="AP1", household_id="H0001", objection="she works elsewhere"
    ),
    CloseNotices: CloseNotices(on=date(2026, 11, 5)),
    RoundQuery: RoundQuery(round="2026-11"),
    CategoryApproved: CategoryApproved(
        application_id="AP1",
        household_id="H0001",
        category="B",
        monthly_subsidy=Decimal("200.00"),
        effective_from=date(2026, 11, 1),
    ),
}
