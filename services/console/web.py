"""The console's web application: sessions, sign-in, language, the live feed and each area's
pages (services/console/pages/). Server-rendered Jinja2 with htmx; no front-end build."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from services.console.auth import User
from services.console.core import Console
from services.console.pages import (
    carer,
    district,
    finance,
    station,
    station_review,
    supervisor,
)
from services.console.pages.common import (
    HOME,
    Forbidden,
    SignedIn,
    SignInNeeded,
    current_user,
    lang_for,
    redirect,
    render,
)
from services.console.refusals import dismiss, refusals_of
from services.infra.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
# Each area's pages (a module with a ``router``).
PAGES = (station, station_review, carer, district, finance, supervisor)
SESSION_HOURS = 12
# The live feed says "look again" at most this often, however busy the bus is.
LIVE_THROTTLE_SECONDS = 0.5


def session_secret(settings: Settings) -> str:
    """The configured key, else one made on first start and kept (sessions survive restarts)."""
    if settings.console_secret:
        return settings.console_secret
    path = settings.var_dir / "console-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def create_app(console: Console) -> FastAPI:
    app = FastAPI(title="homecare console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = console
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(console.settings),
        session_cookie="homecare_session",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",  # a form on another site cannot act with the user's session
        https_only=False,
    )
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _exc: SignInNeeded) -> Response:
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, _exc: Forbidden) -> Response:
        user = await current_user(request)
        return render(request, "forbidden.html", user, status_code=403)

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        user = await current_user(request)
        if user is None:
            return redirect("/login")
        return redirect(HOME[user.role])

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "") -> Response:
        return render(request, "login.html", None, next=next, user_id="", failed=False)

    @app.post("/login", response_class=HTMLResponse)
    async def login(
        request: Request,
        user_id: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "",
    ) -> Response:
        user = await console.sign_in(user_id.strip(), password)
        if user is None:
            return render(request, "login.html", None, 401, next=next, user_id=user_id, failed=True)
        request.session.clear()
        request.session["user_id"] = user.user_id
        await console.act(user, "sign_in", user.user_id, {})
        # only a path on this site: never send a user on to another one
        target = next if next.startswith("/") and not next.startswith("//") else HOME[user.role]
        return redirect(target)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        request.session.clear()
        return redirect("/login")

    @app.get("/lang/{lang}")
    async def choose_language(request: Request, lang: str) -> Response:
        back = request.headers.get("referer") or "/"
        response = redirect(back if "://" not in back or _same_site(request, back) else "/")
        response.set_cookie("lang", "en" if lang == "en" else "zh", max_age=365 * 86400)
        return response

    @app.get("/live")
    async def live(request: Request, user: User = SignedIn) -> Response:
        return StreamingResponse(_live_events(console, request), media_type="text/event-stream")

    @app.get("/refusals", response_class=HTMLResponse)
    async def my_refusals(request: Request, user: User = SignedIn) -> Response:
        found = await refusals_of(console.store, user.user_id, console.clock.now())
        return render(request, "_refusals.html", user, refusals=found)

    @app.post("/refusals/{refusal_id}/dismiss", response_class=HTMLResponse)
    async def dismiss_refusal(request: Request, refusal_id: str, user: User = SignedIn) -> Response:
        await dismiss(console.store, user.user_id, refusal_id)
        return await my_refusals(request, user)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for area in PAGES:
        app.include_router(area.router)
    app.state.lang_for = lang_for
    return app


def _same_site(request: Request, url: str) -> bool:
    return url.startswith(str(request.base_url))


async def _live_events(console: Console, request: Request) -> AsyncIterator[str]:
    """Server-sent events: one ``change`` naming the subjects seen, at most twice a second,
    and a comment every 15 s so proxies keep the stream open."""
    async with console.live.follow() as queue:
        yield "retry: 3000\n\n"
        while not await request.is_disconnected():
            try:
                subject, data = await asyncio.wait_for(queue.get(), timeout=15)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            subjects = {subject}
            progress = data if subject.startswith("homecare.progress.") else None
            await asyncio.sleep(LIVE_THROTTLE_SECONDS)
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    more, more_data = queue.get_nowait()
                    subjects.add(more)
                    if more.startswith("homecare.progress."):
                        progress = more_data
            yield f"event: change\ndata: {' '.join(sorted(subjects))}\n\n"
            if progress is not None:
                yield f"event: progress\ndata: {progress.decode(errors='replace')}\n\n"
