"""Dispatch commands: `homecare import households|caregivers FILE`, `homecare assess FILE`,
`homecare round YYYY-MM` and `homecare notices close`."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from contracts import subjects
from services.dispatch.registry.rows import BadRow, FileError, GoodRow, Kind, read_rows
from services.infra.settings import Settings

import_app = typer.Typer(
    help="Import households or caregivers from CSV or JSON.", no_args_is_help=True
)
console = Console()
SUBJECTS: dict[Kind, tuple[str, str]] = {
    "households": (subjects.REGISTER_HOUSEHOLD, "dispatch_register_household"),
    "caregivers": (subjects.REGISTER_CAREGIVER, "dispatch_register_caregiver"),
}

FileArg = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="A .csv or .json file (UTF-8)."
    ),
]
DryRun = Annotated[bool, typer.Option(help="Check the file only; send nothing.")]
Wait = Annotated[
    float,
    typer.Option(help="Give up waiting for dispatch after this many seconds without progress."),
]
notices_app = typer.Typer(help="The 3-day public notices (B2 own-child caregivers).")


@import_app.command("households")
def import_households(file: FileArg, dry_run: DryRun = False, wait: Wait = 60.0) -> None:
    """Import households; bad rows are reported with their line and reason, good rows kept.
    Importing the same file again changes nothing."""
    _import("households", file, dry_run, wait)


@import_app.command("caregivers")
def import_caregivers(file: FileArg, dry_run: DryRun = False, wait: Wait = 60.0) -> None:
    """Import caregivers; bad rows are reported with their line and reason, good rows kept.
    Importing the same file again changes nothing."""
    _import("caregivers", file, dry_run, wait)


def _import(kind: Kind, file: Path, dry_run: bool, wait: float) -> None:
    try:
        good, bad = read_rows(kind, file.name, file.read_text(encoding="utf-8"))
    except (FileError, UnicodeDecodeError) as exc:
        console.print(f"[red]{file}: {exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"{file}: {len(good) + len(bad)} {kind}, {len(good)} valid, {len(bad)} rejected")
    _report(bad)
    if good and not dry_run:
        settings = Settings()
        servers = settings.client_servers()
        url = ",".join(servers)
        try:
            asyncio.run(_send(kind, good, servers, wait))
        except (OSError, TimeoutError) as exc:
            console.print(f"[red]could not reach the system at {url}: {exc!r}[/red]")
            raise typer.Exit(2) from exc
    raise typer.Exit(1 if bad else 0)


def _report(bad: list[BadRow]) -> None:
    if not bad:
        return
    table = Table(title="rejected rows (not imported)")
    table.add_column("line", justify="right")
    table.add_column("reason")
    for row in bad:
        table.add_row(str(row.line), row.reason)
    console.print(table)


async def _send(kind: Kind, good: list[GoodRow], servers: list[str], wait: float) -> None:
    subject, consumer = SUBJECTS[kind]
    applied = await _send_and_wait(
        servers, "homecare-import", [(subject, row.payload) for row in good], consumer, wait
    )
    if applied:
        console.print("dispatch has applied them (unchanged rows change nothing)")


async def _send_and_wait(
    servers: list[str], name: str, items: list[tuple[str, Any]], consumer: str, wait: float
) -> bool:
    """Send commands to dispatch and wait, with a progress bar, until its consumer has
    applied everything sent; gives up after ``wait`` seconds without progress (a city's
    registry takes minutes, a stopped dispatch never comes)."""
    from nats.js.errors import NotFoundError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from services.client import BusClient

    async with await BusClient.connect_once(servers, name) as client:
        await client.send_many(items, timeout=30)
        console.print(f"sent {len(items)} to dispatch; waiting for it to apply them ...")
        loop = asyncio.get_running_loop()
        left, last_change = -1, loop.time()
        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("applied 已处理", total=len(items))
            while True:
                try:
                    info = await client.js.consumer_info(subjects.DISPATCH_STREAM, consumer)
                except NotFoundError:  # dispatch never ran on this bus: nothing to wait for
                    break
                pending = info.num_pending + info.num_ack_pending
                if pending == 0:
                    return True
                if pending != left:
                    left, last_change = pending, loop.time()
                    progress.update(task, completed=max(0, len(items) - pending))
                elif loop.time() - last_change > wait:
                    break
                await asyncio.sleep(0.2)
    console.print(
        f"[yellow]dispatch has not applied them all yet (nothing for {wait:.0f} s); they are "
        "stored and will be applied when it runs[/yellow]"
    )
    return False


def assess(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="Applications: a JSON list (domain.md §7).",
        ),
    ],
    policy: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="A JSON list of eligibility policies with "
            "effective dates (default: the 2002 Dalian policy).",
        ),
    ] = None,
) -> None:
    """Assess eligibility applications and print the results as a JSON list, in input order.

    A bad application gets an error entry naming the field; the others are still assessed."""
    from services.dispatch.eligibility.assess_file import DocumentError, assess_document, render
    from services.dispatch.eligibility.policy import (
        DEFAULT_POLICY_BOOK,
        PolicyError,
        load_policy_book,
    )

    try:
        book = load_policy_book(policy) if policy else DEFAULT_POLICY_BOOK
        results = assess_document(file.read_text(encoding="utf-8"), book)
    except (DocumentError, PolicyError, UnicodeDecodeError) as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    text = render(results)
    typer.echo(text, nl=not text.endswith("\n"))


def round_(
    month: Annotated[str, typer.Argument(help="The round, YYYY-MM.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a monthly round's applications with their assessed category, rules and status
    (asks the running dispatch service)."""
    from contracts.dispatch.eligibility_v1 import RoundApplications, RoundQuery

    try:
        query = RoundQuery(round=month)
    except ValueError as exc:
        typer.echo("the round is YYYY-MM", err=True)
        raise typer.Exit(2) from exc
    from services.client import ask_once

    servers = Settings().client_servers()
    try:
        answer = asyncio.run(
            ask_once(servers, "homecare-round", subjects.RPC_ROUND, query, RoundApplications)
        )
    except Exception as exc:
        typer.echo(f"dispatch did not answer at {','.join(servers)}: {exc!r}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    table = Table(title=f"round {answer.round}: {len(answer.applications)} applications")
    for col in ("application", "household", "received", "category", "rules", "subsidy", "status"):
        table.add_column(col)
    for a in answer.applications:
        table.add_row(
            a.application_id,
            a.household_id,
            a.received_on.isoformat(),
            a.category or "-",
            ",".join(a.rules),
            a.monthly_subsidy,
            a.status,
        )
    console.print(table)


@notices_app.command("close")
def close_notices(
    on: Annotated[
        str | None,
        typer.Option(
            help="Close notices whose last day ended before this date (YYYY-MM-DD); "
            "default: today. A date after dispatch's today counts as its today."
        ),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for dispatch.")] = 30.0,
) -> None:
    """Confirm every public notice whose three days passed without objection: the
    applications are approved and their categories take effect (CategoryApproved). Meant to
    run once a day (cron or a systemd timer); running it twice changes nothing."""
    from contracts.dispatch.eligibility_v1 import CloseNotices

    settings = Settings()
    try:
        day = date.fromisoformat(on) if on else datetime.now(settings.tz).date()
    except ValueError as exc:
        typer.echo(f"--on {on!r}: the date is YYYY-MM-DD", err=True)
        raise typer.Exit(2) from exc
    try:
        applied = asyncio.run(
            _send_and_wait(
                settings.client_servers(),
                "homecare-notices",
                [(subjects.CLOSE_NOTICES, CloseNotices(on=day))],
                "dispatch_close_notices",
                wait,
            )
        )
    except Exception as exc:
        typer.echo(
            f"could not reach NATS at {','.join(settings.client_servers())}: {exc!r}", err=True
        )
        raise typer.Exit(2) from exc
    if applied:
        console.print(f"dispatch closed the notices that ended before {day.isoformat()}")
