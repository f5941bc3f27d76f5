"""Dispatch composition root: the one place its store, handlers and subscribers are wired."""

from __future__ import annotations

from dataclasses import fields, replace
from functools import partial
from pathlib import Path
from typing import Any

from contracts import subjects as s
from contracts.dispatch import eligibility_v1 as e
from contracts.dispatch import queries_v1 as q
from contracts.dispatch import v1 as d
from contracts.envelope import Envelope, Payload
from contracts.scheduling.appraisal_v1 import CaregiverAppraised
from services.dispatch import approval, assigning, queries, registering, replacing, requesting
from services.dispatch.matching import Weights
from services.dispatch.store import metadata, plumbing
from services.infra.clock import Clock
from services.infra.runtime import Service
from services.infra.settings import Settings

NAME = "dispatch"

# (subject, payload, use case, consumer name, description)
COMMANDS: tuple[tuple[str, type[Payload], Any, str, str], ...] = (
    (
        s.REGISTER_CAREGIVER,
        d.RegisterCaregiver,
        registering.register_caregiver,
        "register_caregiver",
        "Add or update a caregiver",
    ),
    (
        s.REGISTER_HOUSEHOLD,
        d.RegisterHousehold,
        registering.register_household,
        "register_household",
        "Add or update a household",
    ),
    (
        s.CAREGIVER_APPRAISED,
        CaregiverAppraised,
        registering.record_appraisal,
        "on_caregiver_appraised",
        "Keep each caregiver's latest monthly appraisal for matching",
    ),
    (
        s.REQUEST_CARE,
        d.RequestCare,
        requesting.request_care,
        "request_care",
        "Assign a caregiver, propose a ranked shortlist, or queue for batch",
    ),
    (
        s.CONFIRM_ASSIGNMENT,
        d.ConfirmAssignment,
        assigning.confirm_assignment,
        "confirm_assignment",
        "The station manager confirms or overrides (with a reason)",
    ),
    (
        s.ASSIGN_STREET,
        d.AssignStreet,
        assigning.assign_street,
        "assign_street",
        "Assign all open requests of a street at optimal total cost",
    ),
    (
        s.REPLACE_CAREGIVER,
        d.ReplaceCaregiver,
        replacing.replace_caregiver,
        "replace_caregiver",
        "An elder asks for a different caregiver",
    ),
    (
        s.REQUEST_SUBSTITUTE,
        d.RequestSubstitute,
        replacing.request_substitute,
        "request_substitute",
        "Cover a household while its caregiver is on leave",
    ),
    (
        s.SUBMIT_APPLICATION,
        e.SubmitApplication,
        approval.submit_application,
        "submit_application",
        "Assess an eligibility application for its round",
    ),
    (
        s.DECIDE_APPLICATION,
        e.DecideApplication,
        approval.decide_application,
        "decide_application",
        "The district officer approves or refuses an application",
    ),
    (
        s.OBJECT_TO_NOTICE,
        e.ObjectToNotice,
        approval.object_to_notice,
        "object_to_notice",
        "An objection to a public notice",
    ),
    (
        s.CLOSE_NOTICES,
        e.CloseNotices,
        approval.close_notices,
        "close_notices",
        "Confirm notices whose three days passed without objection",
    ),
)

EVENTS: tuple[tuple[str, type[Payload], str], ...] = (
    (s.CAREGIVER_REGISTERED, d.CaregiverRegistered, "A caregiver was registered or changed"),
    (s.HOUSEHOLD_REGISTERED, d.HouseholdRegistered, "A household was registered or changed"),
    (s.CAREGIVER_ASSIGNED, d.CaregiverAssigned, "A caregiver serves a household"),
    (s.CARE_REQUEST_UNMET, d.CareRequestUnmet, "A care request could not be met, and why"),
    (s.COMMAND_REJECTED, d.CommandRejected, "A command that could not be applied, and why"),
    (s.SHORTLIST_PROPOSED, d.ShortlistProposed, "Ranked caregivers with the reason of each score"),
    (s.STREET_ASSIGNED, d.StreetAssigned, "A street's batch assignment is done"),
    (s.ASSIGNMENT_ENDED, d.AssignmentEnded, "An assignment ended (replacement)"),
    (s.SUBSTITUTE_ASSIGNED, d.SubstituteAssigned, "A substitute covers a caregiver's leave"),
    (s.SUBSTITUTE_UNAVAILABLE, d.SubstituteUnavailable, "No substitute could be found"),
    (s.APPLICATION_ASSESSED, e.ApplicationAssessed, "An application's assessed category"),
    (s.APPLICATION_DECIDED, e.ApplicationDecided, "The district officer's decision"),
    (s.NOTICE_POSTED, e.NoticePosted, "A 3-day public notice (B2 own-child caregiver)"),
    (s.NOTICE_OBJECTED, e.NoticeObjected, "An objection sent an application back"),
    (s.CATEGORY_APPROVED, e.CategoryApproved, "A household's category from a date"),
)


# Use cases that also take several messages at once (one transaction, a few queries for all).
MANY: dict[str, Any] = {"request_care": requesting.request_care_many}
# Use cases that score caregivers: they get the configured weights.
SCORING = ("request_care", "assign_street", "replace_caregiver", "request_substitute")


def matching_weights(settings: Settings) -> Weights:
    """The defaults with the settings' overrides; a wrong name or value stops the start."""
    known = {f.name for f in fields(Weights)}
    unknown = sorted(set(settings.matching_weights) - known)
    if unknown:
        raise ValueError(
            f"HOMECARE_MATCHING_WEIGHTS: unknown weight(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    try:
        return replace(Weights(), **settings.matching_weights)
    except ValueError as exc:
        raise ValueError(f"HOMECARE_MATCHING_WEIGHTS: {exc}") from exc


def build(settings: Settings, clock: Clock) -> Service:
    svc = Service(NAME, settings, clock, metadata, plumbing, Path(__file__).parent / "migrations")
    weights = matching_weights(settings)
    for subject, payload, use_case, consumer, description in COMMANDS:
        one, many = use_case, MANY.get(consumer)
        if consumer in SCORING:
            one = partial(use_case, weights=weights)
            many = partial(many, weights=weights) if many else None
        svc.consume(
            subject,
            payload,
            svc.once(consumer, one, many),
            durable=consumer,
            description=description,
        )
    for event_subject, event, summary in EVENTS:
        svc.emits(event_subject, event, summary)

    async def round_query(message: Envelope[Any]) -> e.RoundApplications:
        return await approval.round_applications(svc.store, message.payload.round)

    svc.rpc(
        s.RPC_ROUND,
        e.RoundQuery,
        e.RoundApplications,
        round_query,
        "The applications of a monthly round, for the district officer",
    )

    async def round_notices(message: Envelope[Any]) -> q.RoundNotices:
        return await queries.round_notices(svc.store, message.payload)

    svc.rpc(
        s.RPC_ROUND_NOTICES,
        q.RoundNoticesQuery,
        q.RoundNotices,
        round_notices,
        "A round's public notices with their objections, and its refusals' reasons",
    )

    async def open_requests(message: Envelope[Any]) -> q.OpenRequests:
        return await queries.open_requests(svc.store, message.payload)

    async def roster(message: Envelope[Any]) -> q.Roster:
        return await queries.roster(svc.store, message.payload)

    async def households(message: Envelope[Any]) -> q.HouseholdsList:
        return await queries.households_list(svc.store, message.payload)

    svc.rpc(
        s.RPC_OPEN_REQUESTS,
        q.OpenRequestsQuery,
        q.OpenRequests,
        open_requests,
        "Open care requests with their ranked shortlists and score reasons, for the console",
    )
    svc.rpc(
        s.RPC_ROSTER,
        q.RosterQuery,
        q.Roster,
        roster,
        "Caregivers with load and certificates (expiring ones flagged), for the console",
    )
    svc.rpc(
        s.RPC_HOUSEHOLDS,
        q.HouseholdsQuery,
        q.HouseholdsList,
        households,
        "Households with category, current caregiver and visit window, for the console",
    )
    return svc
