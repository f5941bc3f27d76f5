"""The §7 file formats: strict application parsing, results in input order, error entries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eligibility_builders import application, elder, three_nos

from services.dispatch.eligibility.assess_file import (
    DocumentError,
    assess_document,
    field_path,
    render,
)


def run(*items: Any) -> list[dict[str, Any]]:
    return assess_document(json.dumps(list(items)))


def error_of(item: Any) -> str:
    (entry,) = run(item)
    assert list(entry) == ["household_id", "error"]
    message = entry["error"]
    assert isinstance(message, str)
    return message


def test_the_section_7_example() -> None:
    text = """[{"household_id": "H1", "received_on": "2026-11-05", "hukou_local": true,
      "resides_locally": true, "on_dibao": false, "monthly_income": "500.00",
      "wants_service": true,
      "elders": [{"sex": "F", "birth_date": "1940-03-02", "self_care": "needs_help",
                  "can_work": false, "has_income": true, "has_legal_supporter": true,
                  "has_children": true, "seriously_ill_certified": false,
                  "unemployed": false}]}]"""
    (entry,) = assess_document(text)
    assert entry == {
        "household_id": "H1",
        "category": "B",
        "monthly_subsidy": "200.00",
        "round": "2026-11",
        "rules": ["B1"],
    }
    assert list(entry) == ["household_id", "category", "monthly_subsidy", "round", "rules"]


def test_not_eligible_entry() -> None:
    (entry,) = run(application(resides_locally=False))
    assert entry == {
        "household_id": "H1",
        "category": None,
        "monthly_subsidy": "0.00",
        "round": "2026-11",
        "rules": [],
    }


def test_input_order_kept_and_bad_items_do_not_stop_the_others() -> None:
    bad_date = application(elder(birth_date="1940-02-30"), household_id="H2")
    results = run(
        application(three_nos(), household_id="H3"),
        bad_date,
        application(household_id="H1"),
        7,
        application(household_id="H0", monthly_income=500),
    )
    assert [r["household_id"] for r in results] == ["H3", "H2", "H1", None, "H0"]
    assert [r.get("category") for r in results] == ["A", None, "D", None, None]
    assert results[1]["error"].startswith("elders[0].birth_date: invalid date")
    assert results[3]["error"] == "application: must be a JSON object"
    assert results[4]["error"].startswith("monthly_income: ")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (application(monthly_income=500.0), "monthly_income: money must be a decimal string"),
        (application(monthly_income=500), "never a float"),
        (application(monthly_income="500.123"), "monthly_income: money must be digits"),
        (application(monthly_income="-1.00"), "monthly_income: money must not be negative"),
        (application(monthly_income="1e3"), "monthly_income: money must be digits"),
        (application(monthly_income=" 500"), "monthly_income: money must be digits"),
        (application(monthly_income="NaN"), "monthly_income: money must be digits"),
        (application(monthly_income="9" * 40), "monthly_income: money amount is too large"),
        (application(hukou_local=1), "hukou_local: must be a JSON boolean"),
        (application(wants_service="true"), "wants_service: must be a JSON boolean"),
        (application(elder(can_work=0)), "elders[0].can_work: must be a JSON boolean"),
        (application(pets=2), "pets: unknown field"),
        (application(elder(), elder(name="Li")), "elders[1].name: unknown field"),
        (application(elder(sex="f")), "elders[0].sex: "),
        (application(elder(self_care="bedridden")), "elders[0].self_care: "),
        (application(elder(birth_date="1940/03/02")), "elders[0].birth_date: invalid date"),
        (application(elder(birth_date=19400302)), "elders[0].birth_date: invalid date"),
        (application(received_on="2026-11-05T10:00"), "received_on: invalid date"),
        (application(received_on="9999-12-01"), "received_on: date too far in the future"),
        (application(household_id=""), "household_id: "),
        ({"household_id": "H1"}, "received_on: required field is missing"),
    ],
)
def test_error_entry_names_the_field(item: dict[str, Any], expected: str) -> None:
    assert expected in error_of(item)


def test_error_entry_household_id() -> None:
    assert run(application(household_id=5))[0]["household_id"] is None
    assert run(application(household_id="H9", hukou_local=None))[0]["household_id"] == "H9"


def test_every_problem_of_an_item_is_listed() -> None:
    message = error_of(application(elder(sex="X"), hukou_local="yes"))
    assert message.startswith("hukou_local: ")
    assert "; elders[0].sex: " in message


def test_no_policy_for_the_date_is_an_error_entry() -> None:
    message = error_of(application(received_on="2002-08-05"))
    assert message.startswith("received_on: no eligibility policy in force")


def test_money_keeps_its_two_places() -> None:
    (entry,) = run(application(elder(65, self_care="needs_help"), monthly_income="600"))
    assert (entry["category"], entry["monthly_subsidy"]) == ("B", "200.00")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"household_id": "H1"}', "expected a JSON list of applications, got a JSON object"),
        ('"H1"', "got a JSON string"),
        ("null", "got a JSON null"),
        ("[1,", "not valid JSON"),
        ("", "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        ("[" + "1" * 5000 + "]", "not valid JSON"),
    ],
)
def test_a_document_that_is_not_a_list_is_refused(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        assess_document(text)


def test_empty_list() -> None:
    assert assess_document("[]") == []


def test_render_round_trips() -> None:
    results = run(application(), 3)
    text = render(results)
    assert json.loads(text) == results
    assert text.index('"category"') < text.index('"monthly_subsidy"') < text.index('"round"')
    assert render([{"household_id": None, "error": "说明"}]).count("说明") == 1  # not escaped


@pytest.mark.parametrize(
    ("loc", "path"),
    [(("elders", 0, "birth_date"), "elders[0].birth_date"), (("x",), "x"), ((), "application")],
)
def test_field_path(loc: tuple[int | str, ...], path: str) -> None:
    assert field_path(loc) == path
