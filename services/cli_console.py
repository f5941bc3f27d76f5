"""`homecare console`: the web console's users (its pages are served by `homecare up`)."""

from __future__ import annotations

import asyncio
import getpass
from typing import Annotated

import typer
from rich.console import Console as Terminal
from rich.table import Table

from services.console.auth import ROLES
from services.infra.runtime import Service

console_app = typer.Typer(
    help="The web console: its users (the pages are served by `homecare up`).",
    no_args_is_help=True,
)
user_app = typer.Typer(
    help="Who may sign in to the console, with which role.", no_args_is_help=True
)
console_app.add_typer(user_app, name="user")
out = Terminal()
err = Terminal(stderr=True)


def _console_service() -> Service:
    from services.cli import _settings
    from services.console import app as console_app_module
    from services.infra.clock import SystemClock

    settings = _settings()
    return console_app_module.build(settings, SystemClock(settings.tz))


def _password(given: str | None) -> str:
    if given:
        return given
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        err.print("[red]the two passwords differ[/red]")
        raise typer.Exit(2)
    return first


@user_app.command("add")
def add(
    user_id: Annotated[str, typer.Argument(help="The name the user signs in with.")],
    role: Annotated[str, typer.Option(help=" | ".join(ROLES))],
    name: Annotated[str | None, typer.Option(help="Shown on pages (default: the user id).")] = None,
    station: Annotated[str | None, typer.Option(help="A station manager's station.")] = None,
    caregiver: Annotated[str | None, typer.Option(help="The caregiver a carer is.")] = None,
    password: Annotated[
        str | None, typer.Option(help="Asked for when not given (not echoed).")
    ] = None,
) -> None:
    """Add a console user (a station manager needs --station, a carer --caregiver)."""
    from services.console.auth import user_problem
    from services.console.core import Console, UserExists

    problem = user_problem(role, station, caregiver)
    if problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(2)
    secret = _password(password)
    if len(secret) < 8:
        err.print("[red]a password has at least 8 characters[/red]")
        raise typer.Exit(2)

    async def create() -> None:
        svc = _console_service()
        try:
            await svc.migrate()
            await Console(svc).add_user(user_id, name or user_id, role, secret, station, caregiver)
        finally:
            await svc.engine.dispose()

    try:
        asyncio.run(create())
    except UserExists as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    out.print(f"added {user_id} ({role})")


@user_app.command("list")
def list_users() -> None:
    """The console's users and their roles."""
    import sqlalchemy as sa

    from services.console.store import users

    async def rows() -> list[sa.Row[tuple[object, ...]]]:
        svc = _console_service()
        try:
            await svc.migrate()
            return await svc.store.read(sa.select(users).order_by(users.c.user_id))
        finally:
            await svc.engine.dispose()

    table = Table(title="console users")
    for column in ("user", "name", "role", "station", "caregiver", "active"):
        table.add_column(column)
    for row in asyncio.run(rows()):
        table.add_row(
            row.user_id,
            row.name,
            row.role,
            row.station_id or "",
            row.caregiver_id or "",
            "yes" if row.active else "no",
        )
    out.print(table)
