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
    found = []
    for route in [*app.routes, *pages]:
        if not isinstance(route, APIRoute) or route.path in PUBLIC:
            continue
        checks = [d.call for d in route.dependant.dependencies if isinstance(d.call, RoleCheck)]
        assert len(checks) == 1, f"{route.path} has no role check"
        path = re.sub(r"\{[^}]+\}", "X1", route.path)
        for method in sorted(route.methods):
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
