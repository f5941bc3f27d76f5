"""`homecare dlq`: inspect the dead letters each service keeps, and replay them after a fix.

A dead letter is a message a consumer gave up on (malformed, or failing every delivery),
kept in the service's own ``dead_letters`` table with the reason. The commands read that
table directly (like `homecare console user`); ``replay`` republishes the original message
on NATS and marks the row's ``replayed_at``."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from pydantic import ConfigDict, ValidationError
from rich import box
from rich.console import Console as Terminal
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.envelope import Envelope, Payload, new_id
from contracts.subjects import ROOT
from services.infra.bus.poison import body_problem
from services.infra.bus.tables import PlumbingTables, plumbing_tables
from services.infra.settings import Settings

dlq_app = typer.Typer(
    help="Dead letters: messages a service gave up on, with the reason; inspect and replay.",
    no_args_is_help=True,
)
out = Terminal(highlight=False, soft_wrap=True)
err = Terminal(stderr=True, highlight=False, soft_wrap=True)

# Marks a replayed copy (value: "<service>/<dead letter id>"); kept if it dead-letters again.
REPLAY_HEADER = "Homecare-Replay-Of"
REASON_WIDTH = 60
HEX_LIMIT = 1024


class _AnyPayload(Payload):
    """Any payload: replay checks only that the body is an envelope; the payload's own
    contract is checked by the service when it consumes the copy."""

    model_config = ConfigDict(extra="allow", frozen=True)


_ENVELOPE: Any = Envelope[_AnyPayload]


@dataclass(frozen=True)
class DeadLetter:
    service: str
    id: int
    consumer: str
    subject: str
    reason: str
    deliveries: int
    event_id: str | None
    headers: dict[str, str]
    data: bytes
    created_at: datetime
    replayed_at: datetime | None

    def summary(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "id": self.id,
            "created_at": _iso(self.created_at),
            "subject": self.subject,
            "consumer": self.consumer,
            "deliveries": self.deliveries,
            "event_id": self.event_id,
            "reason": self.reason,
            "replayed_at": _iso(self.replayed_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def safe(text: str) -> str:
    """Text from a message, fit for a terminal: control characters shown escaped."""
    return "".join(c if c.isprintable() or c in "\n\t" else ascii(c)[1:-1] for c in text)


def envelope_problem(data: bytes) -> str | None:
    """Why the body is not a message envelope at all (replaying it would only dead-letter it
    again), or None when it is one."""
    problem = body_problem(data)
    if problem:
        return problem
    try:
        _ENVELOPE.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "(message)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"not a message envelope: {loc}: {first.get('msg')}{more}"
    return None


# -- reading the dead_letters tables ---------------------------------------------------------


def _services() -> tuple[str, ...]:
    from services.cli import RUNNABLE

    return RUNNABLE


def _settings() -> Settings:
    from services.cli import _settings as settings_from_env

    return settings_from_env()


def _check(names: Sequence[str]) -> tuple[str, ...]:
    known = _services()
    unknown = [n for n in names if n not in known]
    if unknown:
        err.print(
            f"[red]unknown service {', '.join(unknown)}[/red]; choose from {', '.join(known)}"
        )
        raise typer.Exit(2)
    return tuple(names)


class NoDatabase(Exception):
    """The service's database (or its dead_letters table) does not exist yet."""


class _Db:
    def __init__(self, settings: Settings, service: str) -> None:
        from services.infra.db import create_engine_for

        self.service = service
        self.url = settings.database_url_for(service)
        parsed = make_url(self.url)
        file = parsed.database if parsed.get_backend_name() == "sqlite" else None
        if file and file != ":memory:" and not Path(file).exists():
            # never create an empty file by looking
            raise NoDatabase(f"{service}: no database yet ({file})")
        self.tables: PlumbingTables = plumbing_tables(sa.MetaData())
        self.engine: AsyncEngine = create_engine_for(self.url, service)

    async def rows(self, query: sa.Select[Any]) -> list[DeadLetter]:
        try:
            async with self.engine.connect() as conn:
                result = (await conn.execute(query)).all()
        except sa.exc.DBAPIError as exc:
            if _missing_table(exc):
                raise NoDatabase(f"{self.service}: not migrated yet (no dead_letters)") from exc
            raise
        return [self._letter(r) for r in result]

    def _letter(self, row: Any) -> DeadLetter:
        return DeadLetter(
            service=self.service,
            id=row.id,
            consumer=row.consumer,
            subject=row.subject,
            reason=row.reason,
            deliveries=row.deliveries,
            event_id=row.event_id,
            headers={str(k): str(v) for k, v in (row.headers or {}).items()},
            data=bytes(row.data),
            created_at=row.created_at,
            replayed_at=row.replayed_at,
        )

    def select(self) -> sa.Select[Any]:
        return sa.select(self.tables.dead_letters)

    async def mark_replayed(self, dead_letter_id: int, at: datetime) -> None:
        table = self.tables.dead_letters
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.update(table).where(table.c.id == dead_letter_id).values(replayed_at=at)
            )

    async def close(self) -> None:
        await self.engine.dispose()


def _missing_table(exc: sa.exc.DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


async def _list(settings: Settings, names: tuple[str, ...], limit: int) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    for name in names:
        try:
            db = _Db(settings, name)
        except NoDatabase as exc:
            err.print(safe(str(exc)), markup=False)
            continue
        try:
            table = db.tables.dead_letters
            letters += await db.rows(db.select().order_by(table.c.id.desc()).limit(limit))
        except NoDatabase as exc:
            err.print(safe(str(exc)), markup=False)
        finally:
            await db.close()
    letters.sort(key=lambda d: (_sortable(d.created_at), d.service, d.id), reverse=True)
    return letters[:limit]


def _sortable(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat()  # one service's times: same zone throughout


async def _get(settings: Settings, service: str, ids: Sequence[int]) -> list[DeadLetter]:
    db = _Db(settings, service)
    try:
        table = db.tables.dead_letters
        return await db.rows(db.select().where(table.c.id.in_(list(ids))).order_by(table.c.id))
    finally:
        await db.close()


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _short(text: str, width: int = REASON_WIDTH) -> str:
    flat = " ".join(safe(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# -- commands ---------------------------------------------------------------------------


@dlq_app.command("list")
def list_(
    service: Annotated[
        list[str] | None,
        typer.Option("--service", "-s", help="Only these services (repeatable; default: all)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (full reasons).")] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
) -> None:
    """List dead letters of every service (or those named), newest first.

    Shows when, subject, consumer, deliveries, the reason (shortened; `dlq show` and --json
    have it in full) and whether it was replayed (when: `dlq show`, --json)."""
    settings = _settings()
    names = _check(service or list(_services()))
    try:
        letters = asyncio.run(_list(settings, names, limit))
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        err.print(f"cannot read dead letters: {safe(str(exc))}", markup=False)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps([d.summary() for d in letters], indent=2))
        return
    table = Table(
        title=f"dead letters ({len(letters)}); subjects without {ROOT}., consumers without "
        "their service's prefix",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("service", no_wrap=True)
    table.add_column("id", no_wrap=True, justify="right")
    table.add_column("when", no_wrap=True)
    table.add_column("subject", overflow="fold", min_width=12)
    table.add_column("consumer", overflow="fold", min_width=8)
    table.add_column("deliveries", justify="right", no_wrap=True)
    table.add_column("reason", overflow="fold", min_width=20)
    table.add_column("replayed", no_wrap=True)
    for d in letters:
        table.add_row(
            d.service,
            str(d.id),
            _when(d.created_at),
            safe(d.subject.removeprefix(f"{ROOT}.")),
            safe(d.consumer.removeprefix(f"{d.service}_")),
            str(d.deliveries),
            _short(d.reason),
            "yes" if d.replayed_at else "no",
        )
    out.print(table, markup=False)


def _one(settings: Settings, service: str, dead_letter_id: int) -> DeadLetter:
    try:
        found = asyncio.run(_get(settings, service, [dead_letter_id]))
    except NoDatabase as exc:
        err.print(safe(str(exc)), markup=False)
        raise typer.Exit(1) from exc
    if not found:
        err.print(f"no dead letter {dead_letter_id} in {service}", markup=False)
        raise typer.Exit(1)
    return found[0]


def _body(data: bytes) -> dict[str, Any]:
    """The body for JSON output: parsed when it is JSON, else text with escapes, plus base64."""
    shown: dict[str, Any] = {"size": len(data)}
    if body_problem(data) is None:
        shown["json"] = json.loads(data)
    else:
        shown["text"] = data.decode("utf-8", errors="backslashreplace")
        shown["base64"] = base64.b64encode(data).decode()
    return shown


def _hexdump(data: bytes) -> str:
    lines = []
    for at in range(0, min(len(data), HEX_LIMIT), 16):
        chunk = data[at : at + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{at:08x}  {chunk.hex(' '):<47}  {text}")
    if len(data) > HEX_LIMIT:
        lines.append(f"... {len(data) - HEX_LIMIT} more bytes")
    return "\n".join(lines)


@dlq_app.command("show")
def show(
    service: Annotated[str, typer.Argument(help="dispatch | scheduling | billing | console")],
    dead_letter_id: Annotated[int, typer.Argument(metavar="ID", help="From `dlq list`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show everything about one dead letter.

    The full reason, the headers and the original body: pretty-printed when it is JSON, else
    as escaped text, with a hex dump when it is not UTF-8."""
    settings = _settings()
    _check([service])
    d = _one(settings, service, dead_letter_id)
    problem = envelope_problem(d.data)
    if as_json:
        shown = d.summary() | {
            "headers": d.headers,
            "body": _body(d.data),
            "replayable_without_force": problem is None,
        }
        typer.echo(json.dumps(shown, indent=2))
        return
    fields = [
        ("service", d.service),
        ("id", str(d.id)),
        ("when", _iso(d.created_at) or ""),
        ("subject", d.subject),
        ("consumer", d.consumer),
        ("deliveries", str(d.deliveries)),
        ("event id", d.event_id or "(none)"),
        ("replayed", _iso(d.replayed_at) or "no"),
        ("replay", "needs --force: " + problem if problem else "possible"),
    ]
    for label, value in fields:
        out.print(f"{label + ':':<12}{safe(value)}", markup=False)
    out.print("reason:", markup=False)
    out.print("  " + safe(d.reason).replace("\n", "\n  "), markup=False)
    out.print("headers:", markup=False)
    for key, value in sorted(d.headers.items()):
        out.print(f"  {safe(key)}: {safe(value)}", markup=False)
    out.print(f"body ({len(d.data)} bytes):", markup=False)
    if body_problem(d.data) is None:
        pretty = json.dumps(json.loads(d.data), indent=2, ensure_ascii=False)
        out.print(safe(pretty), markup=False)
        return
    try:
        text = d.data.decode("utf-8")
    except UnicodeDecodeError:
        out.print(safe(repr(d.data[:HEX_LIMIT])), markup=False)
        out.print(_hexdump(d.data), markup=False)
        return
    out.print(safe(repr(text)), markup=False)


# -- replay ---------------------------------------------------------------------------------


def replay_headers(d: DeadLetter, msg_id: str) -> dict[str, str]:
    """The original headers with a new de-duplication id (and no publish expectations, which
    held for the first publish, not for this one)."""
    headers = {k: v for k, v in d.headers.items() if not k.lower().startswith("nats-expected")}
    headers["Nats-Msg-Id"] = msg_id
    headers[REPLAY_HEADER] = f"{d.service}/{d.id}"
    return headers


async def _publish(settings: Settings, db: _Db, letters: list[DeadLetter]) -> list[str]:
    from services.client import BusClient
    from services.infra.clock import SystemClock

    servers = settings.client_servers()
    try:
        client = await BusClient.connect_once(servers, "homecare-dlq")
    except Exception as exc:
        raise ConnectionError(",".join(servers)) from exc
    problems: list[str] = []
    clock = SystemClock(settings.tz)
    async with client:
        for d in letters:
            msg_id = f"replay-{new_id()}"
            try:
                ack = await client.js.publish(
                    d.subject, d.data, headers=replay_headers(d, msg_id), timeout=10
                )
            except Exception as exc:
                problems.append(f"{d.service}/{d.id}: not published ({exc!r})")
                continue
            try:
                await db.mark_replayed(d.id, clock.now())
            except Exception as exc:  # published: a second replay would be harmless
                problems.append(f"{d.service}/{d.id}: published but not marked ({exc!r})")
            out.print(
                f"replayed {d.service}/{d.id} to {safe(d.subject)} as {msg_id} "
                f"(stream {ack.stream}, seq {ack.seq})",
                markup=False,
            )
    return problems


async def _replay(
    settings: Settings,
    service: str,
    ids: list[int],
    every: bool,
    dry_run: bool,
    force: bool,
) -> int:
    db = _Db(settings, service)
    try:
        table = db.tables.dead_letters
        if every:
            query = db.select().where(table.c.replayed_at.is_(None)).order_by(table.c.id)
        else:
            query = db.select().where(table.c.id.in_(ids)).order_by(table.c.id)
        letters = await db.rows(query)
        missing = sorted(set(ids) - {d.id for d in letters})
        if missing:
            err.print(
                f"no dead letter {', '.join(map(str, missing))} in {service}; nothing replayed",
                markup=False,
            )
            return 1
        chosen: list[DeadLetter] = []
        refused = 0
        for d in letters:
            problem = envelope_problem(d.data)
            if problem and not force:
                refused += 0 if every else 1
                err.print(
                    f"{service}/{d.id}: refused: {safe(problem)}; it would be dead-lettered "
                    "again (--force replays it anyway)",
                    markup=False,
                )
                continue
            if d.replayed_at:
                err.print(
                    f"{service}/{d.id}: replayed before ({_iso(d.replayed_at)}); the service's "
                    "inbox skips it if it was applied",
                    markup=False,
                )
            chosen.append(d)
        if dry_run:
            for d in chosen:
                out.print(
                    f"would replay {service}/{d.id} to {safe(d.subject)} "
                    f"({len(d.data)} bytes, event {safe(d.event_id or '(none)')})",
                    markup=False,
                )
            return 1 if refused else 0
        if not chosen:
            out.print("nothing to replay", markup=False)
            return 1 if refused else 0
        problems = await _publish(settings, db, chosen)
        for problem in problems:
            err.print(safe(problem), markup=False)
        return 1 if refused or problems else 0
    finally:
        await db.close()


@dlq_app.command("replay")
def replay(
    service: Annotated[str, typer.Argument(help="dispatch | scheduling | billing | console")],
    ids: Annotated[
        list[int] | None, typer.Argument(metavar="[ID]...", help="Dead letters to replay.")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every dead letter of SERVICE not replayed yet.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would be replayed.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Also replay bodies that are not a message envelope (malformed)."
        ),
    ] = False,
) -> None:
    """Publish dead letters again to their original subject (after a fix); mark them replayed.

    The copy keeps the original body and headers but gets a NEW Nats-Msg-Id: JetStream drops
    a publish whose id it saw within its duplicate window (2 minutes), so the original id
    could make the replay vanish. The body keeps its event_id, so every consumer's inbox
    still skips it where it had in fact been applied: replaying twice applies it at most once.
    Every consumer of the subject receives the copy (those that applied it skip it).

    A body that is not a message envelope (not JSON, not UTF-8, no event_id ...) is refused
    unless --force: it would only be dead-lettered again. With --all such ones are skipped
    (exit 0); named ones that are refused or unknown make the exit code 1. A replay that
    fails again is dead-lettered again, as a new row."""
    settings = _settings()
    _check([service])
    if every == bool(ids):
        err.print("name dead letter ids or give --all (not both)", markup=False)
        raise typer.Exit(2)
    try:
        code = asyncio.run(_replay(settings, service, ids or [], every, dry_run, force))
    except NoDatabase as exc:
        err.print(safe(str(exc)), markup=False)
        raise typer.Exit(1) from exc
    except ConnectionError as exc:
        err.print(
            f"no NATS server at {exc}: start one with `homecare up`, or set HOMECARE_NATS_URL",
            markup=False,
        )
        raise typer.Exit(1) from exc
    raise typer.Exit(code)
