"""Helpers for the console's tests: users, signed-in HTTP clients, page text."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.console.app import console_of, web_of
from services.system import System

PASSWORD = "correct horse 42"


async def add_user(
    system: System,
    user_id: str,
    role: str,
    station_id: str | None = None,
    caregiver_id: str | None = None,
    name: str | None = None,
) -> None:
    await console_of(system["console"]).add_user(
        user_id, name or user_id, role, PASSWORD, station_id, caregiver_id
    )


def base_url(system: System) -> str:
    address = web_of(system["console"]).address
    assert address
    return address


@contextlib.asynccontextmanager
async def signed_in(
    system: System, user_id: str, lang: str | None = None, **user: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as a new user (``role=`` and the rest as ``add_user``); pages in
    ``lang`` (None: the default, Chinese)."""
    await add_user(system, user_id, **user)
    async with httpx.AsyncClient(
        base_url=base_url(system), timeout=15, cookies={"lang": lang} if lang else None
    ) as http:
        response = await http.post("/login", data={"user_id": user_id, "password": PASSWORD})
        assert response.status_code == 303, response.text
        yield http


def text_of(html: str) -> str:
    """The page's visible words, tags and extra spaces removed (for assertions)."""
    without_scripts = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", without_scripts)).strip()
