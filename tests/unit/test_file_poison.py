"""Every file the system reads (registry imports, eligibility applications, billing scenarios
and policy files, holiday files), fed hypothesis-made garbage and near-misses: the reader
answers with its own clear error (or, for row files, the rows it keeps and each bad row with
its line and reason), never a crash with some other exception."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.billing.policy_file import read_policy_file
from services.billing.scenario import ScenarioError, read_scenario
from services.dispatch.eligibility.assess_file import DocumentError, assess_document
from services.dispatch.registry.rows import FileError, read_rows
from services.scheduling.holidays import calendar_from_mapping

FAST = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
# near-misses: the right keys with wrong values
HOUSEHOLD_KEYS = [
    "household_id",
    "name",
    "address",
    "station_id",
    "street",
    "category",
    "enrolled_on",
    "visit_window",
    "latitude",
    "longitude",
]
CSV_CELLS = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"'

    return "\n".join(",".join(quote(c) for c in line) for line in [header, *rows])


@FAST
@given(
    kind=st.sampled_from(["households", "caregivers"]),
    name=st.sampled_from(["x.csv", "x.json", "x.txt"]),
    text=st.text(max_size=300) | JSON_LIKE.map(json.dumps),
)
def test_registry_files_keep_good_rows_and_name_bad_ones(kind: Any, name: str, text: str) -> None:
    try:
        good, bad = read_rows(kind, name, text)
    except FileError as exc:
        assert str(exc)
        return
    assert all(row.line >= 1 and row.reason for row in bad)
    assert all(row.line >= 1 for row in good)


@FAST
@given(
    rows=st.lists(
        st.lists(CSV_CELLS, min_size=len(HOUSEHOLD_KEYS), max_size=len(HOUSEHOLD_KEYS)), max_size=5
    )
)
def test_household_csv_with_the_right_columns_and_wrong_values(rows: list[list[str]]) -> None:
    try:
        good, bad = read_rows("households", "h.csv", csv_text(HOUSEHOLD_KEYS, rows))
    except FileError as exc:
        assert str(exc)
        return
    assert len(good) + len(bad) == len(rows)
    assert all(row.reason for row in bad)


@FAST
@given(document=st.text(max_size=200) | JSON_LIKE.map(json.dumps))
def test_eligibility_documents(document: str) -> None:
    try:
        results = assess_document(document)
    except DocumentError as exc:
        assert str(exc)
        return
    assert all(isinstance(entry, dict) and entry for entry in results)


@FAST
@given(text=st.binary(max_size=200) | JSON_LIKE.map(lambda v: json.dumps(v).encode()))
def test_billing_scenarios(text: bytes) -> None:
    try:
        read_scenario(text)
    except ScenarioError as exc:
        assert str(exc)


@FAST
@given(text=st.binary(max_size=200) | JSON_LIKE.map(lambda v: yaml.safe_dump(v).encode()))
def test_billing_policy_files(text: bytes) -> None:
    try:
        read_policy_file(text)
    except ScenarioError as exc:  # PolicyFileError is one
        assert str(exc)


@FAST
@given(data=JSON_LIKE | st.fixed_dictionaries({"holidays": JSON_LIKE, "workdays": JSON_LIKE}))
def test_holiday_files(data: Any) -> None:
    try:
        calendar_from_mapping(data)
    except ValueError as exc:
        assert str(exc)
