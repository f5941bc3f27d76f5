"""Every subject and stream name of the system, in one place.

Layout: ``homecare.<service>.cmd.<name>.v<N>`` for commands a service accepts,
``homecare.<service>.evt.<name>.v<N>`` for events it emits, ``homecare.carer.<id>.>``
for what each caregiver receives (and ``homecare.carer.<id>.cmd.<name>.v1`` for the
commands their phone sends), ``homecare.dlq.<service>`` for dead letters and
``homecare.rpc.>`` for request/reply (kept out of every stream: a stream would
answer a request with its own publish acknowledgement).
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "homecare"

# dispatch
REGISTER_CAREGIVER = f"{ROOT}.dispatch.cmd.register_caregiver.v1"
REGISTER_HOUSEHOLD = f"{ROOT}.dispatch.cmd.register_household.v1"
REQUEST_CARE = f"{ROOT}.dispatch.cmd.request_care.v1"
CAREGIVER_REGISTERED = f"{ROOT}.dispatch.evt.caregiver_registered.v1"
HOUSEHOLD_REGISTERED = f"{ROOT}.dispatch.evt.household_registered.v1"
CAREGIVER_ASSIGNED = f"{ROOT}.dispatch.evt.caregiver_assigned.v1"
CARE_REQUEST_UNMET = f"{ROOT}.dispatch.evt.care_request_unmet.v1"
CONFIRM_ASSIGNMENT = f"{ROOT}.dispatch.cmd.confirm_assignment.v1"
ASSIGN_STREET = f"{ROOT}.dispatch.cmd.assign_street.v1"
REPLACE_CAREGIVER = f"{ROOT}.dispatch.cmd.replace_caregiver.v1"
REQUEST_SUBSTITUTE = f"{ROOT}.dispatch.cmd.request_substitute.v1"
SHORTLIST_PROPOSED = f"{ROOT}.dispatch.evt.shortlist_proposed.v1"
COMMAND_REJECTED = f"{ROOT}.dispatch.evt.command_rejected.v1"
STREET_ASSIGNED = f"{ROOT}.dispatch.evt.street_assigned.v1"
ASSIGNMENT_ENDED = f"{ROOT}.dispatch.evt.assignment_ended.v1"
SUBSTITUTE_ASSIGNED = f"{ROOT}.dispatch.evt.substitute_assigned.v1"
SUBSTITUTE_UNAVAILABLE = f"{ROOT}.dispatch.evt.substitute_unavailable.v1"

# dispatch: eligibility applications and their approval
SUBMIT_APPLICATION = f"{ROOT}.dispatch.cmd.submit_application.v1"
DECIDE_APPLICATION = f"{ROOT}.dispatch.cmd.decide_application.v1"
OBJECT_TO_NOTICE = f"{ROOT}.dispatch.cmd.object_to_notice.v1"
CLOSE_NOTICES = f"{ROOT}.dispatch.cmd.close_notices.v1"
APPLICATION_ASSESSED = f"{ROOT}.dispatch.evt.application_assessed.v1"
APPLICATION_DECIDED = f"{ROOT}.dispatch.evt.application_decided.v1"
NOTICE_POSTED = f"{ROOT}.dispatch.evt.notice_posted.v1"
NOTICE_OBJECTED = f"{ROOT}.dispatch.evt.notice_objected.v1"
CATEGORY_APPROVED = f"{ROOT}.dispatch.evt.category_approved.v1"

# scheduling
GENERATE_SHIFTS = f"{ROOT}.scheduling.cmd.generate_shifts.v1"
COMPLETE_VISIT = f"{ROOT}.scheduling.cmd.complete_visit.v1"
VISIT_COMPLETED = f"{ROOT}.scheduling.evt.visit_completed.v1"
VISIT_REJECTED = f"{ROOT}.scheduling.evt.visit_rejected.v1"
CHECK_IN = f"{ROOT}.scheduling.cmd.check_in.v1"
CHECK_OUT = f"{ROOT}.scheduling.cmd.check_out.v1"
VISIT_CHECKED_IN = f"{ROOT}.scheduling.evt.visit_checked_in.v1"
VISIT_MISSED = f"{ROOT}.scheduling.evt.visit_missed.v1"
SHIFTS_GENERATED = f"{ROOT}.scheduling.evt.shifts_generated.v1"
CARER_SHIFT_PATTERN = f"{ROOT}.carer.{{caregiver_id}}.shift.v1"
CARER_SHIFT_WILDCARD = f"{ROOT}.carer.*.shift.v1"
CARER_CANCEL_PATTERN = f"{ROOT}.carer.{{caregiver_id}}.cancel.v1"
CARER_REMINDER_PATTERN = f"{ROOT}.carer.{{caregiver_id}}.reminder.v1"
CARER_ALL_PATTERN = f"{ROOT}.carer.{{caregiver_id}}.>"  # everything for one caregiver
# What a caregiver's phone sends, on that caregiver's own subject: NATS lets each caregiver
# publish only under their own id, and scheduling refuses a payload naming anyone else.
CARER_COMMAND_WILDCARD = f"{ROOT}.carer.*.cmd.>"  # every caregiver's commands
CARER_CHECK_IN = f"{ROOT}.carer.*.cmd.check_in.v1"
CARER_CHECK_OUT = f"{ROOT}.carer.*.cmd.check_out.v1"
CARER_COMPLETE_VISIT = f"{ROOT}.carer.*.cmd.complete_visit.v1"
CARER_ACKNOWLEDGE_SHIFT = f"{ROOT}.carer.*.cmd.acknowledge_shift.v1"
CARER_RECORD_DIARY = f"{ROOT}.carer.*.cmd.record_diary.v1"
CARER_RECORD_LEDGER_ENTRY = f"{ROOT}.carer.*.cmd.record_ledger_entry.v1"
CARER_REQUEST_LEAVE = f"{ROOT}.carer.*.cmd.request_leave.v1"
CARER_COMMAND_NAMES = (
    "check_in",
    "check_out",
    "complete_visit",
    "acknowledge_shift",
    "record_diary",
    "record_ledger_entry",
    "request_leave",
)
ACKNOWLEDGE_SHIFT = f"{ROOT}.scheduling.cmd.acknowledge_shift.v1"
REQUEST_LEAVE = f"{ROOT}.scheduling.cmd.request_leave.v1"
DECIDE_LEAVE = f"{ROOT}.scheduling.cmd.decide_leave.v1"
LEAVE_REQUESTED = f"{ROOT}.scheduling.evt.leave_requested.v1"
LEAVE_DECIDED = f"{ROOT}.scheduling.evt.leave_decided.v1"
LEAVE_REJECTED = f"{ROOT}.scheduling.evt.leave_rejected.v1"
RECORD_SATISFACTION = f"{ROOT}.scheduling.cmd.record_satisfaction.v1"
RECORD_COMPLAINT = f"{ROOT}.scheduling.cmd.record_complaint.v1"
APPRAISE_MONTH = f"{ROOT}.scheduling.cmd.appraise_month.v1"
CAREGIVER_APPRAISED = f"{ROOT}.scheduling.evt.caregiver_appraised.v1"
APPRAISAL_BELOW_THRESHOLD = f"{ROOT}.scheduling.evt.appraisal_below_threshold.v1"
QUARTER_REVIEWED = f"{ROOT}.scheduling.evt.quarter_reviewed.v1"
RECORD_DIARY = f"{ROOT}.scheduling.cmd.record_diary.v1"
DIARY_RECORDED = f"{ROOT}.scheduling.evt.diary_recorded.v1"
HEALTH_WARNING = f"{ROOT}.scheduling.evt.health_warning.v1"
RECORD_LEDGER_ENTRY = f"{ROOT}.scheduling.cmd.record_ledger_entry.v1"
LEDGER_ENTRY_RECORDED = f"{ROOT}.scheduling.evt.ledger_entry_recorded.v1"
LEDGER_ENTRY_REJECTED = f"{ROOT}.scheduling.evt.ledger_entry_rejected.v1"
SHIFT_ACKNOWLEDGED = f"{ROOT}.scheduling.evt.shift_acknowledged.v1"
PAUSE_VISITS = f"{ROOT}.scheduling.cmd.pause_visits.v1"
VISITS_PAUSED = f"{ROOT}.scheduling.evt.visits_paused.v1"
SET_HOLIDAY_WINDOW = f"{ROOT}.scheduling.cmd.set_holiday_window.v1"
HOLIDAY_WINDOW_SET = f"{ROOT}.scheduling.evt.holiday_window_set.v1"

# request/reply (core NATS, not stored)
RPC_HEALTH_PATTERN = f"{ROOT}.rpc.health.{{service}}"
RPC_MONTH_SUMMARY = f"{ROOT}.rpc.billing.month_summary.v1"
RPC_BILLING_RUNS = f"{ROOT}.rpc.billing.runs.v1"
RPC_BILLING_DOCUMENT = f"{ROOT}.rpc.billing.document.v1"
RUN_BILLING = f"{ROOT}.billing.cmd.run_billing.v1"
CLOSE_MONTH = f"{ROOT}.billing.cmd.close_month.v1"
BILLING_RUN_STARTED = f"{ROOT}.billing.evt.run_started.v1"
BILLING_RUN_COMPLETED = f"{ROOT}.billing.evt.run_completed.v1"
BILLING_RUN_REJECTED = f"{ROOT}.billing.evt.run_rejected.v1"
MONTH_CLOSED = f"{ROOT}.billing.evt.month_closed.v1"
# Progress of a run: core NATS only (not stored), outside every stream.
BILLING_PROGRESS_PATTERN = f"{ROOT}.progress.billing.{{run_id}}"
RPC_ROUND = f"{ROOT}.rpc.dispatch.round.v1"
RPC_ROUND_NOTICES = f"{ROOT}.rpc.dispatch.round_notices.v1"
RPC_OPEN_REQUESTS = f"{ROOT}.rpc.dispatch.open_requests.v1"
RPC_ROSTER = f"{ROOT}.rpc.dispatch.roster.v1"
RPC_HOUSEHOLDS = f"{ROOT}.rpc.dispatch.households.v1"
RPC_SHIFTS = f"{ROOT}.rpc.scheduling.shifts.v1"
RPC_LEAVE = f"{ROOT}.rpc.scheduling.leave.v1"
RPC_DIARIES = f"{ROOT}.rpc.scheduling.diaries.v1"
RPC_APPRAISALS = f"{ROOT}.rpc.scheduling.appraisals.v1"

# dead letters
DLQ_PATTERN = f"{ROOT}.dlq.{{service}}"

SERVICES = ("dispatch", "scheduling", "billing")


def carer_shift_subject(caregiver_id: str) -> str:
    return CARER_SHIFT_PATTERN.format(caregiver_id=caregiver_id)


def carer_reminder_subject(caregiver_id: str) -> str:
    return CARER_REMINDER_PATTERN.format(caregiver_id=caregiver_id)


def carer_subjects(caregiver_id: str) -> str:
    """Every message for one caregiver (what their phone's consumer filters on)."""
    return CARER_ALL_PATTERN.format(caregiver_id=caregiver_id)


def carer_cancel_subject(caregiver_id: str) -> str:
    return CARER_CANCEL_PATTERN.format(caregiver_id=caregiver_id)


def carer_command_subject(caregiver_id: str, name: str) -> str:
    """Where caregiver ``caregiver_id``'s phone sends command ``name`` (one of
    ``CARER_COMMAND_NAMES``), e.g. ``homecare.carer.C1.cmd.record_diary.v1``."""
    if name not in CARER_COMMAND_NAMES:
        raise ValueError(f"{name!r} is not a caregiver command ({', '.join(CARER_COMMAND_NAMES)})")
    return f"{ROOT}.carer.{caregiver_id}.cmd.{name}.v1"


def carer_of_command(subject: str) -> str | None:
    """The caregiver id in a caregiver command subject, or None if it is not one."""
    parts = subject.split(".")
    if len(parts) == 6 and parts[:2] == [ROOT, "carer"] and parts[3] == "cmd":
        return parts[2]
    return None


def health_subject(service: str) -> str:
    return RPC_HEALTH_PATTERN.format(service=service)


def dlq_subject(service: str) -> str:
    return DLQ_PATTERN.format(service=service)


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str


DISPATCH_STREAM = "HC_DISPATCH"
CARER_STREAM = "HC_CARER"

STREAMS = (
    StreamSpec(DISPATCH_STREAM, (f"{ROOT}.dispatch.>",), "dispatch commands and events"),
    StreamSpec("HC_SCHEDULING", (f"{ROOT}.scheduling.>",), "scheduling commands and events"),
    StreamSpec("HC_BILLING", (f"{ROOT}.billing.>",), "billing events"),
    StreamSpec(
        "HC_CARER", (f"{ROOT}.carer.>",), "messages to each caregiver, kept for offline phones"
    ),
    StreamSpec("HC_DLQ", (f"{ROOT}.dlq.>",), "dead letters with their reasons"),
)


def stream_for(subject: str) -> StreamSpec:
    """The stream that stores ``subject`` (every published subject belongs to exactly one)."""
    for spec in STREAMS:
        prefix = spec.subjects[0].removesuffix(">")
        if subject.startswith(prefix):
            return spec
    raise LookupError(f"no stream stores {subject}")
