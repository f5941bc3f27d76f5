"""Scheduling commands: `homecare shifts`, `homecare carer inbox`, `homecare visit
check-in|check-out`, `homecare diary add` and `homecare holidays list|window`."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from contracts import subjects
from services.cli_common import payload_or_exit
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


visit_app = typer.Typer(help="A caregiver's check-in and check-out.", no_args_is_help=True)
diary_app = typer.Typer(help="A caregiver's daily diary.", no_args_is_help=True)

Caregiver = Annotated[str, typer.Option("--caregiver", "-c", help="The caregiver, e.g. C0001.")]
At = Annotated[
    str | None, typer.Option(help="When, ISO 8601 (default: now in HOMECARE_TIME_ZONE).")
]
Lat = Annotated[float | None, typer.Option(help="Latitude, when the phone has one.")]
Lon = Annotated[float | None, typer.Option(help="Longitude, when the phone has one.")]
VISIT_ANSWERS = [subjects.VISIT_CHECKED_IN, subjects.VISIT_COMPLETED, subjects.VISIT_REJECTED]


Shift = Annotated[str, typer.Argument(help="The shift id, e.g. SH-H0001-20261102.")]


@visit_app.command("check-in")
def check_in(
    shift: Shift, caregiver: Caregiver, at: At = None, lat: Lat = None, lon: Lon = None
) -> None:
    """Arrived at the household: the station's board shows the visit under way."""
    from contracts.scheduling.v1 import CheckIn

    _visit_stamp(subjects.CHECK_IN, CheckIn, shift, caregiver, at, lat, lon)


@visit_app.command("check-out")
def check_out(
    shift: Shift, caregiver: Caregiver, at: At = None, lat: Lat = None, lon: Lon = None
) -> None:
    """Leaving the household: the visit is recorded (and counted by billing)."""
    from contracts.scheduling.v1 import CheckOut

    _visit_stamp(subjects.CHECK_OUT, CheckOut, shift, caregiver, at, lat, lon)


def _visit_stamp(
    subject: str,
    model: Any,
    shift: str,
    caregiver: str,
    at: str | None,
    lat: float | None,
    lon: float | None,
) -> None:
    cmd = payload_or_exit(
        model, shift_id=shift, caregiver_id=caregiver, at=_when(at), latitude=lat, longitude=lon
    )
    _answer(subject, cmd, VISIT_ANSWERS)


@diary_app.command("add")
def diary_add(
    household: Annotated[str, typer.Option("--household", help="The household, e.g. H0001.")],
    caregiver: Caregiver,
    appetite: Annotated[str, typer.Option(help="good | fair | poor | none")],
    mood: Annotated[str, typer.Option(help="good | calm | low | agitated")],
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")] = None,
    task: Annotated[list[str] | None, typer.Option(help="A task done (repeat the option).")] = None,
    sign: Annotated[
        list[str] | None,
        typer.Option(help="fall | fever | breathing | confusion | pain | injury | other (repeat)."),
    ] = None,
    notes: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Record the day's diary for a household; warning signs alert the family doctor."""
    from contracts.scheduling.diary_v1 import RecordDiary

    cmd = payload_or_exit(
        RecordDiary,
        household_id=household,
        caregiver_id=caregiver,
        date=day or _when(None).date().isoformat(),
        tasks=tuple(task or ()),
        appetite=appetite,
        mood=mood,
        health_signs=tuple(sign or ()),
        notes=notes,
    )
    # the warning comes after DiaryRecorded in the same commit: listen for it first
    _answer(subjects.RECORD_DIARY, cmd, [subjects.HEALTH_WARNING, subjects.DIARY_RECORDED])


holidays_app = typer.Typer(
    help="Public holidays (法定节假日) and households' holiday visit windows.",
    no_args_is_help=True,
)


@holidays_app.command("list")
def holidays_list(
    year: Annotated[int | None, typer.Option(help="The year (default: this year).")] = None,
) -> None:
    """The public holidays of a year, from the official calendar and HOMECARE_HOLIDAYS_FILE."""
    from services.scheduling.app import holiday_calendar

    settings = Settings()
    year = year or datetime.now(settings.tz).year
    try:
        calendar = holiday_calendar(settings)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if not calendar.knows(year):
        typer.echo(
            f"no holiday data for {year} 无该年数据: add its holidays in HOMECARE_HOLIDAYS_FILE "
            "(docs/holidays.md)",
            err=True,
        )
        raise typer.Exit(1)
    days = calendar.holidays(year)
    for day, name in days:
        console.print(f"{day} {'一二三四五六日'[day.weekday()]} {name}")
    console.print(f"{len(days)} day(s) 天")


@holidays_app.command("window")
def holiday_window(
    household: Annotated[str, typer.Argument(help="The household, e.g. H0001.")],
    window: Annotated[
        str | None, typer.Argument(help="HH:MM-HH:MM, e.g. 14:00-16:00; omit with --usual.")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who recorded the household's request.")] = "",
    usual: Annotated[
        bool, typer.Option("--usual", help="Back to the usual window on holidays.")
    ] = False,
) -> None:
    """Visit the household in another window on public holidays, as it asked (applies to
    shifts generated from now on)."""
    from contracts.scheduling.v1 import SetHolidayWindow

    if usual == (window is not None):
        typer.echo("give a window HH:MM-HH:MM or --usual (one of them)", err=True)
        raise typer.Exit(2)
    visit_window = None
    if window is not None:
        start, sep, end = window.partition("-")
        if not sep:
            typer.echo(f"{window!r}: use HH:MM-HH:MM, e.g. 14:00-16:00", err=True)
            raise typer.Exit(2)
        visit_window = (start.strip(), end.strip())
    cmd = payload_or_exit(
        SetHolidayWindow,
        household_id=household,
        visit_window=visit_window,
        requested_by=by or "console",
    )
    _answer(subjects.SET_HOLIDAY_WINDOW, cmd, [subjects.HOLIDAY_WINDOW_SET])


def _when(at: str | None) -> datetime:
    settings = Settings()
    if at is None:
        return datetime.now(settings.tz)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError as exc:
        typer.echo(f"--at {at!r}: use ISO 8601, e.g. 2026-11-02T09:05", err=True)
        raise typer.Exit(2) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.tz)


def _generate(servers: list[str], day: date) -> None:
    """GenerateShifts for ``day``; prints what scheduling made (exit 2 if it did not answer)."""
    from contracts.scheduling.v1 import GenerateShifts
    from services.client import BusClient

    async def send() -> tuple[str, dict[str, Any]]:
        async with await BusClient.connect_once(servers, "homecare-shifts") as client:
            return await client.command(
                subjects.GENERATE_SHIFTS,
                GenerateShifts(date=day),
                [subjects.SHIFTS_GENERATED],
                timeout=120,  # a city's day takes seconds
            )

    try:
        _, made = asyncio.run(send())
    except Exception as exc:  # not answered in time, or no server
        typer.echo(f"generating the shifts of {day} was not confirmed: {exc!r}", err=True)
        raise typer.Exit(2) from exc
    console.print(
        f"generated 已生成 {day}: {made['created']} new, {made['already_present']} already "
        f"there, {made.get('paused', 0)} paused, {made.get('uncovered', 0)} uncovered"
    )


def _answer(subject: str, cmd: Any, answers: list[str]) -> None:
    """Send and print what scheduling answered (exit 1 on a refusal, 2 when nobody answers)."""
    from services.client import BusClient

    servers = Settings().client_servers()

    async def send() -> tuple[str, dict[str, Any]]:
        async with await BusClient.connect_once(servers, "homecare-carer") as client:
            return await client.command(subject, cmd, answers)

    try:
        got, payload = asyncio.run(send())
    except TimeoutError as exc:
        typer.echo(
            "sent; scheduling has not answered yet (it will apply it when it runs)", err=True
        )
        raise typer.Exit(2) from exc
    except Exception as exc:
        typer.echo(f"could not send to {','.join(servers)}: {exc!r}", err=True)
        raise typer.Exit(2) from exc
    if got == subjects.VISIT_REJECTED:
        console.print(f"[red]refused 拒绝[/red]: {payload['reason']}")
        raise typer.Exit(1)
    if got == subjects.HEALTH_WARNING:
        console.print(
            f"[yellow]recorded; warning sent 已通知家庭医生[/yellow]: "
            f"{payload['reason_zh']} ({payload['reason']})"
        )
        return
    label = {
        subjects.VISIT_CHECKED_IN: "checked in 已签到",
        subjects.VISIT_COMPLETED: "visit recorded 服务已记录",
        subjects.DIARY_RECORDED: "diary recorded 日志已记录",
        subjects.HOLIDAY_WINDOW_SET: "holiday window set 节假日服务时间已设置",
    }[got]
    console.print(f"[green]{label}[/green]")


def shifts(
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")] = None,
    station: Annotated[str | None, typer.Option(help="Only this station, e.g. S01.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    generate: Annotated[
        bool,
        typer.Option(
            "--generate",
            help="First ask scheduling to generate the day's shifts (it does so by itself at "
            "HOMECARE_SHIFTS_AT; again is harmless: shifts already there are kept).",
        ),
    ] = False,
) -> None:
    """A day's shifts with their status (scheduled, checked in, done, missed) and whether the
    caregiver has seen the shift message: the station's board (asks scheduling)."""
    from contracts.scheduling.v1 import ShiftsOfDay, ShiftsQuery
    from services.client import ask_once

    query = payload_or_exit(
        ShiftsQuery, date=day or _when(None).date().isoformat(), station_id=station
    )
    servers = Settings().client_servers()
    if generate:
        _generate(servers, query.date)
    try:
        board = asyncio.run(
            ask_once(servers, "homecare-shifts", subjects.RPC_SHIFTS, query, ShiftsOfDay)
        )
    except Exception as exc:
        typer.echo(f"scheduling did not answer at {','.join(servers)}: {exc!r}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(board.model_dump_json(indent=2))
        return
    from rich.table import Table

    status_zh = {
        "scheduled": "待服务",
        "checked_in": "服务中",
        "done": "已完成",
        "missed": "未到岗",
    }
    title = f"shifts 班次 {board.date}" + (f" · {board.station_id}" if station else "")
    table = Table(title=title + (f" · {board.holiday}" if board.holiday else ""))
    for col in ("station", "window", "household", "caregiver", "status 状态", "seen", "shift"):
        table.add_column(col)
    for s in board.shifts:
        window = f"{s.visit_window[0]:%H:%M}-{s.visit_window[1]:%H:%M}"
        status = f"{s.status} {status_zh[s.status]}"
        table.add_row(
            s.station_id,
            window,
            s.household_id,
            s.caregiver_id,
            status,
            "✓" if s.acknowledged else "",
            s.shift_id,
        )
    console.print(table)


def notify(
    via: Annotated[
        list[str] | None,
        typer.Option(help="console (default) or package.module:ClassName; repeat for several."),
    ] = None,
) -> None:
    """Deliver every caregiver's messages through extra channels (SMS, chat gateways) besides
    the bus, until Ctrl-C. Each channel keeps its own place: a message is acknowledged only
    once its channel delivered it, and a failed delivery is tried again."""
    import signal

    from services.client import BusClient
    from services.notify import NotifierRunner, load_notifier

    try:
        notifiers = [load_notifier(spec) for spec in via or ["console"]]
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    servers = Settings().client_servers()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with await BusClient.connect_once(servers, "homecare-notify") as client:
            runners = [await NotifierRunner(client, n).open() for n in notifiers]
            console.print(
                f"delivering through {', '.join(n.name for n in notifiers)} (Ctrl-C stops)"
            )
            try:
                await asyncio.gather(*(r.run(stop) for r in runners))
            finally:
                for runner in runners:
                    await runner.close()

    try:
        asyncio.run(serve())
    except Exception as exc:
        typer.echo(f"could not reach NATS at {','.join(servers)}: {exc!r}", err=True)
        raise typer.Exit(2) from exc
