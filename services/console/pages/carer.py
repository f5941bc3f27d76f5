"""The console's carer pages, sized for a phone: today's and tomorrow's visits (updating live),
check-in, check-out and acknowledging a shift, the day's diary, the household ledger and
leave requests.

A carer only ever sees and acts for the caregiver id of their sign-in: it is never read from
the form or the address, and a shift or household is only acted on when the carer's own
shifts (asked from scheduling) include it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, get_args

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from contracts import subjects
from contracts.scheduling.diary_v1 import (
    Appetite,
    HealthSign,
    LedgerKind,
    Mood,
    RecordDiary,
    RecordLedgerEntry,
)
from contracts.scheduling.leave_v1 import RequestLeave
from contracts.scheduling.queries_v1 import (
    DiariesList,
    DiariesQuery,
    DiaryLine,
    LeaveLine,
    LeaveList,
    LeaveQuery,
)
from contracts.scheduling.v1 import (
    AcknowledgeShift,
    CheckIn,
    CheckOut,
    ShiftLine,
    ShiftsOfDay,
    ShiftsQuery,
)
from services.console.auth import User
from services.console.core import BusUnavailable, Console
from services.console.i18n import translator
from services.console.pages.common import (
    Forbidden,
    console_of,
    lang_for,
    parse,
    parse_date,
    redirect,
    render,
    require,
    words_of,
)
from services.console.words.carer import ZH

router = APIRouter(prefix="/carer")
Carer = Depends(require("carer"))

APPETITES: tuple[str, ...] = get_args(Appetite)
MOODS: tuple[str, ...] = get_args(Mood)
SIGNS: tuple[str, ...] = get_args(HealthSign)
KINDS: tuple[str, ...] = get_args(LedgerKind)
# Tasks most visits include, ticked rather than typed; others are typed as free text.
TASKS = ("cooking", "cleaning", "laundry", "bathing", "shopping", "medicine", "company", "doctor")
TASK_SEPARATORS = re.compile(r"[,，、;；\n]+")
LEDGER_DAYS = 30  # the recent ledger shown under the form


def caregiver_of(user: User) -> str:
    assert user.caregiver_id, "a carer always has a caregiver id (checked when made)"
    return user.caregiver_id


def new_id(prefix: str) -> str:
    """An id made when a form is shown and sent back with it: the same form sent twice
    (a double tap, a resend after a timeout) is still one entry."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def clock_time(console: Console) -> Callable[[datetime | None], str]:
    def hm(value: datetime | None) -> str:
        return value.astimezone(console.clock.tz).strftime("%H:%M") if value else ""

    return hm


# -- the carer's own shifts --------------------------------------------------------------------


async def own_days(console: Console, user: User, *days: date) -> list[ShiftsOfDay]:
    """The carer's own shifts of each day (BusUnavailable when scheduling does not answer)."""
    return [
        await console.ask(
            subjects.RPC_SHIFTS,
            ShiftsQuery(date=day, caregiver_id=caregiver_of(user)),
            ShiftsOfDay,
        )
        for day in days
    ]


def next_two_days(console: Console) -> tuple[date, date]:
    today = console.today()
    return today, today + timedelta(days=1)


def households_of(days: list[ShiftsOfDay]) -> dict[str, str]:
    """Household id → address, of the carer's shifts on these days."""
    return {s.household_id: s.address for day in days for s in day.shifts}


@dataclass(frozen=True)
class ShiftAction:
    audit: str
    subject: str
    command: type[CheckIn] | type[CheckOut] | type[AcknowledgeShift]
    # (the shift, whether it is today's): offered on the page and accepted from it
    allowed: Callable[[ShiftLine, bool], bool]


SHIFT_ACTIONS: dict[str, ShiftAction] = {
    "check-in": ShiftAction(
        "check_in",
        subjects.CHECK_IN,
        CheckIn,
        lambda s, today: today and s.status in ("scheduled", "missed"),
    ),
    "check-out": ShiftAction(
        "check_out",
        subjects.CHECK_OUT,
        CheckOut,
        lambda s, today: today and s.status == "checked_in",
    ),
    "acknowledge": ShiftAction(
        "acknowledge_shift",
        subjects.ACKNOWLEDGE_SHIFT,
        AcknowledgeShift,
        lambda s, _today: not s.acknowledged and s.status != "done",
    ),
}


def can(action: str, shift: ShiftLine, today: bool) -> bool:
    return SHIFT_ACTIONS[action].allowed(shift, today)


async def _shifts(request: Request, user: User, template: str, **context: Any) -> HTMLResponse:
    console = console_of(request)
    try:
        days = await own_days(console, user, *next_two_days(console))
    except BusUnavailable:
        return shifts_unavailable(request, user, template, **context)
    labelled = list(zip(("carer.today", "carer.tomorrow"), days, strict=True))
    hm = clock_time(console)
    return render(request, template, user, days=labelled, live=True, can=can, hm=hm, **context)


def shifts_unavailable(request: Request, user: User, template: str, **context: Any) -> HTMLResponse:
    hm = clock_time(console_of(request))
    return unavailable(request, user, template, days=[], live=True, can=can, hm=hm, **context)


@router.get("", response_class=HTMLResponse)
async def home(request: Request, sent: str = "", refused: str = "", user: User = Carer) -> Response:
    if refused:
        t = words_of(request)
        return await _shifts(
            request, user, "carer/home.html", flash=t("carer.not_now"), flash_kind="warn"
        )
    return await _shifts(request, user, "carer/home.html", flash=sent_flash(request, sent))


@router.get("/shifts", response_class=HTMLResponse)
async def shifts_part(request: Request, user: User = Carer) -> Response:
    """The list alone: the home page swaps it in when the live feed says something changed."""
    return await _shifts(request, user, "carer/_shifts.html")


@router.post("/shifts/{shift_id}/{action}")
async def shift_action(
    request: Request, shift_id: str, action: str, user: User = Carer
) -> Response:
    what = SHIFT_ACTIONS.get(action)
    if what is None:
        raise HTTPException(404)
    console = console_of(request)
    try:
        days = await own_days(console, user, *next_two_days(console))
    except BusUnavailable:
        return shifts_unavailable(request, user, "carer/home.html")
    found = [(s, d.date) for d in days for s in d.shifts if s.shift_id == shift_id]
    if not found:
        raise Forbidden()  # not one of the carer's own shifts (or not today's or tomorrow's)
    shift, day = found[0]
    if not what.allowed(shift, day == console.today()):
        return redirect("/carer?refused=1")
    command = what.command(
        shift_id=shift.shift_id, caregiver_id=caregiver_of(user), at=console.clock.now()
    )
    details = {"shift_id": shift.shift_id, "household_id": shift.household_id}
    await console.act(user, what.audit, shift.shift_id, details, command=(what.subject, command))
    return redirect("/carer?sent=1")


# -- forms -------------------------------------------------------------------------------------


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def ticked(form: FormData, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str)]


def sent_flash(request: Request, sent: str) -> str | None:
    """After an action the page is shown again (?sent=1) saying the command went out."""
    return words_of(request)("action.sent") if sent else None


def unavailable(request: Request, user: User, template: str, **context: Any) -> HTMLResponse:
    """The form as typed, saying a service did not answer (nothing typed is lost)."""
    context.setdefault("errors", {})
    return render(request, template, user, 503, bus_error="error.bus", **context)


def typed_household(values: dict[str, Any]) -> dict[str, str]:
    """The household the form names, when the carer's own could not be asked for."""
    return {values["household_id"]: values["household_id"]} if values["household_id"] else {}


# -- the diary ---------------------------------------------------------------------------------


def blank_diary(household_id: str, day: date) -> dict[str, Any]:
    return {
        "household_id": household_id,
        "date": day.isoformat(),
        "appetite": "",
        "mood": "",
        "tasks": [],
        "other_tasks": "",
        "health_signs": [],
        "notes": "",
    }


def diary_form(form: FormData) -> dict[str, Any]:
    values = {name: text(form, name) for name in blank_diary("", date.min)}
    return values | {"tasks": ticked(form, "tasks"), "health_signs": ticked(form, "health_signs")}


def tasks_of(values: dict[str, Any]) -> list[str]:
    """The ticked tasks in Chinese (the station reads the diaries), then the typed ones."""
    done = [ZH[f"carer.task.{code}"] for code in TASKS if code in values["tasks"]]
    typed = TASK_SEPARATORS.split(values["other_tasks"])
    return done + [task.strip() for task in typed if task.strip()]


def diary_values(line: DiaryLine) -> dict[str, Any]:
    """A recorded diary as the form shows it (sending the form again replaces it)."""
    codes = {ZH[f"carer.task.{code}"]: code for code in TASKS}
    return blank_diary(line.household_id, line.date) | {
        "appetite": line.appetite,
        "mood": line.mood,
        "tasks": [codes[task] for task in line.tasks if task in codes],
        "other_tasks": ", ".join(task for task in line.tasks if task not in codes),
        "health_signs": list(line.health_signs),
        "notes": line.notes,
    }


async def recorded_diary(console: Console, household_id: str, day: date) -> DiaryLine | None:
    query = DiariesQuery(date_from=day, date_to=day, household_id=household_id)
    got = await console.ask(subjects.RPC_DIARIES, query, DiariesList)
    return got.diaries[0] if got.diaries else None


def diary_choices(households: dict[str, str]) -> dict[str, Any]:
    return {
        "households": list(households.items()),
        "appetites": APPETITES,
        "moods": MOODS,
        "signs": SIGNS,
        "tasks": TASKS,
    }


@router.get("/diary", response_class=HTMLResponse)
async def diary_page(
    request: Request, household_id: str = "", date: str = "", user: User = Carer
) -> Response:
    console = console_of(request)
    day = parse_date(date, console.today())
    try:
        households = households_of(await own_days(console, user, day))
        chosen = household_id if household_id in households else next(iter(households), "")
        earlier = await recorded_diary(console, chosen, day) if chosen else None
    except BusUnavailable:
        values = blank_diary(household_id, day)
        return unavailable(request, user, "carer/diary.html", values=values, **diary_choices({}))
    values = diary_values(earlier) if earlier else blank_diary(chosen, day)
    return render(
        request,
        "carer/diary.html",
        user,
        values=values,
        errors={},
        again=earlier is not None,
        **diary_choices(households),
    )


@router.post("/diary", response_class=HTMLResponse)
async def diary_send(request: Request, user: User = Carer) -> Response:
    console = console_of(request)
    lang = lang_for(request)
    values = diary_form(await request.form())
    day = parse_date(values["date"], console.today())
    try:
        households = households_of(await own_days(console, user, day))
    except BusUnavailable:
        choices = diary_choices(typed_household(values))
        return unavailable(request, user, "carer/diary.html", values=values, **choices)
    diary, errors = parse(
        RecordDiary,
        lang,
        household_id=values["household_id"],
        caregiver_id=caregiver_of(user),
        date=values["date"],
        tasks=tasks_of(values),
        appetite=values["appetite"],
        mood=values["mood"],
        health_signs=values["health_signs"],
        notes=values["notes"],
    )
    t = translator(lang)
    if values["household_id"] not in households:
        errors["household_id"] = t("carer.not_yours")
    if day > console.today():
        errors["date"] = t("carer.diary_future")
    if diary is None or errors:
        page = diary_choices(households)
        return render(request, "carer/diary.html", user, 422, values=values, errors=errors, **page)
    target = f"{diary.household_id} {diary.date}"
    await console.act(user, "record_diary", target, values, command=(subjects.RECORD_DIARY, diary))
    return redirect("/carer?sent=1")


# -- the household ledger ----------------------------------------------------------------------


def ledger_form(form: FormData) -> dict[str, Any]:
    values = {name: text(form, name) for name in ("household_id", "kind", "amount", "description")}
    return values | {"entry_id": text(form, "entry_id") or new_id("LE")}


async def ledger_books(
    console: Console, households: dict[str, str]
) -> list[tuple[str, str, DiariesList]]:
    """Each household's entries of the last days, with the cash held for it."""
    today = console.today()
    books = []
    for household_id, address in households.items():
        query = DiariesQuery(
            date_from=today - timedelta(days=LEDGER_DAYS - 1),
            date_to=today,
            household_id=household_id,
        )
        got = await console.ask(subjects.RPC_DIARIES, query, DiariesList)
        books.append((household_id, address, got))
    return books


async def _ledger(
    request: Request,
    user: User,
    values: dict[str, Any],
    households: dict[str, str],
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    page = {"values": values, "households": list(households.items()), "kinds": KINDS, **context}
    try:
        books = await ledger_books(console_of(request), households)
    except BusUnavailable:
        return unavailable(request, user, "carer/ledger.html", books=[], **page)
    return render(request, "carer/ledger.html", user, status_code, books=books, **page)


def ledger_unavailable(request: Request, user: User, values: dict[str, Any]) -> HTMLResponse:
    page = {"households": list(typed_household(values).items()), "kinds": KINDS}
    return unavailable(request, user, "carer/ledger.html", values=values, books=[], **page)


@router.get("/ledger", response_class=HTMLResponse)
async def ledger_page(
    request: Request, household_id: str = "", sent: str = "", user: User = Carer
) -> Response:
    console = console_of(request)
    values = {"household_id": household_id, "kind": "", "amount": "", "description": ""}
    values["entry_id"] = new_id("LE")
    try:
        households = households_of(await own_days(console, user, *next_two_days(console)))
    except BusUnavailable:
        return ledger_unavailable(request, user, values)
    flash = sent_flash(request, sent)
    return await _ledger(request, user, values, households, errors={}, flash=flash)


@router.post("/ledger", response_class=HTMLResponse)
async def ledger_send(request: Request, user: User = Carer) -> Response:
    console = console_of(request)
    lang = lang_for(request)
    values = ledger_form(await request.form())
    try:
        households = households_of(await own_days(console, user, *next_two_days(console)))
    except BusUnavailable:
        return ledger_unavailable(request, user, values)
    entry, errors = parse(
        RecordLedgerEntry,
        lang,
        entry_id=values["entry_id"],
        household_id=values["household_id"],
        caregiver_id=caregiver_of(user),
        date=console.today(),
        kind=values["kind"],
        amount=values["amount"],
        description=values["description"],
    )
    t = translator(lang)
    # the money type's own messages are English only; and an entry of nothing is refused later
    if values["amount"] and ("amount" in errors or (entry and entry.amount <= 0)):
        errors["amount"] = t("carer.ledger.amount_invalid")
    if values["household_id"] not in households:
        errors["household_id"] = t("carer.not_yours")
    if entry is None or errors:
        return await _ledger(request, user, values, households, 422, errors=errors)
    command = (subjects.RECORD_LEDGER_ENTRY, entry)
    await console.act(user, "record_ledger_entry", entry.entry_id, values, command=command)
    return redirect(f"/carer/ledger?sent=1&household_id={entry.household_id}")


# -- leave -------------------------------------------------------------------------------------


def leave_form(form: FormData) -> dict[str, Any]:
    values = {name: text(form, name) for name in ("first_day", "last_day", "reason")}
    return values | {"leave_id": text(form, "leave_id") or new_id("LV")}


async def own_leave(console: Console, user: User) -> list[LeaveLine]:
    """The carer's own leave requests, newest first (the query has no caregiver filter)."""
    got = await console.ask(subjects.RPC_LEAVE, LeaveQuery(), LeaveList)
    return [line for line in got.leaves if line.caregiver_id == caregiver_of(user)]


async def _leave(
    request: Request,
    user: User,
    values: dict[str, Any],
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    try:
        leaves = await own_leave(console_of(request), user)
    except BusUnavailable:
        return unavailable(request, user, "carer/leave.html", values=values, leaves=[], **context)
    return render(
        request, "carer/leave.html", user, status_code, values=values, leaves=leaves, **context
    )


@router.get("/leave", response_class=HTMLResponse)
async def leave_page(request: Request, sent: str = "", user: User = Carer) -> Response:
    values = {"first_day": "", "last_day": "", "reason": "", "leave_id": new_id("LV")}
    return await _leave(request, user, values, errors={}, flash=sent_flash(request, sent))


@router.post("/leave", response_class=HTMLResponse)
async def leave_send(request: Request, user: User = Carer) -> Response:
    console = console_of(request)
    lang = lang_for(request)
    values = leave_form(await request.form())
    leave, errors = parse(
        RequestLeave,
        lang,
        leave_id=values["leave_id"],
        caregiver_id=caregiver_of(user),
        first_day=values["first_day"],
        last_day=values["last_day"],
        reason=values["reason"],
    )
    t = translator(lang)
    if errors.pop("form", None):  # the only whole-form rule: the days' order
        errors["last_day"] = t("carer.leave.order")
    if leave and leave.first_day < console.today():
        errors["first_day"] = t("carer.leave.past")
    if leave is None or errors:
        return await _leave(request, user, values, 422, errors=errors)
    command = (subjects.REQUEST_LEAVE, leave)
    await console.act(user, "request_leave", leave.leave_id, values, command=command)
    return redirect("/carer/leave?sent=1")
