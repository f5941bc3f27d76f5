"""`homecare deploy`: files for running homecare on a server, generated from the code.

``nats-auth`` writes the nats-server ``authorization`` block: one user per service with only
the subjects that service publishes and reads, an operators' user, and one user per caregiver
limited to their own subjects (docs/bus-permissions.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console as Terminal

from services.infra.bus.permissions import check_caregiver_id, render_config, system_permissions

deploy_app = typer.Typer(help="Deployment files generated from the code.", no_args_is_help=True)
err = Terminal(stderr=True, highlight=False, soft_wrap=True)


@deploy_app.callback()
def _deploy() -> None:
    """Deployment files generated from the code (a group, also with one command)."""


@deploy_app.command("nats-auth")
def nats_auth(
    caregiver: Annotated[
        list[str] | None,
        typer.Option(
            "--caregiver",
            help="A caregiver id to give NATS credentials (repeat for each caregiver).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write here instead of standard output."),
    ] = None,
) -> None:
    """The nats-server users and permissions (include the output from nats-server.conf).

    Passwords are references to environment variables (HOMECARE_NATS_PASSWORD_<USER>) that
    nats-server reads when it starts; put a password or a bcrypt hash in each."""
    ids = caregiver or []
    try:
        for one in ids:
            check_caregiver_id(one)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    text = render_config(system_permissions(ids))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    err.print(f"wrote {out}")
