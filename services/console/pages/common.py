"""What every console page uses: the signed-in user, role checks, the user's language,
rendering a template, reading a form into a contract message with the errors in the user's
language, and acting (audit + command) or asking (request/reply) with a clear error when a
service cannot be reached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError

from contracts.envelope import Payload
from services.console.auth import ROLES, Role, User
from services.console.core import BusUnavailable, Console
from services.console.i18n import Lang, lang_of, translator

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))
M = TypeVar("M", bound=BaseModel)

# Where each role lands after signing in, and the pages its navigation shows.
HOME: dict[str, str] = {
    "station_manager": "/station",
    "carer": "/carer",
    "district_officer": "/district",
    "finance": "/finance",
    "supervisor": "/supervisor",
}


# Each role's navigation: (path, word key). Pages of an area check the role themselves.
NAV: dict[str, tuple[tuple[str, str], ...]] = {
    "station_manager": (
        ("/station", "nav.board"),
        ("/station/requests", "nav.requests"),
        ("/station/roster", "nav.roster"),
        ("/station/leave", "nav.leave"),
        ("/station/diaries", "nav.diaries"),
        ("/station/appraisals", "nav.appraisals"),
    ),
    "carer": (("/carer", "nav.shifts"), ("/carer/leave", "nav.my_leave")),
    "district_officer": (("/district", "nav.round"),),
    "finance": (("/finance", "nav.billing"),),
    "supervisor": (
        ("/supervisor", "nav.inspection"),
        ("/station", "nav.board"),
        ("/finance", "nav.billing"),
        ("/district", "nav.round"),
        ("/audit", "nav.audit"),
    ),
}


def nav_links(user: User) -> tuple[tuple[str, str], ...]:
    return NAV.get(user.role, ())


def nav_here(user: User, path: str) -> str | None:
    """The navigation entry the page belongs to: the longest that starts its path."""
    matches = [href for href, _ in nav_links(user) if path == href or path.startswith(href + "/")]
    return max(matches, key=len, default=None)


templates.env.globals["nav_links"] = nav_links
templates.env.globals["nav_here"] = nav_here


class SignInNeeded(Exception):
    pass


class Forbidden(Exception):
    pass


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def lang_for(request: Request) -> Lang:
    return lang_of(request.cookies.get("lang"))


async def current_user(request: Request) -> User | None:
    user_id = request.session.get("user_id")
    if not user_id:
        return None
    return await console_of(request).user(user_id)


class RoleCheck:
    """A dependency: the signed-in user when their role is one of ``roles`` (sign-in page
    otherwise; 403 page for another role). Tests read ``roles`` to try every page with
    every other role."""

    def __init__(self, roles: tuple[Role, ...]) -> None:
        self.roles = roles

    async def __call__(self, request: Request) -> User:
        user = await current_user(request)
        if user is None:
            raise SignInNeeded()
        if user.role not in self.roles:
            raise Forbidden()
        return user


def require(*roles: Role) -> RoleCheck:
    return RoleCheck(roles)


SignedIn = Depends(require(*ROLES))


def station_of(user: User, station_id: str | None) -> str:
    """The station a page is about: a station manager's own (asking for another is refused);
    a supervisor names one."""
    if user.role == "station_manager":
        assert user.station_id
        if station_id and station_id != user.station_id:
            raise Forbidden()
        return user.station_id
    if not station_id:
        raise HTTPException(400, "station_id is needed")
    return station_id


def render(
    request: Request,
    template: str,
    user: User | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = lang_for(request)
    console = console_of(request)
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "t": translator(lang),
            "lang": lang,
            "today": console.today(),
            "now": console.clock.now(),
            **context,
        },
        status_code=status_code,
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def form_errors(exc: ValidationError, lang: Lang) -> dict[str, str]:
    """Field name → what is wrong, in the user's language (pydantic's message in English)."""
    t = translator(lang)
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"] if not isinstance(p, int)) or "form"
        kind = error["type"]
        key = f"invalid.{kind}"
        text = t(key)
        if text == key:  # no words for this kind: pydantic's own message
            text = t("invalid.other", detail=error["msg"])
        elif "ctx" in error:
            text = t(key, **{k: str(v) for k, v in error["ctx"].items()})
        errors.setdefault(field, text)
    return errors


def parse(model: type[M], lang: Lang, **fields: Any) -> tuple[M | None, dict[str, str]]:
    """The message from form fields (blank fields left out, so defaults apply), or the
    errors by field."""
    values = {k: v for k, v in fields.items() if v not in ("", None)}
    try:
        return model(**values), {}
    except ValidationError as exc:
        return None, form_errors(exc, lang)


async def ask_or_none(
    console: Console, subject: str, query: Payload, reply: type[M]
) -> tuple[M | None, str | None]:
    """The reply, or None and the reason key (error.bus) when nobody answered."""
    try:
        return await console.ask(subject, query, reply), None
    except BusUnavailable:
        return None, "error.bus"


def parse_date(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def local_time(value: datetime | None, console: Console) -> str:
    if value is None:
        return ""
    return value.astimezone(console.clock.tz).strftime("%Y-%m-%d %H:%M")


def this_month(console: Console) -> str:
    return console.today().strftime("%Y-%m")


def around(month: str) -> tuple[str, str]:
    """The months before and after ``month``."""
    year, number = int(month[:4]), int(month[5:7])
    before = date(year - 1, 12, 1) if number == 1 else date(year, number - 1, 1)
    after = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return before.strftime("%Y-%m"), after.strftime("%Y-%m")


def words_of(request: Request) -> Callable[..., str]:
    return translator(lang_for(request))
