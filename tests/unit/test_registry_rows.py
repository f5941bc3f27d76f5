"""Registry files: good rows kept, each bad row reported with its line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.dispatch.v1 import RegisterCaregiver, RegisterHousehold
from services.dispatch.registry.rows import FileError, read_rows

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def read(kind: str, name: str) -> tuple[list, list]:  # type: ignore[type-arg]
    return read_rows(kind, name, (EXAMPLES / name).read_text(encoding="utf-8"))  # type: ignore[arg-type]


def test_household_csv_keeps_good_rows_and_names_bad_lines() -> None:
    good, bad = read("households", "households.csv")
    assert [g.line for g in good] == [2, 3]
    first = good[0].payload
    assert isinstance(first, RegisterHousehold)
    assert first.elders[0].self_care == "unable" and first.needs == {"bedridden_care"}
    assert first.preferences.sex_strict and first.emergency_card is not None
    assert len(good[1].payload.elders) == 2  # type: ignore[attr-defined]
    assert [(b.line, b.reason.split(":")[0]) for b in bad] == [(4, "category"), (5, "visit_window")]


def test_caregiver_csv_reads_certificates_and_refuses_a_bad_flag() -> None:
    good, bad = read("caregivers", "caregivers.csv")
    assert [g.line for g in good] == [2, 3]
    c = good[0].payload
    assert isinstance(c, RegisterCaregiver)
    assert {cert.module for cert in c.certificates} == {"daily_care", "common_illness", "first_aid"}
    assert c.dialects == {"大连话", "山东话"} and c.appraisal_score == 92
    assert bad[0].line == 4 and "active: not a yes/no value" in bad[0].reason


def test_json_rows_carry_their_starting_line() -> None:
    good, bad = read("households", "households.json")
    assert [g.line for g in good] == [2]
    assert bad[0].line == 10 and bad[0].reason.startswith("name:")


def test_same_file_reads_the_same_registrations_in_any_process() -> None:
    """Sets serialise sorted, so the registration dispatch compares is the same JSON
    whatever the process's hash seed (a re-import must change nothing)."""
    first, _ = read("caregivers", "caregivers.csv")
    dumped = first[0].payload.model_dump(mode="json")
    assert dumped["dialects"] == sorted(dumped["dialects"]) == ["大连话", "山东话"]


def test_duplicate_ids_in_one_file_are_rejected() -> None:
    text = (EXAMPLES / "caregivers.csv").read_text(encoding="utf-8").splitlines()
    doubled = "\n".join([*text[:2], text[1]])
    good, bad = read_rows("caregivers", "c.csv", doubled)
    assert len(good) == 1 and bad[0].reason == "C9001 already given on line 2"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("h.csv", "household_id,name\nH1,x\n", "missing column(s): address"),
        ("c.csv", "caregiver_id,name,station_id,street,colour\n", "unknown column(s): colour"),
        ("h.json", '{"household_id": "H1"}', "a list of objects"),
        ("h.json", '[{"household_id": "H1"} {"x": 1}]', "expected , or ]"),
        ("h.txt", "", "expected a .csv or .json file"),
    ],
)
def test_unreadable_files_are_refused_as_a_whole(name: str, text: str, message: str) -> None:
    kind = "caregivers" if name.startswith("c") else "households"
    with pytest.raises(FileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_rows(kind, name, text)  # type: ignore[arg-type]


def test_excel_bom_is_ignored() -> None:
    text = "\ufeff" + (EXAMPLES / "caregivers.csv").read_text(encoding="utf-8")
    good, _ = read_rows("caregivers", "c.csv", text)
    assert len(good) == 2
