"""Valid samples of the dispatch matching, approval and console-query payloads and replies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from pydantic import BaseModel

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
from contracts.dispatch.queries_v1 import (
    CertificateStatus,
    HouseholdEntry,
    HouseholdsList,
    HouseholdsQuery,
    NoticeEntry,
    OpenRequest,
    OpenRequests,
    OpenRequestsQuery,
    Roster,
    RosterEntry,
    RosterQuery,
    RoundNotices,
    RoundNoticesQuery,
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

CANDIDATE = Candidate(
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
)

DISPATCH_SAMPLES: dict[type[Payload], Payload] = {
    ShortlistProposed: ShortlistProposed(
        request_id="R1",
        household_id="H0001",
        station_id="S01",
        candidates=(CANDIDATE,),
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
        preferred_caregiver_id="C0003",
    ),
    SubstituteAssigned: SubstituteAssigned(
        substitute_request_id="SUB1",
        household_id="H0001",
        caregiver_id="C0002",
        replaces="C0001",
        first_day=DAY,
        last_day=DAY,
        served_before=True,
        preferred_caregiver_id="C0003",
        preference_reason="C0003 is not free on every day of the leave: "
        "at capacity: serves 1 of 1 households",
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
    OpenRequestsQuery: OpenRequestsQuery(station_id="S01"),
    RosterQuery: RosterQuery(on=DAY, station_id="S01", expiring_within_days=30),
    HouseholdsQuery: HouseholdsQuery(),
    RoundNoticesQuery: RoundNoticesQuery(round="2026-11"),
}

OPEN_REQUEST = OpenRequest(
    request_id="R1",
    household_id="H0001",
    household_name="李家",
    address="中山区长江路 1 号",
    station_id="S01",
    street="中山公园街道",
    start_date=DAY,
    mode="shortlist",
    requested_at=datetime(2026, 11, 1, 0, 30, tzinfo=UTC),
    proposed_at=datetime(2026, 11, 1, 0, 30, tzinfo=UTC),
    candidates=[CANDIDATE],
    blocked={"at_capacity": 3},
)
CERTIFICATE = CertificateStatus(
    module="first_aid", expires_on=date(2026, 11, 20), days_left=18, expired=False, expiring=True
)
ROSTER_ENTRY = RosterEntry(
    caregiver_id="C0001",
    name="王秀兰",
    station_id="S01",
    street="中山公园街道",
    sex="F",
    active=True,
    capacity=2,
    assignments=1,
    substitute_duties=0,
    on_leave=False,
    appraisal_score=86.5,
    appraised_month="2026-10",
    certificates=[CERTIFICATE],
    missing_certificates=["daily_care", "common_illness"],
    certificates_valid=False,
    expiring_soon=True,
)
HOUSEHOLD_ENTRY = HouseholdEntry(
    household_id="H0001",
    name="李家",
    address="中山区长江路 1 号",
    station_id="S01",
    street="中山公园街道",
    category="B",
    enrolled_on=date(2026, 11, 1),
    visit_window=(time(9), time(11)),
    caregiver_id="C0001",
    caregiver_since=DAY,
)

NOTICE_ENTRY = NoticeEntry(
    application_id="AP2",
    household_id="H0002",
    child_caregiver_id="C0009",
    posted_on=DAY,
    last_day=date(2026, 11, 4),
    status="objected",
    objection="护理员并非老人子女",
)

# Plain reply models (request/reply answers, not enveloped).
DISPATCH_REPLIES: dict[type[BaseModel], BaseModel] = {
    OpenRequest: OPEN_REQUEST,
    OpenRequests: OpenRequests(station_id="S01", requests=[OPEN_REQUEST]),
    CertificateStatus: CERTIFICATE,
    RosterEntry: ROSTER_ENTRY,
    Roster: Roster(station_id="S01", on=DAY, expiring_within_days=30, caregivers=[ROSTER_ENTRY]),
    HouseholdEntry: HOUSEHOLD_ENTRY,
    HouseholdsList: HouseholdsList(station_id=None, households=[HOUSEHOLD_ENTRY]),
    NoticeEntry: NOTICE_ENTRY,
    RoundNotices: RoundNotices(
        round="2026-11", notices=[NOTICE_ENTRY], refusals={"AP3": "收入超过标准"}
    ),
}
