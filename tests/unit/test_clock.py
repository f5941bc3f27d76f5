"""SimulatedClock: time moves only forward, and only when told to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.infra.clock import SimulatedClock, SystemClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 1, 23, 30, tzinfo=SHANGHAI)


def test_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2026, 11, 1, 8))


def test_stands_still_until_told() -> None:
    clock = SimulatedClock(START)
    assert clock.now() == START
    assert clock.now() == START
    assert clock.tz is SHANGHAI
    assert clock.today() == date(2026, 11, 1)


def test_advance_moves_now_and_today() -> None:
    clock = SimulatedClock(START)
    assert clock.advance(timedelta(hours=1)) == START + timedelta(hours=1)
    assert clock.now() == START + timedelta(hours=1)
    assert clock.today() == date(2026, 11, 2)
    assert clock.advance(timedelta(0)) == START + timedelta(hours=1)


def test_advance_never_backwards() -> None:
    clock = SimulatedClock(START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(microseconds=-1))
    assert clock.now() == START


def test_set_jumps_forward_only() -> None:
    clock = SimulatedClock(START)
    later = datetime(2026, 11, 5, 9, tzinfo=SHANGHAI)
    assert clock.set(later) == later
    assert clock.now() == later
    with pytest.raises(ValueError, match="backwards"):
        clock.set(START)
    assert clock.now() == later


def test_set_compares_instants_across_zones() -> None:
    clock = SimulatedClock(START)  # 15:30 UTC
    with pytest.raises(ValueError, match="backwards"):
        clock.set(datetime(2026, 11, 1, 15, 29, tzinfo=UTC))
    clock.set(datetime(2026, 11, 1, 15, 31, tzinfo=UTC))
    assert clock.now() - START == timedelta(minutes=1)


def test_set_refuses_naive_moment() -> None:
    clock = SimulatedClock(START)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2027, 1, 1))


def test_system_clock_uses_its_zone() -> None:
    clock = SystemClock(SHANGHAI)
    now = clock.now()
    assert now.tzinfo is SHANGHAI
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    assert clock.today() in {now.date(), clock.now().date()}


def test_accelerated_clocks_sharing_a_start_agree_also_after_a_restart() -> None:
    from services.infra.clock import AcceleratedClock

    wall = [1000.0]
    start = datetime(2026, 11, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    first = AcceleratedClock(start, wall_start=1000.0, speed=3600, wall=lambda: wall[0])
    assert first.now() == start
    wall[0] = 1010.0  # ten wall seconds: ten simulated hours
    assert first.now() == start + timedelta(hours=10)
    assert first.today() == date(2026, 11, 1)
    restarted = AcceleratedClock(start, wall_start=1000.0, speed=3600, wall=lambda: wall[0])
    assert restarted.now() == first.now()
    wall[0] = 990.0  # a wall clock stepped back does not move simulated time back before start
    assert first.now() == start


def test_settings_choose_the_clock() -> None:
    from services.infra.clock import AcceleratedClock, SystemClock
    from services.infra.settings import Settings, clock_for

    assert isinstance(clock_for(Settings(_env_file=None)), SystemClock)  # type: ignore[call-arg]
    accelerated = clock_for(
        Settings(
            clock_start=datetime(2026, 11, 1, 8),  # no zone: the service's
            clock_wall_start=0.0,
            clock_speed=2.0,
            _env_file=None,  # type: ignore[call-arg]
        )
    )
    assert isinstance(accelerated, AcceleratedClock)
    assert accelerated.start.tzinfo == ZoneInfo("Asia/Shanghai") and accelerated.speed == 2.0
    assert accelerated.now() > datetime(2026, 11, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai"))
