"""The console's district pages: a month's approval round with each application's assessed
category and rules, approving or refusing it, and the round's public notices (B2 own-child
caregiver, 张榜公布3天) with their objections."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from contracts import subjects
from contracts.dispatch.eligibility_v1 import (
    CloseNotices,
    DecideApplication,
    ObjectToNotice,
    RoundApplications,
    RoundQuery,
)
from contracts.dispatch.queries_v1 import RoundNotices, RoundNoticesQuery
from contracts.envelope import Payload
from services.console.auth import User
from services.console.core import Console
from services.console.pages.common import (
    around,
    ask_or_none,
    console_of,
    lang_for,
    parse,
    redirect,
    render,
    require,
    this_month,
    words_of,
)

router = APIRouter()
OFFICER = Depends(require("district_officer"))
READERS = Depends(require("district_officer", "supervisor"))

DECISIONS = {"approve": True, "reject": False}
SENT = ("decided", "objected", "closed")


@router.get("/district")
async def round_page(
    request: Request, round: str = "", sent: str = "", user: User = READERS
) -> Response:
    console = console_of(request)
    chosen, errors = parse(RoundQuery, lang_for(request), round=round or this_month(console))
    if chosen is None:
        shown = this_month(console)
        return await round_view(request, user, shown, 422, errors=errors, values={"round": round})
    flash = words_of(request)(f"district.sent.{sent}") if sent in SENT else None
    return await round_view(request, user, chosen.round, flash=flash)


@router.get("/district/round")
async def round_partial(request: Request, round: str = "", user: User = READERS) -> Response:
    """The round's applications and notices (refreshed live as decisions are applied)."""
    view = await round_state(console_of(request), _round_or_now(request, round))
    status = 503 if view["bus_error"] else 200
    return render(request, "district/_round.html", user, status, **_context(request, user), **view)


@router.post("/district/decide")
async def decide(
    request: Request,
    round: Annotated[str, Form()] = "",
    application_id: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    user: User = OFFICER,
) -> Response:
    t = words_of(request)
    values = {"application_id": application_id, "decision": decision, "reason": reason}
    approve = DECISIONS.get(decision)
    command, errors = parse(
        DecideApplication,
        lang_for(request),
        application_id=application_id,
        approve=approve,
        decided_by=user.user_id,
        reason=reason.strip(),
    )
    if approve is None:
        errors = {"decision": t("invalid.literal_error")}
    elif not approve and not reason.strip():  # dispatch would refuse it: say so here
        errors["reason"] = t("district.reason_needed")
    if command is None or errors:
        return await _refused_form(request, user, round, "decide", errors, values)
    action = f"application_{decision}"
    return await _send(request, user, round, action, values, subjects.DECIDE_APPLICATION, command)


@router.post("/district/object")
async def object_to_notice(
    request: Request,
    round: Annotated[str, Form()] = "",
    application_id: Annotated[str, Form()] = "",
    objection: Annotated[str, Form()] = "",
    raised_by: Annotated[str, Form()] = "",
    user: User = OFFICER,
) -> Response:
    values = {"application_id": application_id, "objection": objection, "raised_by": raised_by}
    command, errors = parse(ObjectToNotice, lang_for(request), **values)
    if command is None:
        return await _refused_form(request, user, round, "object", errors, values)
    return await _send(
        request, user, round, "notice_objection", values, subjects.OBJECT_TO_NOTICE, command
    )


@router.post("/district/close-notices")
async def close_notices(
    request: Request, round: Annotated[str, Form()] = "", user: User = OFFICER
) -> Response:
    on = console_of(request).today()
    command = CloseNotices(on=on)
    values = {"on": on.isoformat()}
    return await _send(
        request, user, round, "notices_close", values, subjects.CLOSE_NOTICES, command
    )


# -- the round --------------------------------------------------------------------------------


async def round_view(
    request: Request, user: User, round_month: str, status: int = 200, **extra: Any
) -> Response:
    view = await round_state(console_of(request), round_month)
    if view["bus_error"]:
        status = 503
    context = {"values": {}, "errors": {}, "failed": None} | view | extra
    return render(
        request,
        "district/round.html",
        user,
        status,
        live=True,
        around=around(round_month),
        **_context(request, user),
        **context,
    )


async def round_state(console: Console, round_month: str) -> dict[str, Any]:
    """The round's applications and notices, and what the officer can do with them today."""
    entries, bus_error = await ask_or_none(
        console, subjects.RPC_ROUND, RoundQuery(round=round_month), RoundApplications
    )
    notices, notices_error = await ask_or_none(
        console, subjects.RPC_ROUND_NOTICES, RoundNoticesQuery(round=round_month), RoundNotices
    )
    today = console.today()
    posted = [n for n in notices.notices if n.status == "posted"] if notices else []
    applications = entries.applications if entries else []
    return {
        "round": round_month,
        "applications": applications,
        "counts": _counts(applications),
        "notices": notices.notices if notices else [],
        "refusals": notices.refusals if notices else {},
        "open_ids": {n.application_id for n in posted if n.last_day >= today},
        "due": [n for n in posted if n.last_day < today],
        "rules_used": sorted({rule for a in applications for rule in a.rules}),
        "bus_error": bus_error or notices_error,
    }


def _counts(applications: list[Any]) -> dict[str, int]:
    counts = {"all": len(applications)}
    for entry in applications:
        counts[entry.status] = counts.get(entry.status, 0) + 1
    return counts


async def _send(
    request: Request,
    user: User,
    round_month: str,
    action: str,
    values: dict[str, str],
    subject: str,
    command: Payload,
) -> Response:
    """Audit the action and send its command; back to the round with a note that it went."""
    target = values.get("application_id") or values.get("on") or ""
    await console_of(request).act(user, action, target, values, (subject, command))
    sent = {"notice_objection": "objected", "notices_close": "closed"}.get(action, "decided")
    return redirect(f"/district?round={_round_or_now(request, round_month)}&sent={sent}")


async def _refused_form(
    request: Request,
    user: User,
    round_month: str,
    form: str,
    errors: dict[str, str],
    values: dict[str, str],
) -> Response:
    """The round again (status 422) with what was typed and the errors beside it."""
    shown = _round_or_now(request, round_month)
    return await round_view(request, user, shown, 422, failed=form, errors=errors, values=values)


def _round_or_now(request: Request, round_month: str) -> str:
    chosen, _ = parse(RoundQuery, lang_for(request), round=round_month)
    return chosen.round if chosen else this_month(console_of(request))


def _context(request: Request, user: User) -> dict[str, Any]:
    return {"can_act": user.role == "district_officer"}
