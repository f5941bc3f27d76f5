"""The console's plumbing on the real services: sign-in, roles, language, the audit log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from console_web import PASSWORD, add_user, base_url, signed_in, text_of

from services.console.app import console_of
from services.console.store import audit_log
from services.system import System

pytestmark = pytest.mark.integration
HOMECARE = str(Path(sys.executable).parent / "homecare")


async def test_sign_in_lands_each_role_on_its_home(console_system: System) -> None:
    homes = {
        "station_manager": "/station",
        "carer": "/carer",
        "district_officer": "/district",
        "finance": "/finance",
        "supervisor": "/supervisor",
    }
    for role, home in homes.items():
        extra = {"station_id": "S1"} if role == "station_manager" else {}
        if role == "carer":
            extra = {"caregiver_id": "C1"}
        async with signed_in(console_system, f"u-{role}", role=role, **extra) as http:
            response = await http.get("/")
            assert response.status_code == 303
            assert response.headers["location"] == home


async def test_a_wrong_password_is_refused_and_keeps_the_user_name(console_system: System) -> None:
    await add_user(console_system, "finance-1", "finance")
    async with httpx.AsyncClient(base_url=base_url(console_system)) as http:
        response = await http.post("/login", data={"user_id": "finance-1", "password": "nope"})
        assert response.status_code == 401
        assert "用户名或密码不正确" in response.text
        assert 'value="finance-1"' in response.text
        # not signed in: pages send to the sign-in page, remembering where the user was going
        page = await http.get("/finance")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/finance"


async def test_english_is_one_click_away(console_system: System) -> None:
    async with signed_in(console_system, "fin", role="finance") as http:
        switched = await http.get("/lang/en", headers={"referer": f"{base_url(console_system)}/"})
        assert switched.status_code == 303
        assert http.cookies.get("lang") == "en"
        login = await http.get("/login")
        assert "Sign in" in text_of(login.text)


async def test_signing_in_is_audited(console_system: System) -> None:
    async with signed_in(console_system, "sup", role="supervisor"):
        pass
    rows = await console_of(console_system["console"]).store.read(
        sa.select(audit_log).where(audit_log.c.user_id == "sup")
    )
    assert [r.action for r in rows] == ["sign_in"]
    assert rows[0].role == "supervisor"


async def test_a_redirect_after_sign_in_never_leaves_the_site(console_system: System) -> None:
    await add_user(console_system, "fin2", "finance")
    async with httpx.AsyncClient(base_url=base_url(console_system)) as http:
        response = await http.post(
            "/login",
            data={"user_id": "fin2", "password": PASSWORD, "next": "//evil.example/x"},
        )
        assert response.headers["location"] == "/finance"


async def test_console_users_are_added_from_the_command_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMECARE_")}
    env["HOMECARE_VAR_DIR"] = str(tmp_path)

    def homecare(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HOMECARE, "console", "user", *args], env=env, capture_output=True, text=True
        )

    added = homecare(
        "add", "m1", "--role", "station_manager", "--station", "S1", "--password", "long enough 1"
    )
    assert added.returncode == 0, added.stderr
    again = homecare("add", "m1", "--role", "finance", "--password", "long enough 1")
    assert again.returncode == 1 and "exists already" in again.stderr
    no_station = homecare("add", "m2", "--role", "station_manager", "--password", "long enough")
    assert no_station.returncode == 2 and "--station" in no_station.stderr
    short = homecare("add", "f1", "--role", "finance", "--password", "short")
    assert short.returncode == 2 and "8 characters" in short.stderr
    listed = homecare("list")
    assert listed.returncode == 0
    assert (
        "m1" in listed.stdout and "station_manager" in listed.stdout and "f1" not in listed.stdout
    )
