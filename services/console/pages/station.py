"""The station manager's operational pages: today's coverage board (live), open care requests
with their ranked shortlists (confirm or override), the caregivers' roster with certificates
about to expire, and the forms that ask dispatch for a carer or a replacement.

A supervisor reads every page of any station (``?station_id=``) but sends nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, time
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter, ValidationError

from contracts import subjects
from contracts.dispatch.queries_v1 import (
    HouseholdEntry,
    HouseholdsList,
    HouseholdsQuery,
    OpenRequest,
    OpenRequests,
    OpenRequestsQuery,
    Roster,
    RosterEntry,
    RosterQuery,
)
from contracts.dispatch.v1 import ConfirmAssignment, ReplaceCaregiver, RequestCare
from contracts.scheduling.v1 import ShiftLine, ShiftsOfDay, ShiftsQuery
from contracts.types import Id
from services.console.auth import User
from services.console.core import BusUnavailable, Console
from services.console.pages.common import (
    Forbidden,
    console_of,
    lang_for,
    local_time,
    parse,
    parse_date,
    redirect,
    render,
    require,
    station_of,
    words_of,
)

router = APIRouter(prefix="/station")
READER = Depends(require("station_manager", "supervisor"))
MANAGER = Depends(require("station_manager"))
Field = Annotated[str, Form()]
ID = TypeAdapter(Id)
# ?sent=<kind> after an action: the flash it shows (a fixed set: nothing typed is echoed)
SENT = {"request": "request.sent", "confirm": "requests.sent", "replace": "replace.sent"}
REQUEST_MODES = ("auto", "shortlist")  # batch waits for AssignStreet, not offered here
Context = dict[str, Any]


# -- the coverage board ----------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    household_id: str
    name: str
    address: str
    caregiver_id: str | None
    window: str
    status: str  # a shift's status, or "uncovered": no shift that day
    checked_in: str
    checked_out: str
    acknowledged: bool


def window_text(window: tuple[time, time]) -> str:
    return f"{window[0]:%H:%M}–{window[1]:%H:%M}"


def board_rows(
    homes: Iterable[HouseholdEntry], shifts: Iterable[ShiftLine], console: Console
) -> list[BoardRow]:
    """Every household of the station with its shift of the day; a shift whose household
    dispatch did not list (registered meanwhile) still shows."""
    by_home = {s.household_id: s for s in shifts}
    rows = [_row_of(h.household_id, h, by_home.pop(h.household_id, None), console) for h in homes]
    rows += [_row_of(hid, None, shift, console) for hid, shift in by_home.items()]
    return rows


def _row_of(
    household_id: str, home: HouseholdEntry | None, shift: ShiftLine | None, console: Console
) -> BoardRow:
    if shift is None:
        assert home is not None
        return BoardRow(
            household_id,
            home.name,
            home.address,
            home.caregiver_id,
            window_text(home.visit_window),
            "uncovered",
            "",
            "",
            False,
        )
    return BoardRow(
        household_id,
        (home.name if home else shift.household_name) or "",
        shift.address,
        shift.caregiver_id,  # a substitute's, when the usual caregiver is on leave
        window_text(shift.visit_window),
        shift.status,
        local_time(shift.checked_in_at, console)[-5:],  # HH:MM: the day is the board's
        local_time(shift.checked_out_at, console)[-5:],
        shift.acknowledged,
    )


def board_counts(rows: list[BoardRow]) -> dict[str, int]:
    """Covered: a shift is planned (whatever became of it); the others by status."""
    by_status = Counter(r.status for r in rows)
    covered = len(rows) - by_status["uncovered"]
    return {"covered": covered} | {
        s: by_status[s] for s in ("uncovered", "missed", "done", "checked_in")
    }


async def board_context(console: Console, station: str, day: date) -> Context:
    homes, shifts = await asyncio.gather(
        households(console, station),
        console.ask(subjects.RPC_SHIFTS, ShiftsQuery(date=day, station_id=station), ShiftsOfDay),
    )
    rows = board_rows(homes.households, shifts.shifts, console)
    return {"rows": rows, "counts": board_counts(rows), "holiday": shifts.holiday}


async def households(console: Console, station: str | None) -> HouseholdsList:
    return await console.ask(
        subjects.RPC_HOUSEHOLDS, HouseholdsQuery(station_id=station), HouseholdsList
    )


@router.get("", response_class=HTMLResponse)
async def board_page(
    request: Request,
    date: str | None = None,
    station_id: str | None = None,
    household_id: str = "",
    sent: str = "",
    user: User = READER,
) -> Response:
    station = chosen_station(user, station_id)
    if station is None:
        return await station_choice(request, user)
    day = parse_date(date, today(request))
    start = today(request).isoformat()
    values = {"household_id": household_id, "start_date": start, "mode": "auto"}
    return await show_board(request, user, station, day, values, **flash_of(request, sent))


@router.get("/board", response_class=HTMLResponse)
async def board_part(
    request: Request, date: str | None = None, station_id: str | None = None, user: User = READER
) -> Response:
    """The board alone: what the page asks again when the bus says something changed."""
    station = named_station(user, station_id)
    day = parse_date(date, today(request))
    build = partial(board_context, console_of(request), station, day)
    return await show(request, user, "station/_board.html", build, station=station, day=day)


async def show_board(
    request: Request,
    user: User,
    station: str,
    day: date,
    values: dict[str, str],
    status_code: int = 200,
    **context: Any,
) -> Response:
    build = partial(board_context, console_of(request), station, day)
    page = {"live": True, "station": station, "day": day, "values": values}
    return await show(
        request,
        user,
        "station/board.html",
        build,
        status_code,
        modes=REQUEST_MODES,
        **page,
        **context,
    )


@router.post("/request", response_class=HTMLResponse)
async def request_carer(
    request: Request,
    household_id: Field = "",
    start_date: Field = "",
    mode: Field = "",
    user: User = MANAGER,
) -> Response:
    values = {"household_id": household_id.strip(), "start_date": start_date, "mode": mode}
    request_id = new_id("R")
    cmd, errors = parse(
        RequestCare, lang_for(request), request_id=request_id, requested_by=user.user_id, **values
    )
    if mode and mode not in REQUEST_MODES:
        errors.setdefault("mode", words_of(request)("invalid.literal_error"))
    again = partial(show_board, request, user, station_of(user, None), today(request), values)
    return await act_on_household(
        request,
        user,
        cmd,
        errors,
        again,
        (subjects.REQUEST_CARE, "request_care", "request"),
        values | {"request_id": request_id},
    )


async def act_on_household(
    request: Request,
    user: User,
    cmd: RequestCare | ReplaceCaregiver | None,
    errors: dict[str, str],
    again: Callable[..., Awaitable[Response]],
    what: tuple[str, str, str],
    details: dict[str, str],
) -> Response:
    """Send a command about one of the station's households (``what``: its subject, the
    audit action and the flash), or show the form ``again`` with the errors."""
    subject, action, sent = what
    served = isinstance(cmd, ReplaceCaregiver)  # a replacement needs a current caregiver
    if cmd is not None and not errors:
        station = station_of(user, None)
        try:
            problem = await household_problem(
                console_of(request), station, cmd.household_id, served
            )
        except BusUnavailable:
            return await again(503, bus_error="error.bus")
        if problem:
            errors["household_id"] = words_of(request)(problem)
    if cmd is None or errors:
        return await again(422, errors=errors)
    await console_of(request).act(user, action, cmd.household_id, details, command=(subject, cmd))
    back = "/station/roster" if served else "/station"
    return redirect(f"{back}?sent={sent}")


async def household_problem(
    console: Console, station: str, household_id: str, served: bool
) -> str | None:
    """Why a household cannot be the subject of the request (a word key), or None. ``served``:
    it must have a caregiver (a replacement), else it must have none (a new request)."""
    found = {h.household_id: h for h in (await households(console, station)).households}
    home = found.get(household_id)
    if home is None:
        return "request.not_ours"
    if served and home.caregiver_id is None:
        return "replace.no_caregiver"
    if not served and home.caregiver_id is not None:
        return "request.has_caregiver"
    return None


# -- open requests and their shortlists ----------------------------------------------


async def requests_context(console: Console, station: str) -> Context:
    open_now, roster = await asyncio.gather(
        console.ask(
            subjects.RPC_OPEN_REQUESTS, OpenRequestsQuery(station_id=station), OpenRequests
        ),
        roster_of(console, station),
    )
    by_street: dict[str, list[tuple[str, str]]] = {}
    for c in roster.caregivers:
        if c.active:
            by_street.setdefault(c.street, []).append(
                (c.caregiver_id, f"{c.caregiver_id} {c.name}")
            )
    return {
        "requests": open_now.requests,
        "names": {c.caregiver_id: c.name for c in roster.caregivers},
        "pool": by_street,  # whom an override may choose: dispatch keeps to the street
    }


async def roster_of(console: Console, station: str) -> Roster:
    query = RosterQuery(on=console.today(), station_id=station)
    return await console.ask(subjects.RPC_ROSTER, query, Roster)


@router.get("/requests", response_class=HTMLResponse)
async def requests_page(
    request: Request, station_id: str | None = None, sent: str = "", user: User = READER
) -> Response:
    station = chosen_station(user, station_id)
    if station is None:
        return await station_choice(request, user)
    return await show_requests(request, user, station, **flash_of(request, sent))


@router.get("/requests/list", response_class=HTMLResponse)
async def requests_part(
    request: Request, station_id: str | None = None, user: User = READER
) -> Response:
    station = named_station(user, station_id)
    build = partial(requests_context, console_of(request), station)
    return await show(request, user, "station/_requests.html", build, station=station)


async def show_requests(
    request: Request, user: User, station: str, status_code: int = 200, **context: Any
) -> Response:
    build = partial(requests_context, console_of(request), station)
    page = {"live": True, "station": station, "failed": None}
    return await show(request, user, "station/requests.html", build, status_code, **page | context)


@router.post("/requests/{request_id}/confirm", response_class=HTMLResponse)
async def confirm(
    request: Request,
    request_id: str,
    caregiver_id: Field = "",
    override_reason: Field = "",
    user: User = MANAGER,
) -> Response:
    """Confirm the top-ranked candidate, or anyone else with a reason (an override)."""
    station = station_of(user, None)
    values = {"caregiver_id": caregiver_id.strip(), "override_reason": override_reason.strip()}
    try:
        found = await open_request(console_of(request), request_id)
    except BusUnavailable:
        return await show_requests(request, user, station, 503, bus_error="error.bus")
    if found is not None and found.station_id != station:
        raise Forbidden()
    cmd, errors = parse(
        ConfirmAssignment,
        lang_for(request),
        request_id=request_id,
        decided_by=user.user_id,
        **values,
    )
    if found is None:  # answered meanwhile (or never open): nothing left to decide
        gone = words_of(request)("requests.gone")
        return await show_requests(request, user, station, 422, flash=gone, flash_kind="error")
    top = is_top(found, values["caregiver_id"])
    if cmd and not top and not cmd.override_reason:
        errors["override_reason"] = words_of(request)("requests.reason_needed")
    if cmd is None or errors:
        failed = {"failed": request_id, "values": values, "errors": errors}
        return await show_requests(request, user, station, 422, **failed)
    action = "confirm_assignment" if top else "override_assignment"
    await console_of(request).act(
        user, action, request_id, values, command=(subjects.CONFIRM_ASSIGNMENT, cmd)
    )
    return redirect("/station/requests?sent=confirm")


async def open_request(console: Console, request_id: str) -> OpenRequest | None:
    """The open request of any station (so another station's is refused, not "gone")."""
    answer = await console.ask(subjects.RPC_OPEN_REQUESTS, OpenRequestsQuery(), OpenRequests)
    return next((r for r in answer.requests if r.request_id == request_id), None)


def is_top(request: OpenRequest, caregiver_id: str) -> bool:
    return any(c.rank == 1 and c.caregiver_id == caregiver_id for c in request.candidates)


# -- roster and replacements -----------------------------------------------------------


def flagged(entry: RosterEntry) -> bool:
    return entry.expiring_soon or not entry.certificates_valid


async def roster_context(console: Console, station: str) -> Context:
    roster, homes = await asyncio.gather(roster_of(console, station), households(console, station))
    served = [h for h in homes.households if h.caregiver_id]
    return {
        # certificates to renew first: the rest keep dispatch's order
        "caregivers": sorted(roster.caregivers, key=lambda c: not flagged(c)),
        "flagged": sum(flagged(c) for c in roster.caregivers),
        "within": roster.expiring_within_days,
        "served": [
            (h.household_id, f"{h.household_id} {h.name} · {h.caregiver_id}") for h in served
        ],
    }


@router.get("/roster", response_class=HTMLResponse)
async def roster_page(
    request: Request,
    station_id: str | None = None,
    household_id: str = "",
    sent: str = "",
    user: User = READER,
) -> Response:
    station = chosen_station(user, station_id)
    if station is None:
        return await station_choice(request, user)
    values = {"household_id": household_id, "start_date": today(request).isoformat()}
    return await show_roster(request, user, station, values, **flash_of(request, sent))


async def show_roster(
    request: Request,
    user: User,
    station: str,
    values: dict[str, str],
    status_code: int = 200,
    **context: Any,
) -> Response:
    build = partial(roster_context, console_of(request), station)
    page = {"station": station, "values": values}
    return await show(request, user, "station/roster.html", build, status_code, **page, **context)


@router.post("/replace", response_class=HTMLResponse)
async def replace(
    request: Request,
    household_id: Field = "",
    start_date: Field = "",
    reason: Field = "",
    user: User = MANAGER,
) -> Response:
    """The elder asks for another caregiver: dispatch matches again without the current one."""
    values = {"household_id": household_id.strip(), "start_date": start_date, "reason": reason}
    new_request_id = new_id("RP")
    cmd, errors = parse(
        ReplaceCaregiver,
        lang_for(request),
        new_request_id=new_request_id,
        requested_by=user.user_id,
        **(values | {"reason": reason.strip()}),
    )
    again = partial(show_roster, request, user, station_of(user, None), values)
    return await act_on_household(
        request,
        user,
        cmd,
        errors,
        again,
        (subjects.REPLACE_CAREGIVER, "replace_caregiver", "replace"),
        values | {"new_request_id": new_request_id},
    )


# -- shared by the pages above ---------------------------------------------------------


def chosen_station(user: User, station_id: str | None) -> str | None:
    """The station the page is about; None: a supervisor who has not picked one (or named
    one that cannot be a station id)."""
    if user.role == "supervisor":
        try:
            return ID.validate_python(station_id) if station_id else None
        except ValidationError:
            return None
    return station_of(user, station_id)


def named_station(user: User, station_id: str | None) -> str:
    """For the page parts: the station must be named already."""
    station = chosen_station(user, station_id)
    if station is None:
        raise HTTPException(400, "station_id is needed")
    return station


async def station_choice(request: Request, user: User) -> Response:
    """A supervisor picks the station: those dispatch has households for."""

    async def stations() -> Context:
        homes = await households(console_of(request), None)
        return {"stations": sorted({h.station_id for h in homes.households})}

    return await show(request, user, "station/choose.html", stations, path=request.url.path)


async def show(
    request: Request,
    user: User,
    template: str,
    build: Callable[[], Awaitable[Context]],
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The page with what ``build`` asked the services; the bus error (503) if one did not
    answer. Forms start with no values and no errors."""
    context = {"values": {}, "errors": {}} | context
    try:
        context |= await build()
    except BusUnavailable:
        context["bus_error"], status_code = "error.bus", 503
    return render(request, template, user, status_code, **context)


def flash_of(request: Request, sent: str) -> Context:
    return {"flash": words_of(request)(SENT[sent])} if sent in SENT else {}


def today(request: Request) -> date:
    return console_of(request).today()


def new_id(prefix: str) -> str:
    """A request id made here (dispatch treats a repeated id as the same request)."""
    return f"{prefix}-{uuid.uuid4().hex[:20]}"
