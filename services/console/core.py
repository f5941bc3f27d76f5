"""What the console's pages use: users and the audit log (its own database), questions to the
other services (request/reply on the bus), commands (through its outbox, in the same
transaction as their audit line: an action is never audited without being sent, nor sent
without being audited) and live events for pages that update themselves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from contracts.envelope import Envelope, Payload, headers_for
from services.console.auth import User, hash_password, password_matches, user_problem
from services.console.store import audit_log, inspection_notes, users
from services.infra.logging import get_logger
from services.infra.runtime import Service

R = TypeVar("R", bound=BaseModel)
log = get_logger("homecare.console")

# What live pages follow: visits and shifts, assignments, billing runs and their progress.
LIVE_SUBJECTS = (
    "homecare.scheduling.evt.>",
    "homecare.dispatch.evt.>",
    "homecare.billing.evt.>",
    "homecare.progress.billing.*",
)


class BusUnavailable(RuntimeError):
    """A question to another service got no answer (service down, bus unreachable)."""


class UserExists(ValueError):
    pass


class Console:
    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.store = svc.store
        self.clock = svc.clock
        self.settings = svc.settings
        self.live = LiveHub()

    def today(self) -> date:
        return self.clock.today()

    # -- users -------------------------------------------------------------------------

    async def add_user(
        self,
        user_id: str,
        name: str,
        role: str,
        password: str,
        station_id: str | None = None,
        caregiver_id: str | None = None,
    ) -> None:
        problem = user_problem(role, station_id, caregiver_id)
        if problem:
            raise ValueError(problem)
        async with self.store.transaction() as tx:
            found = await tx.conn.execute(
                sa.select(users.c.user_id).where(users.c.user_id == user_id)
            )
            if found.first() is not None:
                raise UserExists(f"user {user_id} exists already")
            await tx.conn.execute(
                users.insert().values(
                    user_id=user_id,
                    name=name,
                    role=role,
                    station_id=station_id,
                    caregiver_id=caregiver_id,
                    password_hash=hash_password(password),
                    active=True,
                    created_at=self.clock.now(),
                )
            )

    async def sign_in(self, user_id: str, password: str) -> User | None:
        rows = await self.store.read(sa.select(users).where(users.c.user_id == user_id))
        # hash even for an unknown user, so the answer's time does not tell who exists
        stored = rows[0].password_hash if rows else hash_password("-")
        if not password_matches(password, stored) or not rows or not rows[0].active:
            return None
        return _user(rows[0])

    async def user(self, user_id: str) -> User | None:
        rows = await self.store.read(
            sa.select(users).where(users.c.user_id == user_id, users.c.active.is_(True))
        )
        return _user(rows[0]) if rows else None

    # -- the bus -------------------------------------------------------------------------

    async def ask(self, subject: str, query: Payload, reply: type[R], timeout: float = 5.0) -> R:
        env = Envelope.wrap(query, producer="console", occurred_at=self.clock.now())
        try:
            msg = await self.svc.broker.connection.request(
                subject, env.to_json(), timeout=timeout, headers=headers_for(env)
            )
        except Exception as exc:  # timeout, no responders, connection closed
            raise BusUnavailable(f"{subject}: {exc!r}") from exc
        return reply.model_validate_json(msg.data)

    async def act(
        self,
        user: User,
        action: str,
        target: str,
        details: dict[str, Any],
        command: tuple[str, Payload] | None = None,
        write: sa.Executable | None = None,
    ) -> Envelope[Any] | None:
        """Audit an action and send its command, or write the console's own row, in one
        transaction: nothing is changed without its audit line."""
        async with self.store.transaction() as tx:
            sent = await tx.emit(*command) if command else None
            if write is not None:
                await tx.conn.execute(write)
            await tx.conn.execute(
                audit_log.insert().values(
                    at=self.clock.now(),
                    user_id=user.user_id,
                    role=user.role,
                    action=action,
                    target=target[:120],
                    details=to_jsonable_python(details),
                    event_id=sent.event_id if sent else None,
                )
            )
        return sent

    async def audit_lines(
        self, limit: int = 200, user_id: str | None = None, action: str | None = None
    ) -> list[Any]:
        """Newest first, optionally of one user or one kind of action."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if user_id:
            query = query.where(audit_log.c.user_id == user_id)
        if action:
            query = query.where(audit_log.c.action == action)
        return await self.store.read(query)

    async def inspection_notes(self, station_id: str | None = None, limit: int = 100) -> list[Any]:
        query = sa.select(inspection_notes).order_by(inspection_notes.c.id.desc()).limit(limit)
        if station_id:
            query = query.where(inspection_notes.c.station_id == station_id)
        return await self.store.read(query)


def _user(row: Any) -> User:
    return User(row.user_id, row.name, row.role, row.station_id, row.caregiver_id)


class LiveHub:
    """Fans the bus's events out to the pages following them (server-sent events). A slow
    page loses old notices rather than holding the others up: a notice only says "look
    again", the page then asks for the current state."""

    QUEUE = 100

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[tuple[str, bytes]]] = set()
        self._subs: list[Any] = []

    async def start(self, nc: Any) -> None:
        async def fan_out(msg: Any) -> None:
            for queue in list(self._queues):
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait((msg.subject, msg.data))

        for subject in LIVE_SUBJECTS:
            self._subs.append(await nc.subscribe(subject, cb=fan_out))

    async def stop(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()

    @contextlib.asynccontextmanager
    async def follow(self) -> AsyncIterator[asyncio.Queue[tuple[str, bytes]]]:
        queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(self.QUEUE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
