"""The billing policy file (HOMECARE_BILLING_POLICY_FILE): fee and subsidy table by
effective date, read strictly; `homecare billing policy` shows or refuses it; the billing
service's schedule comes from it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.billing.app import policy_schedule
from services.billing.engine import DEFAULT_SCHEDULE, compute
from services.billing.model import CategoryFrom
from services.billing.policy_file import PolicyFileError, load_policy_schedule, read_policy_file
from services.cli import app
from services.infra.settings import Settings

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()

# From 16 November 2026 the fee rises to 1800.00 and B's subsidy to 260.00.
MID_MONTH_RISE = """
policies:
  - from: 2026-01-01
    monthly_fee: "1500.00"
    subsidy: {A: "300.00", B: "200.00", C: "100.00", D: "0.00"}
  - from: "2026-11-16"
    monthly_fee: "1800.00"
    subsidy: {A: "350.00", B: "260.00", C: "100.00", D: "0.00"}
"""


def test_each_day_is_billed_at_the_policy_in_force_that_day() -> None:
    schedule = read_policy_file(MID_MONTH_RISE)
    assert schedule.on(date(2026, 11, 15)).monthly_fee == Decimal("1500.00")
    assert schedule.on(date(2026, 11, 16)).subsidy["B"] == Decimal("260.00")
    assert schedule.on(date(2025, 6, 1)).monthly_fee == Decimal("1500.00")  # before: the first
    november = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
    result = compute(
        "2026-11",
        [CategoryFrom("H1", date(2026, 10, 1), "B")],
        [("H1", "C1", day) for day in november],
        schedule,
    )
    (bill,) = result.households
    # 15 days at 1500 and 15 at 1800 over 30: 1650.00; subsidy (15 × 200 + 15 × 260) / 30
    assert (bill.charge, bill.subsidy, bill.family_share) == (
        Decimal("1650.00"),
        Decimal("230.00"),
        Decimal("1420.00"),
    )


def test_the_example_file_and_json_are_read() -> None:
    schedule = load_policy_schedule(REPO / "examples" / "billing-policy.yaml")
    assert [start for start, _ in schedule.entries] == [date(2026, 1, 1), date(2027, 1, 1)]
    as_json = (
        '{"policies": [{"from": "2026-01-01", "monthly_fee": "1500.00", '
        '"subsidy": {"A": "300.00", "B": "200.00", "C": "100.00", "D": "0.00"}}]}'
    )
    assert read_policy_file(as_json).on(date(2026, 11, 1)) == DEFAULT_SCHEDULE.on(date.min)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("policies: [", "not valid YAML or JSON"),
        ("- 1\n- 2\n", "expected a mapping with a `policies` list"),
        ("policies: []\n", "policies: List should have at least 1 item"),
        (
            "policies:\n  - {from: 2026-01-01, monthly_fee: 1500.00}\n",
            "policies[0].monthly_fee: money must be a decimal string",
        ),
        (
            'policies:\n  - {from: 2026-01-01, subsidy: {A: "1.00"}}\n',
            "policies[0].subsidy: missing an amount for B, C, D",
        ),
        (
            'policies:\n  - {from: 2026-01-01, fee: "1.00"}\n',
            "policies[0].fee: unknown field (not part of the billing policy format)",
        ),
        (
            "policies:\n  - {from: 2026-02-30}\n",
            "policies[0].from: invalid date",
        ),
        (
            "policies:\n  - {from: 2027-01-01}\n  - {from: 2026-01-01}\n",
            "entry 1 starts on 2026-01-01, not after entry 0 (2027-01-01)",
        ),
        (
            'policies:\n  - {from: 2026-01-01, monthly_fee: "1500.005"}\n',
            "policies[0].monthly_fee: money must be digits with at most 2 decimals",
        ),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_with_the_place_and_the_reason(
    text: str, problem: str
) -> None:
    with pytest.raises(PolicyFileError) as refused:
        read_policy_file(text)
    assert any(problem in p for p in refused.value.problems), refused.value.problems


def test_the_service_bills_with_the_deployments_file_and_will_not_start_with_a_bad_one(
    tmp_path: Path,
) -> None:
    assert policy_schedule(Settings(billing_policy_file=None)) == DEFAULT_SCHEDULE
    good = tmp_path / "policy.yaml"
    good.write_text(MID_MONTH_RISE, encoding="utf-8")
    assert policy_schedule(Settings(billing_policy_file=good)) == read_policy_file(MID_MONTH_RISE)
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"HOMECARE_BILLING_POLICY_FILE .*bad\.yaml"):
        policy_schedule(Settings(billing_policy_file=bad))
    with pytest.raises(ValueError, match="cannot read it"):
        policy_schedule(Settings(billing_policy_file=tmp_path / "missing.yaml"))


def test_billing_policy_shows_the_table_or_refuses_the_file(tmp_path: Path) -> None:
    shown = runner.invoke(app, ["billing", "policy", "--file", "examples/billing-policy.yaml"])
    assert shown.exit_code == 0, shown.output
    assert "2027-01-01" in shown.output and "1560.00" in shown.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies:\n  - {from: 2026-01-01, monthly_fee: 1500}\n", encoding="utf-8")
    refused = runner.invoke(app, ["billing", "policy", "--file", str(bad)])
    assert refused.exit_code == 2
    assert "policies[0].monthly_fee" in refused.output
