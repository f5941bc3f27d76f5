"""The supervisor's pages: the stations to inspect (each station's pages read-only), their
inspection notes, and the audit log of everything changed through the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from contracts import subjects
from contracts.dispatch.queries_v1 import HouseholdsList, HouseholdsQuery
from contracts.types import Id
from services.console.auth import User
from services.console.pages.common import (
    ask_or_none,
    console_of,
    lang_for,
    parse,
    redirect,
    render,
    require,
    words_of,
)
from services.console.store import inspection_notes

router = APIRouter()
Supervisor = Depends(require("supervisor"))


class InspectionNote(BaseModel):
    station_id: Id
    subject: str = Field(min_length=1, max_length=200)
    note: str = Field(min_length=1, max_length=4000)


async def _page(
    request: Request,
    user: User,
    station_id: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    flash: str | None = None,
) -> Response:
    console = console_of(request)
    households, bus_error = await ask_or_none(
        console, subjects.RPC_HOUSEHOLDS, HouseholdsQuery(), HouseholdsList
    )
    stations = sorted({h.station_id for h in households.households}) if households else []
    notes = await console.inspection_notes(station_id or None)
    return render(
        request,
        "supervisor/inspection.html",
        user,
        status_code,
        stations=stations,
        station_id=station_id,
        notes=notes,
        values=values or {"station_id": station_id},
        errors=errors or {},
        bus_error=bus_error,
        flash=flash,
    )


@router.get("/supervisor")
async def inspection(
    request: Request, station_id: str = "", saved: int = 0, user: User = Supervisor
) -> Response:
    flash = words_of(request)("supervisor.saved") if saved else None
    return await _page(request, user, station_id, flash=flash)


@router.post("/supervisor/notes")
async def add_note(
    request: Request,
    station_id: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    user: User = Supervisor,
) -> Response:
    values = {"station_id": station_id.strip(), "subject": subject.strip(), "note": note.strip()}
    parsed, errors = parse(InspectionNote, lang_for(request), **values)
    if parsed is None:
        return await _page(request, user, values["station_id"], values, errors, 422)
    console = console_of(request)
    await console.act(
        user,
        "inspection_note",
        parsed.station_id,
        parsed.model_dump(),
        write=inspection_notes.insert().values(
            at=console.clock.now(), user_id=user.user_id, **parsed.model_dump()
        ),
    )
    return redirect(f"/supervisor?station_id={parsed.station_id}&saved=1")


@router.get("/audit")
async def audit(
    request: Request, user_id: str = "", action: str = "", user: User = Supervisor
) -> Response:
    lines = await console_of(request).audit_lines(500, user_id or None, action or None)
    return render(
        request, "supervisor/audit.html", user, lines=lines, user_id=user_id, action=action
    )
