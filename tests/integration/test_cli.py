"""The `homecare` command as a user runs it: real processes, real nats-server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from builders import B2_ELDER, application_form, household, one_assignment
from conftest import eventually

from contracts import subjects
from services.client import BusClient
from services.demo.watch import BusWatcher
from services.dispatch.store import households
from services.infra.clock import SimulatedClock
from services.infra.db import create_engine_for, schema_for
from services.infra.nats_server import NatsServer, free_port, port_open
from services.infra.settings import Settings
from services.system import System

HOMECARE = str(Path(sys.executable).parent / "homecare")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMECARE_")}
    env.update(extra)
    return env


async def run(*args: str, env: dict[str, str], timeout: float = 120) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        HOMECARE, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def start_up(
    env: dict[str, str], *options: str, timeout: float = 60
) -> tuple[asyncio.subprocess.Process, str, list[str]]:
    """`homecare up OPTIONS` running; with the console's address it prints and every line
    printed up to it."""
    proc = await asyncio.create_subprocess_exec(
        HOMECARE,
        "up",
        *options,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout
    printed: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            line = (await proc.stdout.readline()).decode()
            if not line:
                raise AssertionError(
                    f"homecare up exited: {(await proc.stderr.read()).decode()}"
                    if proc.stderr
                    else "homecare up exited"
                )
            printed.append(line)
            if line.startswith("console on "):
                return proc, line.removeprefix("console on ").strip(), printed


async def stop(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out
    return out.decode()


async def rows_in(var_dir: Path, database_url: str | None, service: str, table: str) -> int:
    url = database_url or f"sqlite:///{var_dir / (service + '.db')}"
    engine = create_engine_for(url, service)
    qualified = f"{schema}.{table}" if (schema := schema_for(url, service)) else table
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(sa.text(f"SELECT count(*) FROM {qualified}")) or 0)
    finally:
        await engine.dispose()


async def test_up_status_and_ctrl_c_mid_load_loses_nothing(
    tmp_path: Path, database_url: str | None
) -> None:
    port = free_port()
    env = clean_env(
        HOMECARE_VAR_DIR=str(tmp_path / "var"),
        HOMECARE_NATS_PORT=str(port),
        HOMECARE_CONSOLE_PORT="0",
        **({"HOMECARE_DATABASE_URL": database_url} if database_url else {}),
    )
    proc, console_address, _ = await start_up(env)
    try:
        code, out, _ = await run("status", env=env)
        assert code == 0, out
        for name in ("dispatch", "scheduling", "billing", "console"):
            assert name in out
        assert out.count(" ok ") >= 4
        async with httpx.AsyncClient(base_url=console_address) as http:
            assert (await http.get("/login")).status_code == 200
        async with await BusClient.connect(f"nats://127.0.0.1:{port}") as client:
            await client.send_many(
                [(subjects.REGISTER_HOUSEHOLD, household(f"H{i:03d}")) for i in range(300)]
            )
        output = await stop(proc)  # Ctrl-C while the 300 commands are being processed
        assert "stopped" in output
    finally:
        if proc.returncode is None:
            proc.kill()
    # Whatever was in flight is redelivered after the restart: all 300 arrive, none twice,
    # and well before the 30 s ack wait: nothing was left stranded in a pull request.
    proc, _, _ = await start_up(env)
    try:
        var = tmp_path / "var"

        async def all_arrived() -> bool:
            return (
                await rows_in(var, database_url, "dispatch", "households") == 300
                and await rows_in(var, database_url, "billing", "categories") == 300
            )

        await eventually(all_arrived, "all 300 households after the restart", timeout=20)
    finally:
        await stop(proc)


async def test_status_without_server_says_so(tmp_path: Path) -> None:
    code, out, _ = await run(
        "status", "--timeout", "0.5", env=clean_env(HOMECARE_NATS_PORT=str(free_port()))
    )
    assert code == 1
    assert "no NATS server" in out


async def test_run_needs_a_nats_url() -> None:
    code, _, err = await run("run", "dispatch", env=clean_env())
    assert code == 2
    assert "HOMECARE_NATS_URL is not set" in err
    code, _, err = await run("run", "payroll", env=clean_env())
    assert code == 2 and "unknown service payroll" in err


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_migrate_creates_each_services_tables(tmp_path: Path, backend: str) -> None:
    code, out, _ = await run("migrate", env=clean_env(HOMECARE_VAR_DIR=str(tmp_path)))
    assert code == 0, out
    for service, table in (
        ("dispatch", "assignments"),
        ("scheduling", "shifts"),
        ("billing", "visits"),
        ("console", "users"),
    ):
        assert await rows_in(tmp_path, None, service, table) == 0
        assert await rows_in(tmp_path, None, service, "outbox") == 0


async def test_contracts_are_exported_and_current() -> None:
    code, out, _ = await run("contracts", "export", "--check", env=clean_env())
    assert code == 0, out


def file_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


async def test_demo_json_summary_is_consistent(tmp_path: Path) -> None:
    code, out, err = await run(
        "demo",
        "--json",
        "--households",
        "16",
        "--caregivers",
        "14",  # enough to spare one for the leave
        "--output",
        str(tmp_path / "demo"),
        env=clean_env(),
        timeout=180,
    )
    assert code == 0, err
    s = json.loads(out)
    assert s["households"] == s["care_requests"] == 16
    assert s["assignments"] + len(s["unmet"]) == 16
    assert s["shifts"] == s["shift_messages_received"] > 0
    # every shift message was visited, missed, or cancelled for the leave
    assert s["visits_completed"] + s["visits_missed"] + s["shifts_cancelled"] == s["shifts"]
    assert s["billing"]["visits"] == s["visits_completed"] == s["billing"]["served_days"]
    # the month's billing run, and documents a new user can open
    bill = s["billing_run"]
    assert (bill["revision"], bill["new_revision"]) == (1, True)
    assert bill["visits"] == s["visits_completed"]
    totals = {k: Decimal(v) for k, v in bill["totals"].items()}
    assert totals["subsidy"] + totals["family_share"] == totals["charge"] == totals["pay"]
    assert bill["statements"] == bill["households"] == s["billing"]["households_served"]
    assert bill["payslips"] == bill["caregivers"] == s["billing"]["caregivers"]
    assert "2026-11" in file_bytes(bill["example_statement"]).decode("utf-8")
    assert file_bytes(bill["claim_summary"])
    assert sum(s["billing"]["served_days_by_category"].values()) == s["billing"]["served_days"]
    assert [d["original_event_id"] for d in s["dead_letters"]] == ["demo-malformed-1"]
    assert s["eligibility"]["applications"] == sum(s["eligibility"]["assessed"].values())
    assert s["shortlist"]["confirmed"] == s["shortlist"]["candidates"][0]["caregiver_id"]
    assert all(c["components"] for c in s["shortlist"]["candidates"])
    # all but the shortlisted one, less mid-month enrolments (requested on their own days)
    assert 10 <= s["batch"]["assigned"] + s["batch"]["unmet"] <= 15
    replacement = s["replacement"]
    assert replacement["new"] != replacement["replaced"] or replacement["reason"]
    # diaries after the visits; a fall and three days without appetite warn the doctor
    assert 0 < s["diaries_recorded"] == s["diaries_sent"] <= s["visits_completed"]
    assert s["diaries_recorded"] + s["visits_without_diary"] == s["visits_completed"]
    signs = [sign for w in s["health_warnings"] for sign in w["signs"]]
    assert "fall" in signs and "no_appetite" in signs
    ledger = s["ledger"]
    assert ledger["recorded"] + len(ledger["rejected"]) == ledger["sent"] > 0
    assert ["more than" in r["reason"] for r in ledger["rejected"]] == [True]
    # scheduling's missed_visits job alerts the station once per shift nobody came to
    assert len(s["missed_alerts"]) == s["visits_missed"] >= 1
    # the leave: approved, the caregiver's shifts cancelled, a substitute, then back
    leave = s["leave"]
    assert leave["approved"] and leave["cancelled_shifts"] >= 1
    assert leave["substitutes"]
    for sub in leave["substitutes"]:
        days = [carer for _, carer in leave["days"][sub["household_id"]]]
        assert days == [leave["caregiver_id"], *[sub["caregiver_id"]] * 3, leave["caregiver_id"]]
    # the monthly appraisal scores every caregiver who made visits
    appraisal = s["appraisal"]
    assert appraisal["month"] == s["month"]
    assert appraisal["appraised"] == s["billing"]["caregivers"] == len(appraisal["scores"])
    assert appraisal["top"][0] == appraisal["scores"][0]
    assert [b["caregiver_id"] for b in appraisal["below_threshold"]] == [s["diaries_skipped_by"]]
    assert all(h["status"] == "ok" for h in s["services"])
    # the console's users for the demo street: each role, a manager per station, carers who
    # serve households; they sign in to `make console` with the demo password
    users = s["console_users"]
    roles = {u["role"] for u in users}
    assert roles == {"station_manager", "carer", "district_officer", "finance", "supervisor"}
    carers = [u["caregiver_id"] for u in users if u["role"] == "carer"]
    assert len(carers) == len(set(carers)) >= 1
    assert await rows_in(tmp_path / "demo", None, "console", "users") == len(users)
    saved = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert saved["billing"] == s["billing"]
    assert saved["appraisal"] == s["appraisal"] and saved["leave"] == s["leave"]


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def test_import_keeps_good_rows_and_reimport_changes_nothing(
    system: System, client: BusClient, settings: Settings
) -> None:
    watcher = BusWatcher(client.nc)
    await watcher.start()
    env = clean_env(HOMECARE_NATS_URL=str(settings.nats_url))
    code, out, _ = await run("import", "households", str(EXAMPLES / "households.csv"), env=env)
    assert code == 1, out  # two rows rejected ...
    assert "4 households, 2 valid, 2 rejected" in out
    assert "category" in out and "visit_window" in out
    assert "dispatch has applied them" in out  # ... and the two good ones imported
    await watcher.wait_until(lambda: watcher.by_type["dispatch.HouseholdRegistered"] == 2, "2")
    assert await system["dispatch"].store.count(households) == 2

    code, out, _ = await run("import", "caregivers", str(EXAMPLES / "caregivers.csv"), env=env)
    assert code == 1 and "3 caregivers, 2 valid, 1 rejected" in out
    for kind in ("households", "caregivers"):  # again: nothing changes, nothing is announced
        await run("import", kind, str(EXAMPLES / f"{kind}.csv"), env=env)
    await asyncio.sleep(0.5)
    assert watcher.by_type["dispatch.HouseholdRegistered"] == 2
    assert watcher.by_type["dispatch.CaregiverRegistered"] == 2
    await watcher.stop()


async def test_import_dry_run_sends_nothing_and_bad_file_exits_2(tmp_path: Path) -> None:
    code, out, _ = await run(
        "import",
        "households",
        str(EXAMPLES / "households.json"),
        "--dry-run",
        env=clean_env(HOMECARE_NATS_PORT=str(free_port())),
    )
    assert code == 1 and "2 households, 1 valid, 1 rejected" in out
    broken = tmp_path / "broken.json"
    broken.write_text('{"not": "a list"}', encoding="utf-8")
    code, out, _ = await run("import", "households", str(broken), env=clean_env())
    assert code == 2 and "a list of objects" in out


async def test_assess_prints_results_in_input_order_with_error_entries() -> None:
    code, out, err = await run("assess", str(EXAMPLES / "applications.json"), env=clean_env())
    assert code == 0, err
    results = json.loads(out)
    assert results[0] == {
        "household_id": "H1",
        "category": "B",
        "monthly_subsidy": "200.00",
        "round": "2026-11",
        "rules": ["B1"],
    }
    assert results[1]["household_id"] == "H2"
    assert "resides_locally: required field is missing" in results[1]["error"]


async def test_assess_refuses_a_document_that_is_not_a_list(tmp_path: Path) -> None:
    path = tmp_path / "apps.json"
    path.write_text('{"household_id": "H1"}', encoding="utf-8")
    code, _, err = await run("assess", str(path), env=clean_env())
    assert code == 2 and err.strip()


async def test_round_lists_its_applications_in_order(
    system: System, client: BusClient, settings: Settings
) -> None:
    from contracts.dispatch.application import Application
    from contracts.dispatch.eligibility_v1 import DecideApplication, SubmitApplication

    def application(hid: str, received: str) -> Application:
        return Application.model_validate(
            json.loads((EXAMPLES / "applications.json").read_text(encoding="utf-8"))[0]
            | {"household_id": hid, "received_on": received}
        )

    await client.send_many(
        [
            (
                subjects.SUBMIT_APPLICATION,
                SubmitApplication(application_id=f"AP-{hid}", form=application(hid, received)),
            )
            for hid, received in (("H2", "2026-11-07"), ("H1", "2026-11-02"), ("H3", "2026-11-12"))
        ]
    )
    env = clean_env(HOMECARE_NATS_URL=str(settings.nats_url))

    async def listed(status: str) -> bool:
        code, out, _ = await run("round", "2026-11", "--json", env=env)
        return code == 0 and out.count("application_id") == 2 and f'"{status}"' in out

    # the officer decides what the round shows: a decision sent before the submission was
    # applied would be rejected as unknown (they travel on different subjects)
    await eventually(lambda: listed("assessed"), "the November round")
    await client.send(
        subjects.DECIDE_APPLICATION,
        DecideApplication(application_id="AP-H1", approve=True, decided_by="officer"),
    )
    await eventually(lambda: listed("approved"), "the approval")
    _, out, _ = await run("round", "2026-11", "--json", env=env)
    entries = json.loads(out)["applications"]
    assert [(a["household_id"], a["status"]) for a in entries] == [
        ("H1", "approved"),
        ("H2", "assessed"),
    ]  # H3 came after the 10th: December's round
    code, _, err = await run("round", "November", env=env)
    assert code == 2 and "YYYY-MM" in err


async def test_notices_close_confirms_a_quiet_notice(
    system: System, client: BusClient, settings: Settings, clock: SimulatedClock
) -> None:
    from contracts.dispatch.eligibility_v1 import DecideApplication, SubmitApplication

    await client.send(
        subjects.SUBMIT_APPLICATION,
        SubmitApplication(
            application_id="AP-B2",
            form=application_form("H1", B2_ELDER, received="2026-11-02"),
            child_caregiver_id="C9",
        ),
    )
    env = clean_env(HOMECARE_NATS_URL=str(settings.nats_url))

    async def status_is(status: str) -> bool:
        code, out, _ = await run("round", "2026-11", "--json", env=env)
        return code == 0 and f'"status": "{status}"' in out

    await eventually(lambda: status_is("assessed"), "the application")
    await client.send(
        subjects.DECIDE_APPLICATION,
        DecideApplication(application_id="AP-B2", approve=True, decided_by="officer"),
    )
    await eventually(lambda: status_is("notice"), "the public notice")
    code, out, _ = await run("notices", "close", env=env)  # day 1 of 3: nothing to close
    assert code == 0 and "closed" in out
    assert await status_is("notice")
    clock.advance(timedelta(days=4))
    code, out, _ = await run("notices", "close", "--on", "2026-11-30", env=env)
    assert code == 0, out
    assert await status_is("approved")
    code, _, err = await run("notices", "close", "--on", "2026-13-01", env=env)
    assert code == 2 and "YYYY-MM-DD" in err


async def test_carer_inbox_shows_missed_messages_once(
    system: System, client: BusClient, settings: Settings
) -> None:
    from contracts.scheduling.v1 import GenerateShifts

    watcher = await one_assignment(client)
    env = clean_env(HOMECARE_NATS_URL=str(settings.nats_url))
    code, out, _ = await run("carer", "inbox", "C1", env=env)  # the phone's first start
    assert code == 0 and "0 message" in out
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=date(2026, 11, 2)))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.ShiftsGenerated"] == 1, "shifts", timeout=20
    )
    code, out, _ = await run("carer", "inbox", "C1", env=env)
    assert code == 0, out
    assert "新班次 new shift 2026-11-02 09:00-11:00 H1" in out and "1 message" in out
    code, out, _ = await run("carer", "inbox", "C1", env=env)
    assert code == 0 and "0 message" in out
    code, _, err = await run("carer", "inbox", "C.1", env=env)
    assert code == 2 and "not a caregiver id" in err


async def test_holidays_list_and_wrong_window_arguments(tmp_path: Path) -> None:
    env = clean_env()
    code, out, _ = await run("holidays", "list", "--year", "2026", env=env)
    assert code == 0 and "2026-10-01 四 国庆节" in out and "33 day(s)" in out, out
    code, _, err = await run("holidays", "list", "--year", "2099", env=env)
    assert code == 1 and "HOMECARE_HOLIDAYS_FILE" in err
    extra = tmp_path / "holidays.yaml"
    extra.write_text("holidays:\n  2099-01-01: 元旦\n", encoding="utf-8")
    code, out, _ = await run(
        "holidays", "list", "--year", "2099", env=clean_env(HOMECARE_HOLIDAYS_FILE=str(extra))
    )
    assert code == 0 and "2099-01-01 四 元旦" in out, out
    extra.write_text("holidays: [2099-01-01]\n", encoding="utf-8")
    code, _, err = await run("holidays", "list", env=clean_env(HOMECARE_HOLIDAYS_FILE=str(extra)))
    assert code == 2 and f"HOMECARE_HOLIDAYS_FILE {extra}" in err, err
    for args in (["H1"], ["H1", "14:00-16:00", "--usual"], ["H1", "14:00"]):
        code, _, err = await run("holidays", "window", *args, env=env)
        assert code == 2 and err, (args, err)


async def test_shifts_visit_and_diary_commands(
    system: System, client: BusClient, settings: Settings
) -> None:
    """The station's board (the day's shifts generated by hand), a caregiver's check-in/out
    and diary, from the command line."""
    await one_assignment(client)
    env = clean_env(HOMECARE_NATS_URL=str(settings.nats_url))
    shift = "SH-H1-20261102"
    code, out, err = await run("shifts", "--date", "2026-11-02", "--generate", env=env)
    made = "1 new, 0 already there"
    assert code == 0 and f"已生成 2026-11-02: {made}" in out and "H1" in out, (out, err)

    async def board() -> list[dict[str, object]]:
        code, out, err = await run("shifts", "--date", "2026-11-02", "--json", env=env)
        assert code == 0, err
        return list(json.loads(out)["shifts"])

    assert [(s["shift_id"], s["status"]) for s in await board()] == [(shift, "scheduled")]
    code, out, _ = await run(
        "visit", "check-in", shift, "-c", "C2", "--at", "2026-11-02T09:05", env=env
    )
    assert code == 1 and "shift belongs to caregiver C1" in out
    code, out, _ = await run(
        "visit", "check-in", shift, "-c", "C1", "--at", "2026-11-02T09:05", env=env
    )
    assert code == 0 and "checked in" in out, out
    assert [s["status"] for s in await board()] == ["checked_in"]
    code, out, _ = await run(
        "visit", "check-out", shift, "-c", "C1", "--at", "2026-11-02T10:40", env=env
    )
    assert code == 0 and "visit recorded" in out, out
    assert [s["status"] for s in await board()] == ["done"]
    code, out, _ = await run(
        "diary", "add", "--household", "H1", "-c", "C1", "--date", "2026-11-02",
        "--appetite", "fair", "--mood", "calm", "--sign", "fall", "--task", "做饭",
        env=env,
    )  # fmt: skip
    assert code == 0 and "报告摔倒" in out, out
    code, _, err = await run(
        "diary", "add", "--household", "H1", "-c", "C1", "--appetite", "hungry", "--mood", "calm",
        env=env,
    )  # fmt: skip
    assert code == 2 and "appetite" in err
    code, out, _ = await run("shifts", "--date", "2026-11-02", "--station", "S9", env=env)
    assert code == 0 and "H1" not in out
    code, out, _ = await run("holidays", "window", "H1", "14:00-16:00", "--by", "王站长", env=env)
    assert code == 0 and "holiday window set" in out, out
    code, _, err = await run("holidays", "window", "H1", "16:00-14:00", env=env)
    assert code == 2 and "visit_window" in err, err


async def test_up_secure_runs_every_service_as_its_own_bus_user(tmp_path: Path) -> None:
    """`homecare up --secure`: each service signs in with its own limited user and the
    system still works end to end; without credentials the server refuses a connection."""
    var = tmp_path / "var"
    port = free_port()
    env = clean_env(
        HOMECARE_VAR_DIR=str(var), HOMECARE_NATS_PORT=str(port), HOMECARE_CONSOLE_PORT="0"
    )
    proc, _, _ = await start_up(env, "--secure")
    try:
        admin_url = (var / "nats" / "admin-url").read_text().strip()
        assert oct((var / "nats" / "admin-url").stat().st_mode)[-3:] == "600"
        code, out, _ = await run("status", env=clean_env(HOMECARE_NATS_URL=admin_url))
        assert code == 0 and out.count(" ok ") == 4, out
        with pytest.raises(Exception):  # noqa: B017 - nats-py raises its own kinds
            await BusClient.connect_once([f"nats://127.0.0.1:{port}"], "anonymous")
        async with await BusClient.connect(admin_url) as client:
            await client.send(subjects.REGISTER_HOUSEHOLD, household("H900"))

        async def applied() -> bool:
            return (
                await rows_in(var, None, "dispatch", "households") == 1
                and await rows_in(var, None, "billing", "categories") == 1
            )

        await eventually(applied, "the household in dispatch and billing")
        assert "Violation" not in (var / "nats" / "nats-server.log").read_text()
    finally:
        output = await stop(proc)
    assert "stopped" in output


async def test_up_cluster_runs_on_three_nodes_and_migrate_declares_r3(tmp_path: Path) -> None:
    """`homecare up --cluster 3`: three nats-servers form one cluster, every stream has three
    copies, the services work through any node; `homecare migrate` finds the streams as
    declared and says so."""
    var = tmp_path / "var"
    port = free_port()
    while any(port_open("127.0.0.1", port + i) for i in range(3)):
        port = free_port()
    env = clean_env(
        HOMECARE_VAR_DIR=str(var),
        HOMECARE_NATS_PORT=str(port),
        HOMECARE_CONSOLE_PORT="0",
        HOMECARE_METRICS_PORT="0",
    )
    proc, _, printed = await start_up(env, "--cluster", "3", timeout=90)
    try:
        metrics = next(line.split()[2] for line in printed if line.startswith("metrics on "))
        async with httpx.AsyncClient() as web:
            assert (await web.get(metrics.replace("/metrics", "/health"))).status_code == 200
            exposed = (await web.get(metrics)).text
        assert 'homecare_up{instance="' in exposed and 'service="billing"' in exposed, exposed
        third = f"nats://127.0.0.1:{port + 2}"  # any node will do
        code, out, _ = await run("status", env=clean_env(HOMECARE_NATS_URL=third))
        assert code == 0 and out.count(" ok ") == 4, out
        urls = ",".join(f"nats://127.0.0.1:{port + i}" for i in range(3))
        async with await BusClient.connect(urls) as client:  # as HOMECARE_NATS_URL has them
            for spec in subjects.STREAMS:
                info = await client.js.stream_info(spec.name)
                assert info.config.num_replicas == 3, spec.name
                assert info.cluster and len(info.cluster.replicas or []) == 2, info.cluster
            await client.send(subjects.REGISTER_HOUSEHOLD, household("H901"))

            async def applied() -> bool:
                return await rows_in(var, None, "billing", "categories") == 1

            await eventually(applied, "the household in billing through the cluster")
        code, out, err = await run(
            "migrate",
            env=clean_env(
                HOMECARE_VAR_DIR=str(var), HOMECARE_NATS_URL=urls, HOMECARE_STREAM_REPLICAS="3"
            ),
        )
        assert code == 0, err
        for spec in subjects.STREAMS:
            assert f"{spec.name}: up to date (R3)" in out, out
        assert "HC_DISPATCH: " in out and "durable consumers declared" in out, out
    finally:
        output = await stop(proc)
    assert "stopped" in output


async def test_migrate_bus_needs_a_nats_url(tmp_path: Path) -> None:
    code, _, err = await run("migrate", "--bus", env=clean_env(HOMECARE_VAR_DIR=str(tmp_path)))
    assert code == 2 and "HOMECARE_NATS_URL" in err, err
    code, out, _ = await run("migrate", env=clean_env(HOMECARE_VAR_DIR=str(tmp_path)))
    assert code == 0 and "bus: not declared" in out, out


async def test_import_stops_waiting_when_dispatch_makes_no_progress(
    nats_server: NatsServer,
) -> None:
    """Dispatch's consumer exists but dispatch is not running: the import says the rows are
    stored and will be applied, after --wait seconds without progress."""
    import nats as nats_py

    from services.infra.bus.streams import DurableSpec, ensure_consumers, ensure_streams

    nc = await nats_py.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_streams(js)
    durable = DurableSpec(
        subjects.DISPATCH_STREAM, "dispatch_register_household", subjects.REGISTER_HOUSEHOLD
    )
    await ensure_consumers(js, [durable], 30)
    await nc.close()
    code, out, err = await run(
        "import",
        "households",
        str(EXAMPLES / "households.json"),
        "--wait",
        "1",
        env=clean_env(HOMECARE_NATS_URL=nats_server.url),
    )
    assert code == 1, err  # the example's one bad row
    assert "sent 1 to dispatch" in out and "nothing for 1 s" in out, out
