"""The `homecare` command."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from contracts.subjects import SERVICES
from services.cli_billing import billing_app
from services.cli_console import console_app
from services.cli_deploy import deploy_app
from services.cli_dispatch import assess, import_app, notices_app, round_
from services.cli_dlq import dlq_app
from services.cli_scheduling import (
    carer_app,
    diary_app,
    holidays_app,
    notify,
    shifts,
    visit_app,
)
from services.infra.clock import SystemClock
from services.infra.logging import configure_logging
from services.infra.nats_server import NatsCluster, NatsServer
from services.infra.settings import Settings, clock_for

app = typer.Typer(
    help="homecare: Dalian-model community home-care dispatch on NATS.",
    no_args_is_help=True,
    add_completion=False,
)
contracts_app = typer.Typer(help="Wire contracts (JSON Schema, AsyncAPI).", no_args_is_help=True)
app.add_typer(contracts_app, name="contracts")
app.add_typer(import_app, name="import")
app.add_typer(notices_app, name="notices")
app.add_typer(carer_app, name="carer")
app.add_typer(visit_app, name="visit")
app.add_typer(diary_app, name="diary")
app.add_typer(holidays_app, name="holidays")
app.add_typer(billing_app, name="billing")
app.add_typer(console_app, name="console")
app.add_typer(deploy_app, name="deploy")
app.add_typer(dlq_app, name="dlq")
app.command()(shifts)
app.command()(notify)
app.command()(assess)
app.command(name="round")(round_)
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic names the bad variable
        err.print(f"[red]invalid HOMECARE_ settings:[/red] {exc}")
        raise typer.Exit(2) from exc


# What `homecare up/run/migrate/status` know: the three services and the web console.
RUNNABLE = (*SERVICES, "console")


def _check_services(names: list[str]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in RUNNABLE]
    if unknown:
        err.print(
            f"[red]unknown service {', '.join(unknown)}[/red]; choose from {', '.join(RUNNABLE)}"
        )
        raise typer.Exit(2)
    return tuple(names)


async def _serve(
    settings: Settings, names: tuple[str, ...], nats_urls: dict[str, str] | None = None
) -> None:
    from services.system import System

    system = System(settings, clock_for(settings), names, nats_urls)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await system.start()
    where = settings.nats_url if not nats_urls else "the secure bus"
    console.print(f"[green]running[/green] {', '.join(names)} on {where} (Ctrl-C stops gracefully)")
    if system.metrics_address:
        console.print(
            f"[green]metrics[/green] on {system.metrics_address}/metrics "
            "(health: /health, /health/live)"
        )
    if "console" in names:
        from services.console.app import web_of

        console.print(f"[green]console[/green] on {web_of(system['console']).address}")
    await stop.wait()
    console.print("stopping: finishing in-flight messages ...")
    await system.stop()
    console.print("stopped")


@app.command()
def up(
    only: Annotated[list[str] | None, typer.Option(help="Run only these services.")] = None,
    secure: Annotated[
        bool,
        typer.Option(
            "--secure",
            help="The embedded server with a user per service, limited to its own subjects "
            "(docs/bus-permissions.md); the admin URL for commands goes to var/nats/admin-url.",
        ),
    ] = False,
    cluster: Annotated[
        int | None,
        typer.Option(
            "--cluster",
            min=1,
            max=5,
            help="Start N nats-servers on loopback forming one JetStream cluster (client ports "
            "HOMECARE_NATS_PORT and up, data in var/nats-cluster) with streams replicated on "
            "up to 3 of them.",
        ),
    ] = None,
) -> None:
    """Start everything here: embedded nats-server (unless HOMECARE_NATS_URL), all services
    and the web console.

    The embedded server keeps JetStream data under var/nats; dispatch, scheduling, billing and
    the console run in this one process; the console's address is printed (settings
    HOMECARE_CONSOLE_HOST/PORT; users: `homecare console user add`). Ctrl-C stops gracefully."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    names = _check_services(only or list(RUNNABLE))
    server: NatsServer | NatsCluster | None = None
    nats_urls: dict[str, str] | None = None
    if (secure or cluster) and settings.nats_url:
        err.print(
            "[red]--secure and --cluster start embedded servers: unset HOMECARE_NATS_URL[/red]"
        )
        raise typer.Exit(2)
    if secure and cluster:
        err.print("[red]--secure and --cluster do not go together yet[/red]: choose one")
        raise typer.Exit(2)
    if cluster:
        ports = [settings.nats_port + i for i in range(cluster)]
        server = NatsCluster(
            settings.var_dir / "nats-cluster", cluster, sync_always=True, client_ports=ports
        ).start()
        replicas = min(3, cluster)
        settings = settings.model_copy(update={"nats_url": server.url, "stream_replicas": replicas})
        console.print(
            f"embedded NATS cluster of {cluster} nodes on {server.url} (data in "
            f"{server.root}, streams replicated on {replicas}, every write synced to disk)"
        )
    elif secure:
        from services.secure_bus import start_secure_bus

        bus = start_secure_bus(settings.var_dir / "nats", settings.nats_port)
        server = bus.server
        nats_urls = {name: bus.url_for(name) for name in names}
        settings = settings.model_copy(update={"nats_url": bus.admin_url})
        console.print(
            f"embedded nats-server on {server.url} with a user per service (data in "
            f"{server.store_dir}, every write synced to disk); commands use the admin URL "
            f"in {server.store_dir / 'admin-url'} (HOMECARE_NATS_URL)"
        )
    elif not settings.nats_url:
        server = NatsServer(
            settings.var_dir / "nats", port=settings.nats_port, sync_always=True
        ).start()
        settings = settings.model_copy(update={"nats_url": server.url})
        console.print(
            f"embedded nats-server on {server.url} (data in {server.store_dir}, "
            "every write synced to disk)"
        )
    try:
        asyncio.run(_serve(settings, names, nats_urls))
    finally:
        if server:
            server.stop()


@app.command()
def run(
    service: Annotated[str, typer.Argument(help="dispatch | scheduling | billing | console")],
) -> None:
    """Run one service alone against HOMECARE_NATS_URL (production)."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    names = _check_services([service])
    if not settings.nats_url:
        err.print(
            "[red]HOMECARE_NATS_URL is not set[/red]: `homecare run` joins an existing "
            "NATS server; use `homecare up` for the embedded one"
        )
        raise typer.Exit(2)
    asyncio.run(_serve(settings, names))


@app.command()
def migrate(
    service: Annotated[list[str] | None, typer.Argument(help="Services (default: all).")] = None,
    bus: Annotated[
        bool | None,
        typer.Option(
            "--bus/--no-bus",
            help="Also declare the JetStream streams (HOMECARE_STREAM_REPLICAS copies) and the "
            "services' durable consumers on HOMECARE_NATS_URL. Default: when the URL is set.",
        ),
    ] = None,
) -> None:
    """Apply each service's database migrations and declare the streams and consumers on the
    bus (services do both on start too; run this first on a new cluster or after an upgrade)."""
    from services.infra.bus.streams import apply_definitions
    from services.system import System

    settings = _settings()
    configure_logging("WARNING", settings.log_format)
    names = _check_services(service or list(RUNNABLE))
    if bus and not settings.nats_url:
        err.print("[red]--bus needs HOMECARE_NATS_URL[/red] (the cluster's URLs, comma separated)")
        raise typer.Exit(2)
    system = System(settings, SystemClock(settings.tz), names)
    asyncio.run(system.migrate())
    for name in names:
        url = make_url(settings.database_url_for(name)).render_as_string(hide_password=True)
        console.print(f"{name}: migrated ({url})")
    if bus is False or not settings.nats_url:
        console.print("bus: not declared (no HOMECARE_NATS_URL); services declare it on start")
        return
    durables = [spec for svc in system.services for spec in svc.durables]
    try:
        lines = asyncio.run(
            apply_definitions(
                settings.nats_servers(),
                durables,
                settings.stream_replicas,
                settings.ack_wait_seconds,
            )
        )
    except Exception as exc:  # no server, no JetStream, too few nodes for the replicas
        err.print(f"[red]declaring streams on {settings.nats_url} failed:[/red] {exc!r}")
        raise typer.Exit(1) from exc
    for line in lines:
        console.print(f"bus: {line}")


@app.command()
def status(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each service.")] = 2.0,
) -> None:
    """Ask each service for its health over the bus and print a table: one row per running
    instance; exit 1 when a service has none."""
    settings = _settings()
    servers = settings.client_servers()
    url = ",".join(servers)
    try:
        reports = asyncio.run(_health(servers, timeout))
    except ConnectionError:
        console.print(
            f"[red]no NATS server at {url}[/red]: start one with `homecare up`, "
            "or set HOMECARE_NATS_URL"
        )
        raise typer.Exit(1) from None
    table = Table(title=f"homecare on {url}")
    for col in ("service", "status", "instance", "outbox", "dead letters", "consumers"):
        table.add_column(col)
    down = 0
    for name, answers in reports.items():
        if isinstance(answers, str):
            down += 1
            table.add_row(name, f"[red]{answers}[/red]", "", "", "", "")
            continue
        for report in answers:  # one row per running instance
            table.add_row(
                name,
                report.status,
                report.instance,
                str(report.outbox_backlog),
                str(report.dead_letters),
                str(len(report.consumers)),
            )
    console.print(table)
    raise typer.Exit(1 if down else 0)


async def _health(servers: list[str], timeout: float) -> dict[str, Any]:
    from services.client import BusClient

    try:
        client = await BusClient.connect_once(servers, "homecare-status")
    except Exception as exc:
        raise ConnectionError(",".join(servers)) from exc
    results: dict[str, Any] = {}
    async with client:
        answers = await asyncio.gather(
            *(client.health_of_instances(name, timeout) for name in RUNNABLE)
        )
        for name, reports in zip(RUNNABLE, answers, strict=True):
            results[name] = reports or f"no answer within {timeout:g}s"
    return results


@contracts_app.command("export")
def contracts_export(
    check: Annotated[bool, typer.Option(help="Only report stale files; exit 1 if any.")] = False,
) -> None:
    """Write the JSON Schemas and the AsyncAPI document into contracts/."""
    from contracts.export import check_contracts, export_contracts

    if check:
        stale = check_contracts()
        for path in stale:
            console.print(f"stale: {path}")
        raise typer.Exit(1 if stale else 0)
    for written in export_contracts():
        console.print(f"wrote {written}")


@app.command()
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    month: Annotated[str, typer.Option(help="Month to simulate, YYYY-MM.")] = "2026-11",
    households: Annotated[int, typer.Option(min=1, max=5000)] = 120,
    caregivers: Annotated[int, typer.Option(min=1, max=5000)] = 80,
    output: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
) -> None:
    """Run a demo month of Zhongshan Park street through the real services and print a summary.

    Starts its own nats-server, seeds 4 stations, ~120 households and ~80 caregivers, and
    drives requests, shifts, visits and billing on simulated time. Output goes to var/demo."""
    from services.demo.report import print_summary
    from services.demo.run import run_demo

    settings = _settings()
    out = output or settings.var_dir / "demo"
    try:
        datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        err.print("[red]--month must be YYYY-MM[/red]")
        raise typer.Exit(2) from exc
    out.mkdir(parents=True, exist_ok=True)
    log_path = out.parent / f"{out.name}.log"
    with open(log_path, "w") as log_file:
        configure_logging("INFO", "json", stream=log_file)
        with err.status("starting") as spinner:
            summary = asyncio.run(
                run_demo(
                    settings,
                    out,
                    month,
                    households,
                    caregivers,
                    progress=lambda what, n, total: spinner.update(f"{what} ({n}/{total})"),
                )
            )
    data = dataclasses.asdict(summary)
    data["log_file"] = str(log_path)
    (out / "summary.json").write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        print_summary(console, data)


def main() -> None:
    app()
