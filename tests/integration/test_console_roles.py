"""Every console page checks the role: each route is tried by every role (sign-in works for
all five): a role the route does not name gets the 403 page, one it names does not, and no
page fails for its own roles on a fresh system."""

from __future__ import annotations

import re

import pytest
from console_web import signed_in
from fastapi.routing import APIRoute

from services.console.auth import ROLES
from services.console.pages.common import RoleCheck
from services.console.web import PAGES, create_app
from services.system import System

pytestmark = pytest.mark.integration

PUBLIC = {"/", "/login", "/logout", "/lang/{lang}", "/healthz"}
EXTRA = {"station_manager": {"station_id": "S1"}, "carer": {"caregiver_id": "C1"}}


def guarded_routes(system: System) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path with its parameters filled in, roles allowed) of every page."""
    from services.console.app import console_of

    app = create_app(console_of(system["console"]))
    pages = [route for area in PAGES for route in area.router.routes]
    found: list[tuple[str, str, tuple[str, ...]]] = []
    for route in [*app.routes, *pages]:
        if not isinstance(route, APIRoute) or route.path in PUBLIC:
            continue
        checks = [d.call for d in route.dependant.dependencies if isinstance(d.call, RoleCheck)]
        assert len(checks) == 1, f"{route.path} has no role check"
        path = re.sub(r"\{[^}]+\}", "X1", route.path)
        for method in sorted(route.methods or ()):
            found.append((method, path, tuple(checks[0].roles)))
    return found


async def test_every_page_refuses_every_role_it_does_not_name(console_system: System) -> None:
    routes = guarded_routes(console_system)
    assert len(routes) >= 20, routes
    for role in ROLES:
        async with signed_in(
            console_system, f"who-{role}", role=role, **EXTRA.get(role, {})
        ) as http:
            for method, path, allowed in routes:
                if path == "/live":
                    continue  # an endless stream: its check is the same dependency
                response = await http.request(method, path)
                if role in allowed:
                    # a POST about an unknown X1 may be refused; a page is not
                    assert method == "POST" or response.status_code != 403, (role, path)
                    assert response.status_code < 500, (role, method, path, response.text[-300:])
                else:
                    assert response.status_code == 403, (role, method, path)
                    assert "无权访问" in response.text


async def test_nobody_signed_in_is_sent_to_sign_in(console_system: System) -> None:
    import httpx
    from console_web import base_url

    async with httpx.AsyncClient(base_url=base_url(console_system)) as http:
        for method, path, _ in guarded_routes(console_system):
            response = await http.request(method, path)
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login?next=")


GENERIC_FIELDS = [
    "household_id",
    "caregiver_id",
    "date",
    "start_date",
    "first_day",
    "last_day",
    "month",
    "round",
    "reason",
    "notes",
    "text",
    "amount",
    "score",
    "mode",
    "decision",
    "party_id",
    "kind",
    "format",
    "revision",
    "tasks",
    "appetite",
    "mood",
    "entry_id",
    "confirm",
]


def form_values() -> list[dict[str, str]]:
    """Hypothesis-made form contents (odd text, huge values, lone surrogates excluded since a
    browser cannot send them), drawn once, reproducibly."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    value = st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            ["", " ", "0", "-1", "9" * 40, "2026-13-45", "1e309", "NaN", "<script>x</script>"]
        ),
        st.just("字" * 20_000),
    ).map(lambda v: v.encode("utf-8", "replace").decode("utf-8"))
    drawn: list[dict[str, str]] = []

    @settings(
        max_examples=1,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        drawn.clear()
        for _ in range(5):
            fields = data.draw(st.lists(st.sampled_from(GENERIC_FIELDS), max_size=8, unique=True))
            drawn.append({f: data.draw(value) for f in fields})

    draw()
    return drawn


async def test_no_form_makes_a_page_fail(console_system: System) -> None:
    """Every form of every page, posted with made-up contents by the role allowed to: a clear
    answer (303, 4xx with the error), never a server error; the console still answers."""
    routes = [(m, p, roles) for m, p, roles in guarded_routes(console_system) if m == "POST"]
    samples = form_values()
    for role in ROLES:
        mine = [path for _, path, allowed in routes if role in allowed]
        if not mine:
            continue
        async with signed_in(
            console_system, f"fz-{role}", role=role, **EXTRA.get(role, {})
        ) as http:
            for path in mine:
                for fields in samples:
                    response = await http.post(path, data=fields)
                    assert response.status_code < 500, (role, path, fields, response.text[-300:])
            assert (await http.get("/healthz")).status_code == 200
