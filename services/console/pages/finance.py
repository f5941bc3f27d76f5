"""The console's finance pages: a month's billing runs and revisions with their totals, running
and closing a month (with a live progress bar), and downloading its documents."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from nats.js.errors import NotFoundError

from contracts import subjects
from contracts.billing.queries_v1 import (
    BillingRunsList,
    BillingRunsQuery,
    DocumentQuery,
    DocumentReply,
)
from contracts.billing.runs_v1 import BillingRunRejected, CloseMonth, RunBilling
from contracts.envelope import envelope_of
from services.console.auth import User
from services.console.core import BusUnavailable, Console
from services.console.pages.common import (
    around,
    ask_or_none,
    console_of,
    lang_for,
    local_time,
    parse,
    redirect,
    render,
    require,
    this_month,
    words_of,
)
from services.console.store import audit_log

router = APIRouter()
FINANCE = Depends(require("finance"))
READERS = Depends(require("finance", "supervisor"))

BILLING_STREAM = "HC_BILLING"
# Refusals are looked for among the billing stream's latest messages (runs, closes and their
# answers: a few per run, so this covers months of work) and at most this many are shown.
REFUSAL_WINDOW = 10_000
MAX_REFUSALS = 20
# Rendering a claim summary of a whole district takes a while.
DOCUMENT_TIMEOUT = 30.0
TABLES = ("households", "shares", "caregivers", "adjustments")
RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # an event id (the page's script looks it up)
_REJECTED = envelope_of(BillingRunRejected)


@dataclass(frozen=True)
class Refusal:
    """A run or close billing refused (it keeps no run line for these)."""

    command_id: str | None
    at: datetime
    reason: str
    reason_zh: str
    action: str | None  # the console's audit action of the refused command, if it sent it
    user_id: str | None


# -- pages ------------------------------------------------------------------------------------


@router.get("/finance")
async def month_page(
    request: Request, month: str = "", run: str = "", sent: str = "", user: User = READERS
) -> Response:
    console = console_of(request)
    chosen, errors = parse(BillingRunsQuery, lang_for(request), month=month)
    flash = words_of(request)(f"finance.sent.{sent}") if sent in ("run", "close") else None
    if chosen is None:
        return await month_view(
            request, user, this_month(console), 422, errors=errors, values={"month": month}
        )
    shown = chosen.month or this_month(console)
    return await month_view(request, user, shown, run=_run_id(run), flash=flash)


@router.get("/finance/runs")
async def runs_partial(
    request: Request, month: str = "", run: str = "", user: User = READERS
) -> Response:
    """The month's revisions and runs (refreshed live while a run computes)."""
    chosen, _ = parse(BillingRunsQuery, lang_for(request), month=month)
    month = chosen.month if chosen and chosen.month else this_month(console_of(request))
    view = await month_state(console_of(request), month)
    status = 503 if view["bus_error"] else 200
    return render(
        request, "finance/_month.html", user, status, run=_run_id(run), **_helpers(request), **view
    )


@router.post("/finance/run")
async def run_month(
    request: Request, month: Annotated[str, Form()] = "", user: User = FINANCE
) -> Response:
    console = console_of(request)
    command, errors = parse(RunBilling, lang_for(request), month=month, requested_by=user.user_id)
    if command is None:
        return await _refused_form(request, user, "run", errors, {"month": month})
    sent = await console.act(
        user, "billing_run", command.month, {"month": month}, (subjects.RUN_BILLING, command)
    )
    # the command's id names the run: its progress arrives on homecare.progress.billing.<id>
    run_id = sent.event_id if sent else ""
    return redirect(f"/finance?month={command.month}&run={run_id}&sent=run")


@router.post("/finance/close")
async def close_month(
    request: Request,
    month: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    user: User = FINANCE,
) -> Response:
    console = console_of(request)
    command, errors = parse(CloseMonth, lang_for(request), month=month, closed_by=user.user_id)
    if not confirm:  # closing is final: the user ticks that they mean it
        errors["confirm"] = words_of(request)("finance.confirm_needed")
    if command is None or errors:
        return await _refused_form(request, user, "close", errors, {"month": month})
    details = {"month": month, "confirm": confirm}
    await console.act(
        user, "billing_close", command.month, details, (subjects.CLOSE_MONTH, command)
    )
    return redirect(f"/finance?month={command.month}&sent=close")


@router.get("/finance/download")
async def download(
    request: Request,
    month: str = "",
    revision: str = "",
    kind: str = "",
    party_id: str = "",
    format: str = "",
    user: User = READERS,
) -> Response:
    console = console_of(request)
    fields = {
        "month": month,
        "revision": revision,
        "kind": kind,
        "party_id": party_id,
        "format": format,
    }
    query, errors = parse(DocumentQuery, lang_for(request), **fields)
    if kind in ("statement", "payslip") and not party_id:  # whose statement or payslip
        errors["party_id"] = words_of(request)("invalid.missing")
    if query is None or errors:
        form = kind if kind in ("statement", "payslip") else "download"
        return await _refused_form(request, user, form, errors, fields)
    try:
        reply = await console.ask(
            subjects.RPC_BILLING_DOCUMENT, query, DocumentReply, timeout=DOCUMENT_TIMEOUT
        )
    except BusUnavailable:
        return await month_view(request, user, query.month, 503, bus_error="error.bus")
    body = _content(reply)
    if body is None:
        reason = reply.reason_zh if lang_for(request) == "zh" else reply.reason
        return render(
            request,
            "finance/missing.html",
            user,
            404,
            month=query.month,
            reason=reason,
            query=query,
        )
    # "who took which document": a download changes nothing, but is audited all the same
    target = " ".join(p for p in (query.month, query.kind, query.party_id or "") if p)
    await console.act(user, "billing_download", target, fields | {"file_name": reply.file_name})
    return Response(
        body,
        media_type=reply.media_type or "application/octet-stream",
        headers={"Content-Disposition": attachment(reply.file_name or "document")},
    )


# -- the month's state ------------------------------------------------------------------------


async def month_view(
    request: Request, user: User, month: str, status: int = 200, **extra: Any
) -> Response:
    """The month page: its state, the forms (finance only) and the downloads."""
    view = await month_state(console_of(request), month)
    if extra.get("bus_error") or view["bus_error"]:
        status = 503
        view["bus_error"] = "error.bus"
    context = {"values": {}, "errors": {}, "failed": None, "run": ""} | view | extra
    return render(
        request,
        "finance/month.html",
        user,
        status,
        live=True,
        can_act=user.role == "finance",
        around=around(month),
        **_helpers(request),
        **context,
    )


async def month_state(console: Console, month: str) -> dict[str, Any]:
    listed, bus_error = await ask_or_none(
        console, subjects.RPC_BILLING_RUNS, BillingRunsQuery(month=month), BillingRunsList
    )
    state = next((m for m in listed.months if m.month == month), None) if listed else None
    return {
        "month": month,
        "state": state,
        "runs": listed.runs if listed else [],
        "refusals": await refusals(console, month) if listed else [],
        "bus_error": bus_error,
    }


async def _refused_form(
    request: Request, user: User, form: str, errors: dict[str, str], values: dict[str, str]
) -> Response:
    """The month page again (status 422) with what was typed and the errors beside it."""
    console = console_of(request)
    month, _ = parse(BillingRunsQuery, lang_for(request), month=values.get("month"))
    shown = month.month if month and month.month else this_month(console)
    return await month_view(request, user, shown, 422, failed=form, errors=errors, values=values)


# -- refusals ---------------------------------------------------------------------------------


async def refusals(console: Console, month: str) -> list[Refusal]:
    """The month's refused runs and closes, newest first. Billing keeps no row for these,
    only its event: they are read from the billing stream and matched with the audit line of
    the command each answers."""
    try:
        found = [e for e in await _rejections(console) if e.payload.month == month]
    except Exception:  # the stream cannot be read just now: the page still shows the rest
        console.svc.log.warning("billing refusals unreadable", month=month)
        return []
    found = found[-MAX_REFUSALS:][::-1]
    ids = [e.causation_id for e in found if e.causation_id]
    lines = {}
    if ids:
        rows = await console.store.read(sa.select(audit_log).where(audit_log.c.event_id.in_(ids)))
        lines = {r.event_id: r for r in rows}
    return [_refusal(e, lines.get(e.causation_id)) for e in found]


async def _rejections(console: Console) -> list[Any]:
    """Every BillingRunRejected among the billing stream's latest messages, oldest first."""
    js = console.svc.broker.connection.jetstream()
    info = await js.stream_info(BILLING_STREAM)
    seq = max(info.state.first_seq, info.state.last_seq - REFUSAL_WINDOW)
    found = []
    while seq and seq <= info.state.last_seq:
        try:
            msg = await js.get_msg(BILLING_STREAM, seq, subjects.BILLING_RUN_REJECTED, next=True)
        except NotFoundError:  # none left after seq
            break
        if msg.data:
            found.append(_REJECTED.model_validate_json(msg.data))
        seq = (msg.seq or seq) + 1
    return found


def _refusal(envelope: Any, line: Any) -> Refusal:
    return Refusal(
        command_id=envelope.causation_id,
        at=envelope.occurred_at,
        reason=envelope.payload.reason,
        reason_zh=envelope.payload.reason_zh,
        action=line.action if line is not None else None,
        user_id=line.user_id if line is not None else None,
    )


# -- small helpers ----------------------------------------------------------------------------


def attachment(file_name: str) -> str:
    """Content-Disposition for a download: an ASCII name for old clients, the real (maybe
    Chinese) one for the rest (RFC 6266)."""
    plain = file_name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name)}"


def _run_id(run: str) -> str:
    return run if RUN_ID.fullmatch(run) else ""


def _content(reply: DocumentReply) -> bytes | None:
    if not reply.found or reply.content_base64 is None:
        return None
    try:
        return base64.b64decode(reply.content_base64, validate=True)
    except binascii.Error:
        return None


def _helpers(request: Request) -> dict[str, Any]:
    console = console_of(request)
    return {
        "when": lambda value: local_time(value, console),
        "yuan": lambda value: f"{Decimal(value):,.2f}",
        "tables": TABLES,
    }
