"""Envelope, shared field types, CompleteVisit ordering and the subject/stream map."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from contracts import subjects
from contracts.dispatch.v1 import RegisterCaregiver, RequestCare
from contracts.envelope import Envelope, envelope_of, headers_for
from contracts.scheduling.v1 import CompleteVisit
from contracts.types import Id, Month, VisitWindow

WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))
REQUEST = RequestCare(request_id="R1", household_id="H0001", start_date=date(2026, 11, 2))


def _wire(env: Envelope, **changes: object) -> dict:
    return {**json.loads(env.to_json()), **changes}


# --- Envelope --------------------------------------------------------------------------------


def test_wrap_takes_type_and_version_from_the_payload_class() -> None:
    env = Envelope.wrap(REQUEST, producer="station", occurred_at=WHEN)
    assert (env.type, env.version) == ("dispatch.RequestCare", 1)
    assert env.payload == REQUEST
    assert env.occurred_at == WHEN


def test_a_new_flow_is_correlated_by_its_own_event_id() -> None:
    env = Envelope.wrap(REQUEST, producer="station")
    assert env.correlation_id == env.event_id
    assert env.causation_id is None
    assert env.occurred_at.tzinfo is not None


def test_wrap_keeps_given_correlation_and_causation() -> None:
    env = Envelope.wrap(
        REQUEST, producer="dispatch", event_id="e2", correlation_id="flow1", causation_id="e1"
    )
    assert (env.event_id, env.correlation_id, env.causation_id) == ("e2", "flow1", "e1")


def test_each_wrap_gets_a_fresh_event_id() -> None:
    ids = {Envelope.wrap(REQUEST, producer="p").event_id for _ in range(20)}
    assert len(ids) == 20


@given(
    occurred_at=st.datetimes(
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5))]
        )
    ),
    caregiver_id=st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True),
    name=st.text(min_size=1, max_size=80),
    capacity=st.integers(1, 8),
    causation=st.none() | st.text(max_size=64),
)
def test_json_round_trip(
    occurred_at: datetime, caregiver_id: str, name: str, capacity: int, causation: str | None
) -> None:
    payload = RegisterCaregiver(
        caregiver_id=caregiver_id, name=name, station_id="S1", street="X", capacity=capacity
    )
    env = Envelope.wrap(payload, producer="p", occurred_at=occurred_at, causation_id=causation)
    back = envelope_of(RegisterCaregiver).model_validate_json(env.to_json())
    assert back == env
    assert back.occurred_at.utcoffset() == occurred_at.utcoffset()


@pytest.mark.parametrize(
    "changes", [{"type": "dispatch.RegisterCaregiver"}, {"version": 2}, {"type": "x.Y"}]
)
def test_unexpected_type_or_version_is_refused(changes: dict) -> None:
    env = Envelope.wrap(REQUEST, producer="p", occurred_at=WHEN)
    with pytest.raises(ValidationError, match="unknown message"):
        envelope_of(RequestCare).model_validate(_wire(env, **changes))


def test_naive_occurred_at_is_refused() -> None:
    env = Envelope.wrap(REQUEST, producer="p", occurred_at=WHEN)
    with pytest.raises(ValidationError, match="timezone"):
        envelope_of(RequestCare).model_validate(_wire(env, occurred_at="2026-11-02T09:30:00"))
    with pytest.raises(ValidationError):
        Envelope.wrap(REQUEST, producer="p", occurred_at=datetime(2026, 11, 2, 9, 30))


def test_extra_fields_are_refused_in_envelope_and_payload() -> None:
    env = Envelope.wrap(REQUEST, producer="p", occurred_at=WHEN)
    cls = envelope_of(RequestCare)
    assert cls.model_validate(_wire(env)) == env  # the unchanged message is accepted
    with pytest.raises(ValidationError, match="priority"):
        cls.model_validate(_wire(env, priority="high"))
    payload = {**json.loads(REQUEST.model_dump_json()), "urgent": True}
    with pytest.raises(ValidationError, match="urgent"):
        cls.model_validate(_wire(env, payload=payload))


def test_headers_carry_dedup_id_and_correlation() -> None:
    env = Envelope.wrap(REQUEST, producer="p", correlation_id="flow7")
    headers = headers_for(env)
    assert headers["Nats-Msg-Id"] == env.event_id
    assert headers["Homecare-Correlation-Id"] == "flow7"
    assert headers["Homecare-Type"] == "dispatch.RequestCare"
    assert headers["Homecare-Version"] == "1"


# --- contracts/types.py ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["C0001", "h-1_x", "A" * 40])
def test_id_accepts_subject_safe_tokens(value: str) -> None:
    assert TypeAdapter(Id).validate_python(value) == value


@pytest.mark.parametrize("value", ["C.1", "C 1", "C*", ">", "C>", "", "A" * 41, "C1\n", "王"])
def test_id_refuses_what_would_break_a_subject(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Id).validate_python(value)


@given(st.text(max_size=45))
def test_any_accepted_id_is_exactly_one_subject_token(value: str) -> None:
    try:
        TypeAdapter(Id).validate_python(value)
    except ValidationError:
        return
    tokens = subjects.carer_shift_subject(value).split(".")
    assert tokens == ["homecare", "carer", value, "shift", "v1"]
    assert not set(value) & {" ", "*", ">", "\t", "\n"}


@pytest.mark.parametrize("value", ["2026-01", "2026-11", "2026-12", "1999-09"])
def test_month_accepts_yyyy_mm(value: str) -> None:
    assert TypeAdapter(Month).validate_python(value) == value


@pytest.mark.parametrize("value", ["2026-13", "2026-00", "2026-1", "26-11", "2026-11-01", "202611"])
def test_month_refuses_other_shapes(value: str) -> None:
    with pytest.raises(ValidationError, match="YYYY-MM"):
        TypeAdapter(Month).validate_python(value)


@pytest.mark.parametrize("value", ["2026-11\n", "２０２６-11"])
def test_month_refuses_trailing_newline_and_non_ascii_digits(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Month).validate_python(value)


def test_visit_window_must_start_before_it_ends() -> None:
    adapter = TypeAdapter(VisitWindow)
    assert adapter.validate_python(("09:00", "11:00")) == (time(9), time(11))
    for bad in [("11:00", "09:00"), ("09:00", "09:00")]:
        with pytest.raises(ValidationError, match="start before it ends"):
            adapter.validate_python(bad)


# --- CompleteVisit ---------------------------------------------------------------------------


def _visit(check_in: datetime, check_out: datetime) -> CompleteVisit:
    return CompleteVisit(
        shift_id="SH-H1-20261102",
        caregiver_id="C1",
        checked_in_at=check_in,
        checked_out_at=check_out,
    )


def test_complete_visit_refuses_check_out_before_check_in() -> None:
    with pytest.raises(ValidationError, match="before checked_in_at"):
        _visit(WHEN, WHEN - timedelta(seconds=1))


def test_complete_visit_accepts_ordered_or_equal_times() -> None:
    assert _visit(WHEN, WHEN + timedelta(hours=1)).checked_out_at > WHEN
    assert _visit(WHEN, WHEN).checked_out_at == WHEN


# --- contracts/subjects.py -------------------------------------------------------------------


def _nats_match(filter_: str, subject: str) -> bool:
    """NATS subject matching, written independently of stream_for."""
    f, s = filter_.split("."), subject.split(".")
    for i, token in enumerate(f):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(f) == len(s)


def _streams_storing(subject: str) -> list[str]:
    return [
        spec.name
        for spec in subjects.STREAMS
        if any(_nats_match(f, subject) for f in spec.subjects)
    ]


def _published_subjects() -> list[str]:
    found = []
    for name, value in vars(subjects).items():
        if name.isupper() and isinstance(value, str) and value.startswith("homecare."):
            found.append(value.format(caregiver_id="C0001", service="dispatch", run_id="R1"))
    return found


def test_subject_constants_are_found() -> None:
    # guards the loop below against silently testing nothing
    assert subjects.REQUEST_CARE in _published_subjects()
    assert len(_published_subjects()) >= 15


@pytest.mark.parametrize("subject", _published_subjects())
def test_every_subject_constant_has_its_place(subject: str) -> None:
    owners = _streams_storing(subject)
    if ".rpc." in subject or ".progress." in subject:  # answers and progress: never stored
        assert owners == []
        with pytest.raises(LookupError):
            subjects.stream_for(subject)
    else:
        assert len(owners) == 1
        assert subjects.stream_for(subject).name == owners[0]


@pytest.mark.parametrize("service", subjects.SERVICES)
def test_rpc_subjects_are_in_no_stream(service: str) -> None:
    for subject in (subjects.health_subject(service), subjects.RPC_MONTH_SUMMARY):
        assert _streams_storing(subject) == []
        with pytest.raises(LookupError):
            subjects.stream_for(subject)


@given(
    second=st.builds(
        str.__add__,
        st.sampled_from(["dispatch", "scheduling", "billing", "carer", "dlq", "rpc", ""]),
        st.sampled_from(["", "", "x", "s", "_v2"]),
    ).filter(bool),
    rest=st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,6}", fullmatch=True), min_size=1, max_size=4),
)
def test_stream_for_agrees_with_nats_matching(second: str, rest: list[str]) -> None:
    subject = ".".join(["homecare", second, *rest])
    owners = _streams_storing(subject)
    assert len(owners) <= 1
    if owners:
        assert subjects.stream_for(subject).name == owners[0]
    else:
        with pytest.raises(LookupError):
            subjects.stream_for(subject)


@pytest.mark.parametrize("subject", ["homecare.dispatcher.x", "homecare.dlqs", "homecare.carer"])
def test_lookalike_subjects_are_in_no_stream(subject: str) -> None:
    with pytest.raises(LookupError):
        subjects.stream_for(subject)


def test_subject_helpers_format() -> None:
    assert subjects.carer_shift_subject("C0007") == "homecare.carer.C0007.shift.v1"
    assert subjects.health_subject("billing") == "homecare.rpc.health.billing"
    assert subjects.dlq_subject("scheduling") == "homecare.dlq.scheduling"
    assert subjects.stream_for(subjects.carer_shift_subject("C0007")).name == "HC_CARER"
    assert subjects.stream_for(subjects.dlq_subject("billing")).name == "HC_DLQ"
