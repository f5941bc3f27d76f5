"""Personal data masked in logs: the masking functions, and the processor in configure_logging's
shared chain (structlog events and stdlib records such as FastStream's alike)."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any, NamedTuple

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from services.infra.logging import configure_logging, get_logger
from services.infra.masking import (
    key_kind,
    mask_address,
    mask_keyed,
    mask_personal_data,
    mask_text,
    mask_value,
)

# --- identity numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("210202199001011234", "2102************34"),
        ("21020219900101123X", "2102************3X"),
        ("21020219900101123x", "2102************3x"),
        ("110105200012310017", "1101************17"),
        ("210202900101123", "2102*********23"),  # the old 15-digit form
    ],
)
def test_identity_numbers_keep_first_4_and_last_2(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked
    assert mask_text(f"身份证号{raw}，已核验") == f"身份证号{masked}，已核验"
    assert mask_text(f"id_number={raw} ok") == f"id_number={masked} ok"


# --- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("19987654321", "199****4321"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("+86-138-1234-5678", "+86-138****5678"),
        ("86 13812345678", "86 138****5678"),
        ("008613812345678", "0086138****5678"),
        ("0411-84567890", "0411-****7890"),
        ("010 12345678", "010 ****5678"),
        ("(0411)84567890", "(0411)****7890"),
    ],
)
def test_phone_numbers_keep_first_3_and_last_4(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked
    assert mask_text(f"联系电话：{raw}。") == f"联系电话：{masked}。"
    assert mask_text(f"call {raw} now") == f"call {masked} now"


@pytest.mark.parametrize(
    "text",
    [
        "1500.00",
        "amount 13812345678.00 yuan",  # a decimal, not a phone
        "2026-11-01",
        "2026-11-01T09:00:00+08:00",
        "H0001",
        "household H0001 has 3 visits, 42 hours",
        "12345678901",  # 11 digits that do not start 13-19
        "1700000000000",  # epoch milliseconds
        "1234567890123456789",  # a 19-digit snowflake id
        "123456789012345678",  # 18 digits without a plausible birth date
        "0123456789abcdef0123456789abcdef",
        "event 13812345678abcdef0123456789abcd",  # hex touching the digits
        "x13812345678",
        str(uuid.UUID(int=13812345678)),
        "v1.2.3 port 4222 pid 13812",
        "dalian 121.6, 38.9",
    ],
)
def test_numbers_that_are_not_personal_data_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_random_event_ids_are_left_alone() -> None:
    for _ in range(200):
        eid = uuid.uuid4()
        assert mask_text(eid.hex) == eid.hex
        assert mask_text(str(eid)) == str(eid)


def test_several_numbers_in_one_string() -> None:
    text = "王秀兰 身份证21020219900101123X 手机13812345678 家里0411-84567890"
    assert mask_text(text) == "王秀兰 身份证2102************3X 手机138****5678 家里0411-****7890"


# --- by key -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("phone", "phone"),
        ("contact_phone", "phone"),
        ("family_doctor_phone", "phone"),
        ("mobile", "phone"),
        ("Mobile-Number", "phone"),
        ("tel", "phone"),
        ("id_number", "id"),
        ("identity_number", "id"),
        ("id_card", "id"),
        ("elder_id_number", "id"),
        ("address", "address"),
        ("home_address", "address"),
        ("联系电话", "phone"),
        ("身份证号", "id"),
        ("地址", "address"),
        ("household_id", None),
        ("event_id", None),
        ("hotel", None),
        ("telemetry", None),
        ("street", None),
        ("name", None),
        (3, None),
    ],
)
def test_key_kind(key: object, kind: str | None) -> None:
    assert key_kind(key) == kind


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("辽宁省大连市沙河口区中山路100号3单元", "辽宁省大连市沙河口区***"),
        ("大连市中山区人民路5号", "大连市中山区***"),
        ("长海县大长山岛镇", "长海县***"),
        ("瓦房店市复州城镇东街2号", "瓦房店市***"),
        ("中山路5号小区3栋", "中山路***"),  # 小区 is not a district; digits are never kept
        ("人民路花园社区东门口", "人民路花园***"),
        ("北京", "北***"),
        ("12 Main Street", "***"),
    ],
)
def test_addresses_keep_the_district_prefix(address: str, masked: str) -> None:
    assert mask_address(address) == masked
    assert mask_keyed("address", address) == masked


def test_keyed_numbers_keep_the_last_4() -> None:
    assert mask_keyed("phone", "0411-84567890") == "***7890"
    assert mask_keyed("phone", "13812345678") == "***5678"
    assert mask_keyed("phone", 13812345678) == "***5678"
    assert mask_keyed("phone", "120") == "***"  # too short for a hint
    assert mask_keyed("phone", "") == ""
    assert mask_keyed("id", "21020219900101123X") == "***123X"
    assert mask_keyed("id", ["21020219900101123X", "210202900101123"]) == ["***123X", "***1123"]


def test_nested_structures_are_masked_and_not_mutated() -> None:
    class Pair(NamedTuple):
        who: str
        phone: str

    payload: dict[str, Any] = {
        "household_id": "H0001",
        "name": "李家",
        "address": "大连市中山区人民路5号",
        "family_doctor": {"name": "张医生", "phone": "0411-84567890", "hospital": "市中心医院"},
        "emergency_card": {"contact_name": "李明", "contact_phone": "+86 138 1234 5678"},
        "elders": [{"name": "王秀兰", "birth_date": "1940-02-03", "note": "ID 21020219400203123X"}],
        "pair": Pair("李明", "13812345678"),
        "tuple": ("x", "13912345678", 1500.0, None, True),
        "by_phone": {"13812345678": 2},
        "money": "1500.00",
    }
    original = json.dumps(payload, ensure_ascii=False, default=str)
    masked = mask_value(payload)
    assert json.dumps(payload, ensure_ascii=False, default=str) == original
    assert masked == {
        "household_id": "H0001",
        "name": "李家",
        "address": "大连市中山区***",
        "family_doctor": {"name": "张医生", "phone": "***7890", "hospital": "市中心医院"},
        "emergency_card": {"contact_name": "李明", "contact_phone": "***5678"},
        "elders": [{"name": "王秀兰", "birth_date": "1940-02-03", "note": "ID 2102************3X"}],
        "pair": ("李明", "138****5678"),
        "tuple": ("x", "139****5678", 1500.0, None, True),
        "by_phone": {"138****5678": 2},
        "money": "1500.00",
    }
    assert isinstance(masked["pair"], Pair)


def test_processor_masks_every_value_and_keeps_bookkeeping() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    event = {
        "event": "assigned, call 13812345678",
        "phone": "13912345678",
        "count": 3,
        "_record": record,
        "exc_info": True,
    }
    out = mask_personal_data(None, "info", event)
    assert out["event"] == "assigned, call 138****5678"
    assert out["phone"] == "***5678"
    assert out["count"] == 3
    assert out["_record"] is record
    assert out["exc_info"] is True


# --- property -----------------------------------------------------------------------------


@st.composite
def identity_numbers(draw: st.DrawFn) -> str:
    region = draw(st.text("0123456789", min_size=6, max_size=6))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    if draw(st.booleans()):  # the old 15-digit form: YYMMDD, no check digit
        return (
            region + born.strftime("%y%m%d") + draw(st.text("0123456789", min_size=3, max_size=3))
        )
    return (
        region
        + born.strftime("%Y%m%d")
        + draw(st.text("0123456789", min_size=3, max_size=3))
        + draw(st.sampled_from("0123456789Xx"))
    )


# Anything but an ASCII letter or digit may touch the number (the documented boundary rule).
_SEPARATORS = st.sampled_from([" ", "=", ":", "：", "，", "号", "身份证", "\n", '"', "(", "-", "/"])


@given(
    identity_numbers(),
    st.text(max_size=40),
    _SEPARATORS,
    _SEPARATORS,
    st.text(max_size=40),
)
def test_an_identity_number_in_random_text_never_survives(
    raw: str, before: str, left: str, right: str, after: str
) -> None:
    masked = mask_text(before + left + raw + right + after)
    assert raw not in masked
    assert raw[:4] + "*" * (len(raw) - 6) + raw[-2:] in masked


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
def test_dates_and_amounts_survive(day: date) -> None:
    for text in (day.isoformat(), f"{day:%Y%m%d}", f"{(day - timedelta(days=1)):%Y/%m/%d} 1500.00"):
        assert mask_text(text) == text


# --- through configure_logging ------------------------------------------------------------


@contextmanager
def restored_logging() -> Iterator[None]:
    """Put back root handlers, levels and structlog's config afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {n: logging.getLogger(n).level for n in ("faststream", "nats")}
    config = structlog.get_config()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, lvl in quiet.items():
            logging.getLogger(name).setLevel(lvl)
        structlog.configure(**config)


def test_configured_logging_masks_structlog_and_stdlib_records() -> None:
    phone, ident = "13812345678", "21020219900101123X"
    out = io.StringIO()
    with restored_logging():
        configure_logging("INFO", "json", stream=out)
        with structlog.contextvars.bound_contextvars(caller=f"tel {phone}"):
            get_logger("homecare.test.masking").info(
                f"registered elder {ident}",
                household={"address": "大连市中山区人民路5号", "contact_phone": phone},
                amount="1500.00",
            )
        logging.getLogger("faststream.x").warning(
            "handler failed for %s, id %s", phone, ident, extra={"mobile": phone}
        )
        try:
            raise ValueError(f"bad id {ident}")
        except ValueError:
            logging.getLogger("homecare.test.masking").exception("failed")
    text = out.getvalue()
    assert phone not in text and ident not in text and "人民路" not in text
    first, second, third = (json.loads(line) for line in text.splitlines())
    assert first["event"] == "registered elder 2102************3X"
    assert first["caller"] == "tel 138****5678"
    assert first["household"] == {"address": "大连市中山区***", "contact_phone": "***5678"}
    assert first["amount"] == "1500.00"
    assert second["logger"] == "faststream.x"
    assert second["event"] == "handler failed for 138****5678, id 2102************3X"
    assert second["mobile"] == "***5678"
    assert "bad id 2102************3X" in third["exception"]
