"""Time as a dependency, so scheduled work can run on simulated time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    tz: tzinfo

    def now(self) -> datetime: ...

    def today(self) -> date: ...


def in_zone(moment: datetime, tz: tzinfo) -> datetime:
    """A stored time in the service's zone. PostgreSQL answers timestamptz in UTC; SQLite hands
    back what was written without its zone, and the services write in the clock's zone."""
    return moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)


class SystemClock:
    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def today(self) -> date:
        return self.now().date()


class SimulatedClock:
    """A clock that only moves when told to (demo, tests, simulations)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs a timezone-aware start")
        self.tz = start.tzinfo
        self._now = start

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time does not run backwards")
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("needs a timezone-aware moment")
        if moment < self._now:
            raise ValueError("time does not run backwards")
        self._now = moment
        return self._now


class AcceleratedClock:
    """Time that runs ``speed`` times faster than the wall clock from a shared starting point.
    Processes given the same start, wall start and speed agree on the time, also after a
    restart: the fault tests run a month of several processes in minutes with it."""

    def __init__(
        self,
        start: datetime,
        wall_start: float,
        speed: float,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("an accelerated clock needs a timezone-aware start")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.tz = start.tzinfo
        self.start, self.wall_start, self.speed = start, wall_start, speed
        self._wall = wall

    def now(self) -> datetime:
        elapsed = max(0.0, self._wall() - self.wall_start) * self.speed
        return self.start + timedelta(seconds=elapsed)

    def today(self) -> date:
        return self.now().date()
