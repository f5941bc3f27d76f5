"""A stop that takes long says which tasks it still waits on (for diagnosing a hang)."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from services.system import _report_slow_stop


async def test_a_slow_stop_logs_where_each_task_waits() -> None:
    async def stuck_fetch() -> None:
        await asyncio.sleep(10)

    stuck = asyncio.create_task(stuck_fetch(), name="pull-loop-demo")
    await asyncio.sleep(0)
    with capture_logs() as logs:
        await _report_slow_stop(0.01)
    stuck.cancel()
    [entry] = [e for e in logs if e["event"] == "stopping is slow; still waiting"]
    [task] = [t for t in entry["tasks"] if t["task"] == "pull-loop-demo"]
    assert any("stuck_fetch" in where for where in task["at"])
