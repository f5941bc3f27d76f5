"""Which failures are the message's fault, and the retry back-off for the others."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError, create_model

from services.infra.bus.middleware import retry_delay
from services.infra.bus.poison import PoisonMessage, poison_reason


class Inner(BaseModel):
    day: int


class Msg(BaseModel):
    name: str
    inner: Inner


def _validation_error(data: object, model: type[BaseModel] = Msg) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return info.value


def test_validation_error_lists_each_field() -> None:
    reason = poison_reason(_validation_error({"inner": {"day": "x"}}))
    assert reason is not None
    assert reason.startswith("invalid message: ")
    assert "name: Field required" in reason
    assert "inner.day: Input should be a valid integer" in reason


def test_whole_message_error_has_a_location() -> None:
    reason = poison_reason(_validation_error("not an object"))
    assert reason is not None
    assert reason.startswith("invalid message: (message): ")


def test_more_than_ten_errors_are_summarised() -> None:
    fields = {f"f{i:02d}": (int, ...) for i in range(13)}
    wide = create_model("Wide", **fields)  # type: ignore[call-overload]
    reason = poison_reason(_validation_error({}, wide))
    assert reason is not None
    assert "f09: Field required" in reason
    assert "f10" not in reason
    assert reason.endswith("; and 3 more")


def test_undecodable_body() -> None:
    with pytest.raises(UnicodeDecodeError) as info:
        b"ok\xff".decode()
    assert poison_reason(info.value) == "body is not valid UTF-8 (invalid start byte at byte 2)"


def test_unparseable_json() -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        json.loads('{"a": ')
    assert poison_reason(info.value) == "body is not valid JSON (Expecting value at position 6)"


def test_poison_message_gives_its_own_reason() -> None:
    assert poison_reason(PoisonMessage("household H9 does not exist")) == (
        "household H9 does not exist"
    )


@pytest.mark.parametrize(
    "exc", [RuntimeError("db down"), ConnectionError(), TimeoutError(), KeyError("x")]
)
def test_transient_failures_are_not_poison(exc: Exception) -> None:
    assert poison_reason(exc) is None


@pytest.mark.parametrize(
    ("deliveries", "delay"),
    [(0, 0.5), (1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (6, 16.0), (7, 30.0), (50, 30.0)],
)
def test_retry_delay_backs_off_and_caps(deliveries: int, delay: float) -> None:
    assert retry_delay(deliveries) == delay


@given(st.integers(1, 200))
def test_retry_delay_never_shrinks_and_stays_in_range(deliveries: int) -> None:
    assert 0.5 <= retry_delay(deliveries) <= 30.0
    assert retry_delay(deliveries + 1) >= retry_delay(deliveries)


def test_retry_delay_survives_large_delivery_counts() -> None:
    assert retry_delay(1100) == 30.0
