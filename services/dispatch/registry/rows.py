"""Read registry files into validated registrations, keeping every bad row's line and reason.

JSON: a list of objects shaped like the RegisterHousehold / RegisterCaregiver payloads.
CSV: one row per household or caregiver with flat columns (see ``csv_columns``); lists are
separated by ``;`` and each elder is ``name|sex|birth_date|self_care``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pydantic

from contracts.dispatch.v1 import RegisterCaregiver, RegisterHousehold
from contracts.envelope import Payload
from services.dispatch.registry.csv_rows import CSV_COLUMNS, CSV_READERS

Kind = Literal["households", "caregivers"]
MODELS: dict[Kind, type[Payload]] = {
    "households": RegisterHousehold,
    "caregivers": RegisterCaregiver,
}


@dataclass(frozen=True)
class GoodRow:
    """A valid row. A re-import sends it again as a new message; dispatch ignores a
    registration identical to the one it holds, so that changes nothing."""

    line: int
    payload: Payload


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


class FileError(ValueError):
    """The file as a whole cannot be read (not a list, not CSV, unknown format)."""


def read_rows(kind: Kind, name: str, text: str) -> tuple[list[GoodRow], list[BadRow]]:
    model = MODELS[kind]
    if name.lower().endswith(".json"):
        items = _json_items(text)
    elif name.lower().endswith(".csv"):
        items = _csv_items(text, CSV_READERS[kind], CSV_COLUMNS[kind])
    else:
        raise FileError(f"{name}: expected a .csv or .json file")
    good: list[GoodRow] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    for line, item in items:
        if isinstance(item, BadRow):
            bad.append(item)
            continue
        try:
            payload = model.model_validate(item)
        except pydantic.ValidationError as exc:
            bad.append(BadRow(line, describe(exc)))
            continue
        key = str(item.get("household_id") or item.get("caregiver_id"))
        if key in seen:
            bad.append(BadRow(line, f"{key} already given on line {seen[key]}"))
            continue
        seen[key] = line
        good.append(GoodRow(line, payload))
    return good, bad


def describe(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(row)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _json_items(text: str) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Each element of the top-level list with the line it starts on."""
    decoder = json.JSONDecoder()
    pos = _skip(text, 0)
    if not text.startswith("[", pos):
        raise FileError("a JSON registry file is a list of objects")
    pos = _skip(text, pos + 1)
    while not text.startswith("]", pos):
        line = text.count("\n", 0, pos) + 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise FileError(f"line {exc.lineno}: not valid JSON ({exc.msg})") from exc
        yield line, item if isinstance(item, dict) else BadRow(line, "expected an object")
        pos = _skip(text, pos)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
        elif not text.startswith("]", pos):
            raise FileError(f"line {text.count(chr(10), 0, pos) + 1}: expected , or ]")


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _csv_items(
    text: str,
    reader: Callable[[dict[str, str]], dict[str, Any]],
    columns: tuple[tuple[str, ...], tuple[str, ...]],
) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    # newline="": the csv module reads line ends itself (a lone \r inside a cell is data)
    rows = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))  # Excel writes a BOM
    try:
        header = [name.strip() for name in rows.fieldnames or ()]
    except csv.Error as exc:
        raise FileError(f"not readable as CSV: {exc}") from None
    required, known = columns
    if missing := [c for c in required if c not in header]:
        raise FileError(f"missing column(s): {', '.join(missing)}")
    if unknown := [c for c in header if c not in known]:
        raise FileError(f"unknown column(s): {', '.join(unknown)} (known: {', '.join(known)})")
    for row in _rows_or_file_error(rows):
        line = rows.line_num
        if None in row:
            yield line, BadRow(line, "more cells than columns")
            continue
        try:
            yield line, reader({k.strip(): (v or "").strip() for k, v in row.items()})
        except ValueError as exc:
            yield line, BadRow(line, str(exc))


def _rows_or_file_error(rows: csv.DictReader[str]) -> Iterator[dict[str, Any]]:
    """The rows; a row the csv module cannot split (a stray quote, a NUL) ends the file with
    a FileError naming its line instead of a crash."""
    try:
        yield from rows
    except csv.Error as exc:
        raise FileError(f"line {rows.line_num}: not readable as CSV: {exc}") from None
