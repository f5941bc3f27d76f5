"""Personal data out of the logs: a structlog processor that masks identity numbers, phone numbers
and addresses in every event before it is rendered (issue 7, item 5).

Two rules, applied to every value of the event dict, recursively through dicts, lists and tuples:

* **By key.** A value whose key names personal data is masked whole, keeping a hint:
  phones (``phone``, ``mobile``, ``tel``, ``contact_phone``, ...) and identity numbers
  (``id_number``, ``identity_number``, ``id_card``, ...) keep their last 4 digits
  (``***5678``); addresses (``address``, ``addr``, ``home_address``, ...) keep the district-level
  prefix up to the first 区/县/市 (``辽宁省大连市***``, ``沙河口区***``), or else at most 6 leading
  characters before any digit, then ``***``. A key matches when it equals one of the names or
  ends with ``_`` + one (``family_doctor_phone``), or holds 电话/手机/身份证/地址/住址.
* **In free text.** In any string (the message itself, stdlib records' formatted messages,
  context values): resident identity numbers, 18 characters (6 region digits, a birth date
  18xx/19xx/20xx, 3 digits, a check digit or X) or the old 15 digits (6 + YYMMDD + 3), become
  first 4 + asterisks + last 2 (``2102************3X``); mobile numbers ``1[3-9]`` + 9 digits,
  optionally with ``+86``/``0086``/``86`` and spaces or dashes, become first 3 + ``****`` +
  last 4 (``+86 138****5678``); landlines written with a separator (``0411-84567890``,
  ``010 12345678``) keep the area code and last 4 (``0411-****7890``).

A number is only taken for one of these when no ASCII letter or digit touches it, and the
identity pattern needs a plausible birth date, so hex and uuid event ids, ``H0001``, money
(``1500.00``), dates (``2026-11-01``), epoch milliseconds and 18-19 digit snowflake ids are left
alone. Addresses are not recognised inside free text (no reliable pattern): only by key.
Non-string leaves (numbers, ``LogRecord`` objects, models) pass through untouched, except a
number under a phone or identity key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from structlog.typing import EventDict, WrappedLogger

Kind = Literal["phone", "id", "address"]

_KEY_NAMES: dict[str, Kind] = {
    "phone": "phone",
    "phone_number": "phone",
    "phone_no": "phone",
    "mobile": "phone",
    "mobile_number": "phone",
    "mobile_phone": "phone",
    "cellphone": "phone",
    "tel": "phone",
    "telephone": "phone",
    "contact_phone": "phone",
    "id_number": "id",
    "identity_number": "id",
    "id_card": "id",
    "idcard": "id",
    "id_card_number": "id",
    "id_card_no": "id",
    "id_no": "id",
    "identity_card": "id",
    "resident_id": "id",
    "address": "address",
    "addr": "address",
    "home_address": "address",
}
_KEY_WORDS: tuple[tuple[str, Kind], ...] = (
    ("身份证", "id"),
    ("电话", "phone"),
    ("手机", "phone"),
    ("地址", "address"),
    ("住址", "address"),
)

# No ASCII letter or digit may touch a number for it to count (nor, for the phone forms, a
# decimal point): that keeps hex ids, uuids, amounts and dates out.
_B = r"(?<![0-9A-Za-z])"
_E = r"(?![0-9A-Za-z])"
_DATE8 = r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_DATE6 = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID_RE = re.compile(rf"{_B}(?:\d{{6}}{_DATE8}\d{{3}}[0-9Xx]|\d{{6}}{_DATE6}\d{{3}}){_E}")
_MOBILE_RE = re.compile(
    r"(?<![0-9A-Za-z.])"
    r"(?P<prefix>(?:\+|00)?86[ \-]?)?"
    r"(?P<number>1[3-9]\d[ \-]?\d{4}[ \-]?\d{4})"
    r"(?![0-9A-Za-z]|[.\-]\d)"
)
_LANDLINE_RE = re.compile(
    r"(?<![0-9A-Za-z.])"
    r"(?P<area>\(?0\d{2,3}\)?)(?P<sep>[ \-]|(?<=\)))"
    r"(?P<number>\d{7,8})"
    r"(?![0-9A-Za-z]|[.\-]\d)"
)
_ADDRESS_PREFIX_RE = re.compile(r"^[^\d]{1,20}?(?<![小社园校])[区县](?!域)|^[^\d]{1,20}?市(?!场)")
_LEADING_TEXT_RE = re.compile(r"^[^\d]*")


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _mask_id_match(m: re.Match[str]) -> str:
    s = m.group(0)
    return s[:4] + "*" * (len(s) - 6) + s[-2:]


def _mask_mobile_match(m: re.Match[str]) -> str:
    d = _digits(m.group("number"))
    return (m.group("prefix") or "") + d[:3] + "****" + d[-4:]


def _mask_landline_match(m: re.Match[str]) -> str:
    return m.group("area") + m.group("sep") + "****" + m.group("number")[-4:]


def mask_text(text: str) -> str:
    """Identity, mobile and landline numbers in ``text`` masked; the rest unchanged."""
    if not any(c.isdigit() for c in text):  # every pattern needs digits: the common case is free
        return text
    text = _ID_RE.sub(_mask_id_match, text)
    text = _MOBILE_RE.sub(_mask_mobile_match, text)
    return _LANDLINE_RE.sub(_mask_landline_match, text)


def key_kind(key: object) -> Kind | None:
    """Which personal field a key names, if any (``contact_phone`` → phone)."""
    if not isinstance(key, str):
        return None
    k = key.strip().lower().replace("-", "_")
    if k in _KEY_NAMES:
        return _KEY_NAMES[k]
    for name, kind in _KEY_NAMES.items():
        if k.endswith("_" + name):
            return kind
    for word, kind in _KEY_WORDS:
        if word in k:
            return kind
    return None


def mask_address(value: str) -> str:
    """The district-level prefix (up to the first 区/县, else 市), else at most 6 leading
    characters before any digit, then ``***``."""
    value = value.strip()
    m = _ADDRESS_PREFIX_RE.match(value)
    if m:
        return m.group(0) + "***"
    lead = _LEADING_TEXT_RE.match(value)
    head = lead.group(0) if lead else ""
    return head[: min(6, len(value) // 2)] + "***"


def _mask_number_hint(value: str) -> str:
    """``***`` + the last 4 digits (or X) when there are enough of them to stay anonymous."""
    chars = [c for c in value if c.isdigit() or c in "Xx"]
    return "***" + "".join(chars[-4:]) if len(chars) >= 7 else "***"


def mask_keyed(kind: Kind, value: Any) -> Any:
    """A value under a personal-data key, masked whole (lists element by element)."""
    if isinstance(value, str):
        if not value:
            return value
        return mask_address(value) if kind == "address" else _mask_number_hint(value)
    if isinstance(value, int) and not isinstance(value, bool) and kind != "address":
        return _mask_number_hint(str(value))
    if isinstance(value, list | tuple):
        return type(value)(mask_keyed(kind, v) for v in value)
    return mask_value(value)


def mask_value(value: Any) -> Any:
    """Strings masked as free text; dicts, lists and tuples rebuilt with their contents masked
    (keys naming personal data mask their whole value); anything else returned as it is."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {
            (mask_text(k) if isinstance(k, str) else k): _mask_item(k, v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, tuple):
        masked = [mask_value(v) for v in value]
        return type(value)(*masked) if hasattr(value, "_fields") else tuple(masked)
    return value


def _mask_item(key: object, value: Any) -> Any:
    kind = key_kind(key)
    return mask_keyed(kind, value) if kind else mask_value(value)


# Structlog/stdlib bookkeeping that must reach the formatter as it is.
_SKIP_KEYS = frozenset({"_record", "_from_structlog", "exc_info", "stack_info"})


def mask_personal_data(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: every value of the event masked (see the module docstring)."""
    for key, value in event_dict.items():
        if key in _SKIP_KEYS:
            continue
        masked = _mask_item(key, value)
        if masked is not value:
            event_dict[key] = masked
    return event_dict


def mask_exception_text(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor for after ``format_exc_info``: free-text masking of the rendered
    traceback and stack (an exception message may quote a phone or identity number)."""
    for key in ("exception", "stack"):
        text = event_dict.get(key)
        if isinstance(text, str):
            event_dict[key] = mask_text(text)
    return event_dict
