"""`homecare billing compute FILE`: a scenario file in, the §7 billing result JSON out; a
malformed scenario is refused with exit 2 and the path of the bad field."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from contracts.billing.scenario_v1 import BillingResultV1
from services.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "billing-scenario.json"
HOMECARE = str(Path(sys.executable).parent / "homecare")
runner = CliRunner()

# examples/billing-scenario.json, November 2026 (30 days), the default policy written out:
# H1: B from 1 Nov, not enrolled from the 20th. C1 visits 1-19 Nov except 10-12, when C2
#     substitutes (3 days); C1 also comes on the 20th (not billed: a warning).
#     served 19: charge 1500 × 19/30 = 950.00; subsidy 200 × 19/30 = 126.666… -> 126.67;
#     family 823.33. Weights C1 16, C2 3.
#     government 12667 fen: C1 × 16/19 = 10666.947 (rest .947), C2 × 3/19 = 2000.053 (.053)
#       -> the fen to C1: C1 106.67, C2 20.00
#     family 82333 fen: C1 × 16/19 = 69333.053 (.053), C2 × 3/19 = 12999.947 (.947)
#       -> the fen to C2: C1 693.33, C2 130.00
# H2: C from 1 Oct, A from 16 Nov; C3 visits every day, C2 also on 30 Nov (k = 2 that day);
#     C3 on 1 Dec is outside the month (a warning).
#     served 30: charge 1500.00; subsidy (15 × 100 + 15 × 300)/30 = 200.00; family 1300.00.
#     Weights C3 29½, C2 ½.
#     government 20000 fen: C3 19666.667 (.667), C2 333.333 (.333) -> C3 196.67, C2 3.33
#     family 130000 fen: C3 127833.333 (.333), C2 2166.667 (.667) -> C3 1278.33, C2 21.67
# H9 is not listed: its visit is a warning.
# Payroll: C1 16 days 106.67 + 693.33 = 800.00
#          C2 3½ days (20.00 + 3.33) + (130.00 + 21.67) = 23.33 + 151.67 = 175.00
#          C3 29½ days 196.67 + 1278.33 = 1475.00
EXPECTED = {
    "month": "2026-11",
    "households": [
        {
            "household_id": "H1",
            "served_days": 19,
            "charge": "950.00",
            "subsidy": "126.67",
            "family_share": "823.33",
        },
        {
            "household_id": "H2",
            "served_days": 30,
            "charge": "1500.00",
            "subsidy": "200.00",
            "family_share": "1300.00",
        },
    ],
    "caregivers": [
        {
            "caregiver_id": "C1",
            "days": "16.00",
            "pay": "800.00",
            "government_part": "106.67",
            "family_part": "693.33",
        },
        {
            "caregiver_id": "C2",
            "days": "3.50",
            "pay": "175.00",
            "government_part": "23.33",
            "family_part": "151.67",
        },
        {
            "caregiver_id": "C3",
            "days": "29.50",
            "pay": "1475.00",
            "government_part": "196.67",
            "family_part": "1278.33",
        },
    ],
    "totals": {
        "charge": "2450.00",
        "subsidy": "326.67",
        "family_share": "2123.33",
        "pay": "2450.00",
    },
    "warnings": [
        "H1 2026-11-20 C1: visit not billed: household not enrolled that day (当日未在册，不计费)",
        "H2 2026-12-01 C3: visit not billed: outside the month 2026-11 (非本月，不计费)",
        "H9 2026-11-03 C4: visit not billed: household not enrolled, no category on record "
        "(无在册记录，不计费)",
    ],
}
EXPECTED_TEXT = json.dumps(EXPECTED, ensure_ascii=False, indent=2) + "\n"


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def compute(tmp_path: Path, document: str) -> Any:
    path = tmp_path / "scenario.json"
    path.write_text(document, encoding="utf-8")
    return runner.invoke(app, ["billing", "compute", str(path)])


def test_example_file_gives_the_exact_result() -> None:
    result = runner.invoke(app, ["billing", "compute", str(EXAMPLE)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == EXPECTED_TEXT
    assert result.stderr == ""
    BillingResultV1.model_validate_json(result.stdout)  # the documented result format


def test_standard_input() -> None:
    result = runner.invoke(app, ["billing", "compute", "-"], input=EXAMPLE.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert result.stdout == EXPECTED_TEXT


def test_the_installed_command() -> None:
    # as a user runs it: the console script, the file from standard input
    proc = subprocess.run(
        [HOMECARE, "billing", "compute", "-"],
        input=EXAMPLE.read_bytes(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode("utf-8") == EXPECTED_TEXT


def test_policy_may_be_left_out(tmp_path: Path) -> None:
    data = example()
    del data["policy"]  # the example's policy is the default one
    result = compute(tmp_path, json.dumps(data))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == EXPECTED_TEXT


def test_a_policy_field_left_out_takes_its_default(tmp_path: Path) -> None:
    # Fee 3000.00, subsidies by default: every charge doubles, subsidies stay.
    data = example()
    data["policy"] = {"monthly_fee": "3000.00"}
    result = compute(tmp_path, json.dumps(data))
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert [(h["charge"], h["subsidy"]) for h in out["households"]] == [
        ("1900.00", "126.67"),
        ("3000.00", "200.00"),
    ]


def test_output_is_utf8_json_with_chinese_unescaped(tmp_path: Path) -> None:
    result = compute(tmp_path, EXAMPLE.read_text(encoding="utf-8"))
    assert "当日未在册" in result.stdout


def _with(change: str) -> str:
    """The example scenario with one thing broken, as JSON text."""
    data = copy.deepcopy(example())
    household = data["households"][0]
    if change == "negative fee":
        data["policy"]["monthly_fee"] = "-1500.00"
    elif change == "three decimals":
        data["policy"]["subsidy"]["B"] = "200.005"
    elif change == "number money":
        data["policy"]["monthly_fee"] = 1500
    elif change == "subsidy missing D":
        del data["policy"]["subsidy"]["D"]
    elif change == "subsidy unknown E":
        data["policy"]["subsidy"]["E"] = "0.00"
    elif change == "unknown category":
        household["categories"][0]["category"] = "E"
    elif change == "lower-case category":
        household["categories"][0]["category"] = "b"
    elif change == "bad date":
        data["visits"][3]["date"] = "2026-02-30"
    elif change == "datetime":
        household["categories"][1]["from"] = "2026-11-20T00:00:00"
    elif change == "unordered":
        household["categories"].reverse()
    elif change == "same from":
        household["categories"][1]["from"] = household["categories"][0]["from"]
    elif change == "unknown key":
        data["currency"] = "CNY"
    elif change == "unknown visit key":
        data["visits"][0]["shift_id"] = "SH-1"
    elif change == "missing month":
        del data["month"]
    elif change == "bad month":
        data["month"] = "2026-13"
    elif change == "twice":
        data["households"].append(copy.deepcopy(household))
    elif change == "visits not a list":
        data["visits"] = {"H1": []}
    elif change == "category missing":
        del household["categories"][1]["category"]
    elif change == "bad id":
        data["visits"][0]["caregiver_id"] = "C 1"
    return json.dumps(data)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("negative fee", "policy.monthly_fee: money must not be negative"),
        ("three decimals", "policy.subsidy.B: money must be digits with at most 2 decimals"),
        ("number money", "policy.monthly_fee: money must be a decimal string"),
        ("subsidy missing D", "policy.subsidy: missing an amount for D"),
        ("subsidy unknown E", "policy.subsidy.E (key): must be one of the categories"),
        ("unknown category", "households[0].categories[0].category: must be one of the categories"),
        ("lower-case category", "households[0].categories[0].category: must be one of"),
        ("bad date", "visits[3].date: invalid date (expected YYYY-MM-DD)"),
        ("datetime", "households[0].categories[1].from: invalid date"),
        ("unordered", "households[0].categories: entry 1 starts on 2026-11-01, not after entry 0"),
        ("same from", "households[0].categories: entry 1 starts on 2026-11-01"),
        ("unknown key", "currency: unknown field"),
        ("unknown visit key", "visits[0].shift_id: unknown field"),
        ("missing month", "month: required field is missing"),
        ("bad month", "month: month must be YYYY-MM"),
        ("twice", "households: household H1 is listed twice (entries 0 and 2)"),
        ("visits not a list", "visits: must be a JSON list"),
        ("category missing", "households[0].categories[1].category: required field is missing"),
        ("bad id", "visits[0].caregiver_id: must be an id of letters, digits, - and _"),
    ],
)
def test_malformed_scenarios_are_refused(tmp_path: Path, change: str, expected: str) -> None:
    result = compute(tmp_path, _with(change))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "invalid billing scenario 计费情景文件有误" in result.stderr
    assert f"  {expected}" in result.stderr


def test_every_problem_is_listed(tmp_path: Path) -> None:
    data = example()
    data["policy"]["monthly_fee"] = "1500.001"
    data["visits"][0]["date"] = "yesterday"
    result = compute(tmp_path, json.dumps(data))
    assert result.exit_code == 2
    assert "(2 problem(s))" in result.stderr
    assert "policy.monthly_fee:" in result.stderr
    assert "visits[0].date:" in result.stderr


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ('{"month": "2026-11",', "not valid JSON"),
        ("", "not valid JSON"),
        ("[]", "expected a JSON object (a billing scenario), got a JSON list"),
        ('"2026-11"', "expected a JSON object (a billing scenario), got a JSON str"),
    ],
)
def test_not_a_scenario_at_all(tmp_path: Path, document: str, expected: str) -> None:
    result = compute(tmp_path, document)
    assert result.exit_code == 2
    assert expected in result.stderr


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_bytes('{"month": "2026-11"} 计费'.encode("gb18030"))
    result = runner.invoke(app, ["billing", "compute", str(path)])
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr


def test_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["billing", "compute", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "nope.json: file not found 文件不存在" in result.stderr


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["billing", "compute", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a folder" in result.stderr
