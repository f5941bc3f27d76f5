"""Billing commands: `homecare billing compute FILE` (offline, from a scenario file), `run`
and `close` (ask the billing service)."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from contracts import subjects
from services.cli_common import payload_or_exit
from services.infra.settings import Settings

console = Console()

billing_app = typer.Typer(
    help="Monthly billing: compute, run, close, statements and exports.", no_args_is_help=True
)


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    path = Path(file)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        typer.echo(f"{file}: file not found 文件不存在", err=True)
    except IsADirectoryError:
        typer.echo(f"{file}: is a folder, not a file 不是文件", err=True)
    except OSError as exc:
        typer.echo(f"{file}: cannot read it 无法读取: {exc.strerror or exc}", err=True)
    raise typer.Exit(2)


@billing_app.command("compute")
def compute(
    file: Annotated[
        str,
        typer.Argument(
            help="A billing scenario (JSON object, domain.md §7), or - to read standard input."
        ),
    ],
) -> None:
    """Bill one month offline from a scenario file and print the result as JSON (§7).

    Nothing is stored and no service is asked. Visits that are not billed (household not
    enrolled that day, not listed, or outside the month) are listed under "warnings"; a
    malformed scenario is refused (exit 2) with the path of every bad field."""
    from services.billing.scenario import ScenarioError, bill_scenario, read_scenario, render

    name = "stdin" if file == "-" else file
    data = _read(file)
    try:
        scenario = read_scenario(data)
    except ScenarioError as exc:
        typer.echo(
            f"{name}: invalid billing scenario 计费情景文件有误 ({len(exc.problems)} problem(s)):",
            err=True,
        )
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from exc
    sys.stdout.write(render(bill_scenario(scenario)))


@billing_app.command("policy")
def policy(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="A policy file to check (default: HOMECARE_BILLING_POLICY_FILE, else the "
            "built-in default policy).",
        ),
    ] = None,
) -> None:
    """Show the monthly fee and subsidy table by effective date, as billing would use it.

    Checks a policy file before it is deployed: a file that cannot be used is refused
    (exit 2) with every problem and its path."""
    from rich.table import Table

    from services.billing.policy_file import PolicyFileError, load_policy_schedule

    path = file if file is not None else Settings().billing_policy_file
    try:
        schedule = load_policy_schedule(path)
    except PolicyFileError as exc:
        typer.echo(
            f"{path}: invalid billing policy 计费政策文件有误 ({len(exc.problems)} problem(s)):",
            err=True,
        )
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from exc
    source = str(path) if path is not None else "default policy 默认政策 (domain.md §6)"
    table = Table(title=f"Billing policy 计费政策: {source}")
    table.add_column("from 起始日期")
    table.add_column("monthly fee 月服务费", justify="right")
    for category in ("A", "B", "C", "D"):
        table.add_column(f"{category} subsidy 补贴", justify="right")
    for start, entry in schedule.entries:
        table.add_row(
            "(always 一直)" if start == date.min else start.isoformat(),
            str(entry.monthly_fee),
            *(str(entry.subsidy[c]) for c in ("A", "B", "C", "D")),
        )
    console.print(table)


Month = Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")]
By = Annotated[str, typer.Option("--by", help="Who asks (kept with the run).")]


@billing_app.command("run")
def run(
    month: Month,
    by: By = "finance",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the result.")] = 900.0,
) -> None:
    """Ask the billing service to bill a month from what it has seen, with a progress bar.

    The same inputs give the same result and revision; changed inputs a new revision with
    adjustment lines against the previous one. A closed month is refused (exit 1)."""
    from contracts.billing.runs_v1 import RunBilling

    cmd = payload_or_exit(RunBilling, month=month, requested_by=by)
    outcome = asyncio.run(_run_with_progress(cmd, timeout))
    subject, payload = outcome
    if subject == subjects.BILLING_RUN_REJECTED:
        console.print(f"[red]refused 拒绝[/red]: {payload['reason_zh']} ({payload['reason']})")
        raise typer.Exit(1)
    _print_run(payload)


@billing_app.command("close")
def close(month: Month, by: By = "finance") -> None:
    """Close a month at its latest revision: it is never rewritten after, and corrections
    that arrive later go into the next month's run as adjustment lines."""
    from contracts.billing.runs_v1 import CloseMonth
    from services.client import BusClient

    cmd = payload_or_exit(CloseMonth, month=month, closed_by=by)
    servers = Settings().client_servers()

    async def send() -> tuple[str, dict[str, Any]]:
        async with await BusClient.connect_once(servers, "homecare-billing") as client:
            return await client.command(
                subjects.CLOSE_MONTH, cmd, [subjects.MONTH_CLOSED, subjects.BILLING_RUN_REJECTED]
            )

    try:
        got, payload = asyncio.run(send())
    except TimeoutError as exc:
        typer.echo("sent; billing has not answered yet (it will when it runs)", err=True)
        raise typer.Exit(2) from exc
    except Exception as exc:
        typer.echo(f"could not send to {','.join(servers)}: {exc!r}", err=True)
        raise typer.Exit(2) from exc
    if got == subjects.BILLING_RUN_REJECTED:
        console.print(f"[red]refused 拒绝[/red]: {payload['reason_zh']} ({payload['reason']})")
        raise typer.Exit(1)
    t = payload["totals"]
    console.print(
        f"[green]{month} closed 已结账[/green] at revision 第 {payload['revision']} 版: "
        f"charge 服务费 {t['charge']}, subsidy 补贴 {t['subsidy']}, "
        f"family 自付 {t['family_share']}"
    )


@billing_app.command("documents")
def documents(
    month: Month,
    out: Annotated[
        Path | None, typer.Option(help="Folder (default: HOMECARE_VAR_DIR/billing).")
    ] = None,
    revision: Annotated[int | None, typer.Option(help="Revision (default: the latest).")] = None,
    household: Annotated[
        list[str] | None, typer.Option(help="Only this household's statement (repeat).")
    ] = None,
    caregiver: Annotated[
        list[str] | None, typer.Option(help="Only this caregiver's payslip (repeat).")
    ] = None,
    statements: Annotated[bool, typer.Option(help="Household statements.")] = True,
    payslips: Annotated[bool, typer.Option(help="Caregiver payslips.")] = True,
) -> None:
    """Write a revision's documents: household statements and caregiver payslips (HTML and
    PDF), the subsidy claim summary (marked draft until the month is closed), and every
    table as CSV and XLSX, under OUT/<month>/r<revision>/. Reads billing's database (run it
    where billing runs)."""
    from services.billing.app import policy_schedule
    from services.billing.documents import NoRevision, write_documents
    from services.billing.store import plumbing
    from services.infra.bus.store import MessageStore
    from services.infra.clock import SystemClock
    from services.infra.db import create_engine_for

    _check_month(month)
    settings = Settings()
    folder = out or settings.var_dir / "billing"
    url = settings.database_url_for("billing")

    async def write() -> Any:
        engine = create_engine_for(url, "billing")
        store = MessageStore(engine, plumbing, "billing", SystemClock(settings.tz))
        try:
            with _bar() as (bar, task):

                def progress(what: str, done: int, total: int) -> None:
                    bar.update(
                        task,
                        description=what,
                        completed=done,
                        total=total,
                        count=f"{done:,}/{total:,}",
                    )

                return await write_documents(
                    store,
                    month,
                    folder,
                    policy_schedule(settings),
                    settings.district,
                    revision=revision,
                    households=set(household) if household else None,
                    caregivers=set(caregiver) if caregiver else None,
                    statements=statements,
                    payslips=payslips,
                    progress=progress,
                )
        finally:
            await engine.dispose()

    try:
        written = asyncio.run(write())
    except NoRevision as exc:
        typer.echo(f"{exc} 尚无结算", err=True)
        raise typer.Exit(1) from exc
    except Exception as exc:
        typer.echo(f"could not write the documents from {url}: {exc!r}", err=True)
        raise typer.Exit(2) from exc
    state = "closed 已结账" if written.closed else "draft 草稿 (month not closed)"
    console.print(
        f"[green]{written.month} revision 第 {written.revision} 版[/green] ({state}): "
        f"{written.statements} statement(s) 结算单, {written.payslips} payslip(s) 工资单, "
        f"claim summary 补贴申领汇总表, tables 报表 (CSV, XLSX)"
    )
    console.print(f"in 位于 {written.folder}")


def _check_month(month: str) -> None:
    from pydantic import TypeAdapter, ValidationError

    from contracts.types import Month as MonthType

    try:
        TypeAdapter(MonthType).validate_python(month)
    except ValidationError as exc:
        typer.echo(f"--month {month!r}: use YYYY-MM, e.g. 2026-11", err=True)
        raise typer.Exit(2) from exc


def _bar() -> Any:
    from contextlib import contextmanager

    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    @contextmanager
    def bar() -> Any:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[count]}"),
            console=console,
            transient=True,
        ) as progress:
            yield progress, progress.add_task("", total=None, count="")

    return bar()


async def _run_with_progress(cmd: Any, timeout: float) -> tuple[str, dict[str, Any]]:
    """Send RunBilling and follow it: its progress notes (core NATS) and its answer."""
    import json

    from contracts.billing.runs_v1 import BillingProgress
    from contracts.envelope import new_id
    from services.client import BusClient

    servers = Settings().client_servers()
    run_id = new_id()
    answer: asyncio.Future[tuple[str, dict[str, Any]]] = asyncio.get_running_loop().create_future()
    try:
        client = await BusClient.connect_once(servers, "homecare-billing")
    except Exception as exc:
        typer.echo(f"could not connect to {','.join(servers)}: {exc!r}", err=True)
        raise typer.Exit(2) from exc
    async with client:
        with _bar() as (bar, task):
            bar.update(task, description=f"billing 结算 {cmd.month}")

            async def progress(msg: Any) -> None:
                note = BillingProgress.model_validate_json(msg.data)
                count = f"{note.done:,}/{note.total:,} households 户"
                bar.update(task, completed=note.done, total=note.total, count=count)

            async def answered(msg: Any) -> None:
                mine = (msg.headers or {}).get("Homecare-Correlation-Id") == run_id
                if mine and not answer.done():
                    answer.set_result((msg.subject, json.loads(msg.data)["payload"]))

            subs = [
                await client.nc.subscribe(
                    subjects.BILLING_PROGRESS_PATTERN.format(run_id=run_id), cb=progress
                ),
                await client.nc.subscribe(subjects.BILLING_RUN_COMPLETED, cb=answered),
                await client.nc.subscribe(subjects.BILLING_RUN_REJECTED, cb=answered),
            ]
            await client.nc.flush()
            await client.send(subjects.RUN_BILLING, cmd, correlation_id=run_id, event_id=run_id)
            try:
                async with asyncio.timeout(timeout):
                    return await answer
            except TimeoutError as exc:
                typer.echo(
                    f"the run is accepted (run {run_id}) but did not finish in {timeout:.0f} s; "
                    "it goes on in the billing service",
                    err=True,
                )
                raise typer.Exit(2) from exc
            finally:
                for sub in subs:
                    await sub.unsubscribe()


def _print_run(p: dict[str, Any]) -> None:
    from rich.table import Table

    state = "new revision 新版本" if p["new_revision"] else "unchanged 与上版相同"
    table = Table(title=f"billing 结算 {p['month']} · revision 第 {p['revision']} 版 ({state})")
    table.add_column("")
    table.add_column("yuan 元", justify="right")
    t = p["totals"]
    for label, key in (
        ("charge 服务费", "charge"),
        ("subsidy 政府补贴", "subsidy"),
        ("family share 家庭自付", "family_share"),
        ("caregivers' pay 养护员报酬", "pay"),
    ):
        table.add_row(label, t[key])
    console.print(table)
    console.print(
        f"{p['households']:,} households 户, {p['caregivers']:,} caregivers 名养护员, "
        f"{p['visits']:,} visits 次; {p['adjustments']} adjustment line(s) 调整, "
        f"{p['corrections']} correction(s) of closed months 往月更正, "
        f"{p['warnings']} warning(s) 提示; run by {p['requested_by']}; "
        f"inputs {p['fingerprint'][:12]}"
    )
