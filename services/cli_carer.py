"""Caregiver commands: `homecare carer inbox ID` (a phone on the console)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer
from rich.console import Console

from services.infra.settings import Settings

carer_app = typer.Typer(help="What a caregiver's phone does, on the console.", no_args_is_help=True)
console = Console()


@carer_app.command("inbox")
def inbox(
    caregiver_id: Annotated[str, typer.Argument(help="The caregiver, e.g. C0001.")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep listening until Ctrl-C.")
    ] = False,
    confirm: Annotated[
        bool, typer.Option(help="Confirm shift messages to scheduling (AcknowledgeShift).")
    ] = True,
) -> None:
    """Print the caregiver's messages: shifts, morning reminders, cancellations. Messages
    sent while the phone was off arrive now, each once; every message printed is
    acknowledged, so the next run shows only newer ones."""
    from pydantic import TypeAdapter, ValidationError

    from contracts.types import Id
    from services.carer import CarerInbox
    from services.client import BusClient

    try:
        TypeAdapter(Id).validate_python(caregiver_id)
    except ValidationError as exc:
        typer.echo(f"{caregiver_id!r} is not a caregiver id (letters, digits, - and _)", err=True)
        raise typer.Exit(2) from exc
    settings = Settings()
    servers = settings.client_servers()

    async def read() -> int:
        count = 0
        async with (
            await BusClient.connect_once(servers, f"homecare-carer-{caregiver_id}") as client,
            CarerInbox(client, caregiver_id) as box,
        ):
            while True:
                for message in await box.receive(wait=1.0, acknowledge=confirm):
                    console.print(message.line())
                    count += 1
                if not follow:
                    return count

    try:
        with contextlib.suppress(KeyboardInterrupt):
            shown = asyncio.run(read())
            if not follow:
                console.print(f"{shown} message(s) 条消息")
    except Exception as exc:
        typer.echo(f"could not read the inbox at {','.join(servers)}: {exc!r}", err=True)
        raise typer.Exit(2) from exc
