"""The station manager's review pages: leave requests (approve, choosing substitutes or leaving
them to dispatch, or refuse), diaries and ledgers, and the month's appraisal inputs
(satisfaction ratings and complaints). A supervisor reads them for any station it names; only
the station's own manager changes anything."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from contracts import subjects
from contracts.dispatch.queries_v1 import (
    HouseholdEntry,
    HouseholdsList,
    HouseholdsQuery,
    Roster,
    RosterEntry,
    RosterQuery,
)
from contracts.envelope import Payload, new_id
from contracts.money import money_text
from contracts.scheduling.appraisal_v1 import RecordComplaint, RecordSatisfaction
from contracts.scheduling.leave_v1 import DecideLeave
from contracts.scheduling.queries_v1 import (
    MAX_DIARY_DAYS,
    AppraisalsList,
    AppraisalsQuery,
    DiariesList,
    DiariesQuery,
    LeaveLine,
    LeaveList,
    LeaveQuery,
    LeaveStatus,
)
from contracts.types import Id
from services.console.auth import User
from services.console.core import Console
from services.console.i18n import translator
from services.console.pages.common import (
    Forbidden,
    ask_or_none,
    console_of,
    lang_for,
    parse,
    redirect,
    render,
    require,
    station_of,
    words_of,
)
from services.console.store import audit_log

router = APIRouter()
Reader = Depends(require("station_manager", "supervisor"))
Manager = Depends(require("station_manager"))

LEAVE_STATUSES: tuple[LeaveStatus, ...] = ("pending", "approved", "rejected")
SUBSTITUTE = "substitute."  # form fields substitute.<household id>: the chosen caregiver
DIARY_DAYS = 7  # the diaries page opens on the last week, today included
Text = Annotated[str, Form()]


def _status(bus_error: str | None, status_code: int) -> int:
    return 503 if bus_error else status_code


def _stripped(**fields: str) -> dict[str, str]:
    return {name: value.strip() for name, value in fields.items()}


def _this_month(request: Request) -> str:
    return console_of(request).today().strftime("%Y-%m")


def _flash(request: Request, sent: int) -> str | None:
    return words_of(request)("action.sent") if sent else None


# -- the station's households and caregivers (dispatch's registry) ---------------------------


@dataclass
class Directory:
    """Names for ids and the choices of the appraisal and leave forms; ``answered`` is False
    when dispatch did not answer (the pages then show bare ids and plain inputs, and the leave
    form no substitute choice)."""

    households: list[HouseholdEntry] = field(default_factory=list)
    caregivers: dict[str, str] = field(default_factory=dict)
    answered: bool = False
    roster: list[RosterEntry] = field(default_factory=list)

    @cached_property
    def household_names(self) -> dict[str, str]:
        return {h.household_id: h.name for h in self.households}

    def household_choices(self, blank: str = "—") -> list[tuple[str, str]] | None:
        """Select options (None: a plain input, dispatch did not answer)."""
        found = [(h.household_id, f"{h.household_id} {h.name}") for h in self.households]
        return [("", blank), *found] if found else None

    def caregiver_choices(self) -> list[tuple[str, str]] | None:
        found = [(c, f"{c} {name}") for c, name in sorted(self.caregivers.items())]
        return [("", "—"), *found] if found else None

    def strangers(self, values: dict[str, str], word: str) -> dict[str, str]:
        """Errors for a household or caregiver not of the station."""
        errors = {}
        if values.get("household_id") and values["household_id"] not in self.household_names:
            errors["household_id"] = word
        if values.get("caregiver_id") and values["caregiver_id"] not in self.caregivers:
            errors["caregiver_id"] = word
        return errors

    def served_by(self, caregiver_id: str) -> list[HouseholdEntry]:
        """The households the caregiver serves now (dispatch's active assignments)."""
        return [h for h in self.households if h.caregiver_id == caregiver_id]

    def stand_ins(self, household: HouseholdEntry, on_leave: str) -> list[RosterEntry]:
        """Who may be chosen to stand in: the station's active caregivers of the household's
        street (dispatch takes no one else), not the one on leave."""
        return [
            c
            for c in self.roster
            if c.active and c.street == household.street and c.caregiver_id != on_leave
        ]

    def substitute_choices(
        self, household: HouseholdEntry, on_leave: str, t: Any
    ) -> list[tuple[str, str]]:
        """The select's options: automatic first, then each caregiver with their load."""
        found = [
            (
                c.caregiver_id,
                t(
                    "review.leave.stand_in",
                    id=c.caregiver_id,
                    name=c.name,
                    n=c.assignments,
                    capacity=c.capacity,
                ),
            )
            for c in self.stand_ins(household, on_leave)
        ]
        return [("", t("review.leave.automatic")), *found]

    def substitute_errors(self, chosen: dict[str, str], on_leave: str, word: str) -> dict[str, str]:
        """Errors (by form field) for a household the caregiver does not serve or a
        caregiver who cannot stand in there."""
        served = {h.household_id: h for h in self.served_by(on_leave)}
        errors = {}
        for household_id, caregiver_id in chosen.items():
            household = served.get(household_id)
            stand_ins = self.stand_ins(household, on_leave) if household else []
            if caregiver_id not in {c.caregiver_id for c in stand_ins}:
                errors[SUBSTITUTE + household_id] = word
        return errors


async def _directory(console: Console, station: str) -> Directory:
    (households, _), (roster, _) = await asyncio.gather(
        ask_or_none(
            console, subjects.RPC_HOUSEHOLDS, HouseholdsQuery(station_id=station), HouseholdsList
        ),
        ask_or_none(
            console,
            subjects.RPC_ROSTER,
            RosterQuery(on=console.today(), station_id=station),
            Roster,
        ),
    )
    return Directory(
        households.households if households else [],
        {c.caregiver_id: c.name for c in roster.caregivers} if roster else {},
        households is not None and roster is not None,
        roster.caregivers if roster else [],
    )


# -- leave -----------------------------------------------------------------------------------


class Decision(BaseModel):
    """The leave decision form (DecideLeave needs the user, added when sending)."""

    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=500)


def _pending_first(leaves: list[LeaveLine]) -> list[LeaveLine]:
    return sorted(leaves, key=lambda lv: lv.status != "pending")  # stable: newest first kept


def _substitute_values(form: Any) -> dict[str, str]:
    """The substitute selects as posted (blank: dispatch chooses), kept for a re-shown form."""
    return {
        name: str(value).strip()
        for name, value in form.multi_items()
        if name.startswith(SUBSTITUTE)
    }


def _chosen_in(values: dict[str, str]) -> dict[str, str]:
    """Household id -> the chosen substitute, from the selects' values."""
    return {
        name.removeprefix(SUBSTITUTE): value
        for name, value in values.items()
        if name.startswith(SUBSTITUTE) and value
    }


async def _substitute_problems(
    console: Console, station: str, on_leave: str, chosen: dict[str, str], t: Any
) -> tuple[dict[str, str], str | None]:
    """Errors for chosen substitutes not among the station's caregivers of the household's
    street, or error.bus when dispatch cannot tell."""
    if not chosen:
        return {}, None
    directory = await _directory(console, station)
    if not directory.answered:
        return {}, "error.bus"
    return directory.substitute_errors(chosen, on_leave, t("review.leave.not_a_choice")), None


async def _station_choices(console: Console, leave_ids: list[str]) -> dict[str, dict[str, str]]:
    """The substitutes the station chose per leave, from the audit line of its decision
    (scheduling's answer names only who was assigned); the latest decision holds."""
    if not leave_ids:
        return {}
    rows = await console.store.read(
        sa.select(audit_log.c.target, audit_log.c.details)
        .where(audit_log.c.action == "decide_leave", audit_log.c.target.in_(leave_ids))
        .order_by(audit_log.c.id)
    )
    return {row.target: dict(row.details.get("substitutes") or {}) for row in rows}


async def _leave_page(
    request: Request,
    user: User,
    station: str,
    status: str = "",
    status_code: int = 200,
    partial: bool = False,
    asked: tuple[LeaveList | None, str | None] | None = None,
    **context: Any,
) -> Response:
    """The station's leave requests (``asked``: the answer already had, unfiltered)."""
    console = console_of(request)
    chosen = next((s for s in LEAVE_STATUSES if s == status), None)
    directory = asyncio.ensure_future(_directory(console, station))
    reply, bus_error = asked or await ask_or_none(
        console, subjects.RPC_LEAVE, LeaveQuery(station_id=station, status=chosen), LeaveList
    )
    leaves = reply.leaves if reply else []
    approved = [lv.leave_id for lv in leaves if lv.status == "approved"]
    station_choices = await _station_choices(console, approved)
    names = await directory
    template = "_leave_list.html" if partial else "leave.html"
    context = {"form_leave": None, "values": {}, "errors": {}, **context}
    return render(
        request,
        f"station_review/{template}",
        user,
        _status(bus_error, status_code),
        station_id=station,
        status=chosen or "",
        statuses=LEAVE_STATUSES,
        leaves=leaves if chosen else _pending_first(leaves),
        truncated=bool(reply and reply.truncated),
        directory=names,
        station_choices=station_choices,
        bus_error=bus_error,
        live=True,
        **context,
    )


@router.get("/station/leave")
async def leave_page(
    request: Request,
    station_id: str = "",
    status: str = "",
    sent: int = 0,
    partial: int = 0,
    user: User = Reader,
) -> Response:
    station = station_of(user, station_id or None)
    return await _leave_page(
        request, user, station, status, partial=bool(partial), flash=_flash(request, sent)
    )


@router.post("/station/leave/{leave_id}/decide")
async def decide_leave(
    request: Request,
    leave_id: str,
    decision: Text = "",
    reason: Text = "",
    user: User = Manager,
) -> Response:
    station = station_of(user, None)
    console = console_of(request)
    lang = lang_for(request)
    t = translator(lang)
    values = _stripped(decision=decision, reason=reason) | _substitute_values(await request.form())
    reply, bus_error = await ask_or_none(
        console, subjects.RPC_LEAVE, LeaveQuery(station_id=station), LeaveList
    )
    if reply is None:
        return await _leave_page(request, user, station, asked=(reply, bus_error))
    line = next((lv for lv in reply.leaves if lv.leave_id == leave_id), None)
    if line is None:  # not a leave of this station's caregivers
        raise Forbidden()
    if line.status != "pending":
        status_word = t(f"review.leave.status.{line.status}")
        return await _leave_page(
            request,
            user,
            station,
            asked=(reply, None),
            status_code=409,
            flash=t("review.leave.decided_already", status=status_word),
            flash_kind="warn",
        )
    form, errors = parse(Decision, lang, decision=values["decision"], reason=values["reason"])
    if form is not None and form.decision == "reject" and not form.reason:
        errors["reason"] = t("review.leave.reason_needed")
    approve = form is not None and form.decision == "approve"
    chosen = _chosen_in(values) if approve else {}  # a refusal has no substitutes
    problems, bus_error = await _substitute_problems(console, station, line.caregiver_id, chosen, t)
    errors |= problems
    if form is None or errors or bus_error:
        return await _leave_page(
            request,
            user,
            station,
            asked=(reply, bus_error),
            status_code=422,
            form_leave=leave_id,
            values=values,
            errors=errors,
        )
    command = DecideLeave(
        leave_id=leave_id,
        approve=approve,
        decided_by=user.user_id,
        reason=form.reason,
        substitutes=chosen,
    )
    details = {"decision": values["decision"], "reason": values["reason"]}
    await console.act(
        user,
        "decide_leave",
        leave_id,
        details | {"caregiver_id": line.caregiver_id, "substitutes": chosen},
        command=(subjects.DECIDE_LEAVE, command),
    )
    return redirect("/station/leave?sent=1")


# -- diaries and ledgers -----------------------------------------------------------------------


class Period(BaseModel):
    """The diaries page's filter (DiariesQuery without the station)."""

    date_from: date
    date_to: date
    household_id: Id | None = None


def _span_errors(period: Period, t: Any) -> dict[str, str]:
    """DiariesQuery's own checks, in the user's language."""
    if period.date_to < period.date_from:
        return {"date_to": t("review.diaries.order")}
    if period.date_to - period.date_from >= timedelta(days=MAX_DIARY_DAYS):
        return {"date_to": t("review.diaries.too_long", days=MAX_DIARY_DAYS)}
    return {}


@router.get("/station/diaries")
async def diaries_page(
    request: Request,
    station_id: str = "",
    date_from: str = "",
    date_to: str = "",
    household_id: str = "",
    user: User = Reader,
) -> Response:
    station = station_of(user, station_id or None)
    console = console_of(request)
    lang = lang_for(request)
    today = console.today()
    values = {
        "date_from": date_from.strip() or (today - timedelta(days=DIARY_DAYS - 1)).isoformat(),
        "date_to": date_to.strip() or today.isoformat(),
        "household_id": household_id.strip(),
    }
    period, errors = parse(Period, lang, **values)
    if period is not None:
        errors = _span_errors(period, translator(lang))
    reply, bus_error = None, None
    if period is not None and not errors:
        query = DiariesQuery(station_id=station, **period.model_dump())
        reply, bus_error = await ask_or_none(console, subjects.RPC_DIARIES, query, DiariesList)
    directory = await _directory(console, station)
    return render(
        request,
        "station_review/diaries.html",
        user,
        _status(bus_error, 422 if errors else 200),
        station_id=station,
        values=values,
        errors=errors,
        reply=reply,
        bus_error=bus_error,
        directory=directory,
        money=money_text,
    )


# -- appraisals --------------------------------------------------------------------------------


def _month_of(value: str, default: str) -> str:
    parsed, _ = parse(AppraisalsQuery, "en", month=value.strip())
    return parsed.month if parsed else default


async def _appraisals_page(
    request: Request,
    user: User,
    station: str,
    month: str,
    status_code: int = 200,
    forms: dict[str, tuple[dict[str, str], dict[str, str]]] | None = None,
    bus_error: str | None = None,
    **context: Any,
) -> Response:
    """The month's inputs per caregiver and the two forms (each with its values and errors);
    ``bus_error``: a service did not answer the action already."""
    console = console_of(request)
    lang = lang_for(request)
    query, month_errors = parse(AppraisalsQuery, lang, month=month, station_id=station)
    if month_errors:  # the query's message is in English: the page says it in the user's words
        month_errors = {"month": translator(lang)("review.appraisals.month_format")}
    reply = None
    if query is not None:
        reply, not_answered = await ask_or_none(
            console, subjects.RPC_APPRAISALS, query, AppraisalsList
        )
        bus_error = bus_error or not_answered
    directory = await _directory(console, station)
    shown = query.month if query else _this_month(request)
    empty: dict[str, str] = {}
    default = {
        "satisfaction": ({"month": shown}, empty),
        "complaint": ({"date": console.today().isoformat()}, empty),
    }
    return render(
        request,
        "station_review/appraisals.html",
        user,
        _status(bus_error, 422 if month_errors else status_code),
        station_id=station,
        month=month,
        shown_month=shown,
        month_errors=month_errors,
        reply=reply,
        bus_error=bus_error,
        forms=default | (forms or {}),
        directory=directory,
        **context,
    )


@router.get("/station/appraisals")
async def appraisals_page(
    request: Request,
    station_id: str = "",
    month: str = "",
    sent: int = 0,
    user: User = Reader,
) -> Response:
    station = station_of(user, station_id or None)
    chosen = month.strip() or _this_month(request)
    return await _appraisals_page(request, user, station, chosen, flash=_flash(request, sent))


async def _record(
    request: Request,
    user: User,
    form: str,
    values: dict[str, str],
    parsed: tuple[Payload | None, dict[str, str]],
    month: str,
) -> Response:
    """Check and send a satisfaction rating or complaint: the household and caregiver must be
    the station's (dispatch's registry); on any error the page again, with what was typed."""
    station = station_of(user, None)
    console = console_of(request)
    t = words_of(request)
    command, errors = parsed
    directory = await _directory(console, station)
    if not directory.answered:
        return await _appraisals_page(
            request, user, station, month, 503, {form: (values, {})}, bus_error="error.bus"
        )
    errors = directory.strangers(values, t("review.appraisals.not_station")) | errors
    if command is None or errors:
        return await _appraisals_page(request, user, station, month, 422, {form: (values, errors)})
    subject = subjects.RECORD_SATISFACTION if form == "satisfaction" else subjects.RECORD_COMPLAINT
    details = command.model_dump(mode="json", exclude={"recorded_by"})
    target = f"{values['household_id']}/{values['caregiver_id']}"
    await console.act(user, f"record_{form}", target, details, command=(subject, command))
    return redirect(f"/station/appraisals?month={month}&sent=1")


@router.post("/station/appraisals/satisfaction")
async def record_satisfaction(
    request: Request,
    household_id: Text = "",
    caregiver_id: Text = "",
    month: Text = "",
    score: Text = "",
    user: User = Manager,
) -> Response:
    values = _stripped(
        household_id=household_id, caregiver_id=caregiver_id, month=month, score=score
    )
    parsed = parse(RecordSatisfaction, lang_for(request), **values, recorded_by=user.user_id)
    page_month = _month_of(values["month"], _this_month(request))
    return await _record(request, user, "satisfaction", values, parsed, page_month)


@router.post("/station/appraisals/complaint")
async def record_complaint(
    request: Request,
    household_id: Text = "",
    caregiver_id: Text = "",
    date: Text = "",
    text: Text = "",
    month: Text = "",
    user: User = Manager,
) -> Response:
    values = _stripped(household_id=household_id, caregiver_id=caregiver_id, date=date, text=text)
    complaint_id = f"CP-{new_id()}"  # the console names each complaint sent from the form
    parsed = parse(
        RecordComplaint,
        lang_for(request),
        **values,
        complaint_id=complaint_id,
        recorded_by=user.user_id,
    )
    # back to the complaint's month (the page's month while the form has errors)
    command = parsed[0]
    page_month = (
        command.date.strftime("%Y-%m") if command else _month_of(month, _this_month(request))
    )
    return await _record(request, user, "complaint", values, parsed, page_month)
