"""The console in a browser, against the real services on a real nats-server: a station
manager assigns a carer, the carer's phone page shows the shift, the carer checks in and out
and writes the diary, finance runs the month and downloads the household's statement. Every
main page is saved as a screenshot (var/test-output/screenshots/)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from pathlib import Path

from builders import caregiver, household, until_registered
from conftest import SHANGHAI, eventually
from console_web import PASSWORD, add_user, base_url
from playwright.async_api import Browser, Page, expect

from contracts import subjects
from contracts.scheduling.v1 import GenerateShifts
from services.client import BusClient
from services.demo.watch import BusWatcher
from services.infra.clock import SimulatedClock
from services.system import System

# Events cross the bus and the pages re-ask: allow for a busy 2-core machine.
expect.set_options(timeout=20_000)
Screenshot = Callable[[Page, str], Awaitable[Path]]
DAY = date(2026, 11, 2)
PHONE = {"width": 390, "height": 844}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


async def sign_in(page: Page, address: str, user_id: str, next_path: str) -> None:
    await page.goto(f"{address}/login?next={next_path}")
    await page.fill("input[name=user_id]", user_id)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(re.escape(next_path)))


async def new_page(browser: Browser, viewport: dict[str, int] | None = None) -> Page:
    context = await browser.new_context(
        viewport=viewport or {"width": 1280, "height": 800},  # type: ignore[typeddict-item]
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    return await context.new_page()


async def test_a_day_of_care_and_its_bill_through_the_console(
    console_system: System,
    client: BusClient,
    clock: SimulatedClock,
    chromium_browser: Browser,
    screenshot: Screenshot,
) -> None:
    address = base_url(console_system)
    clock.set(at(DAY, 7, 30))
    watcher = BusWatcher(client.nc)
    await watcher.start()
    await client.send_many(
        [
            (subjects.REGISTER_CAREGIVER, caregiver("C1")),
            (subjects.REGISTER_HOUSEHOLD, household("H1")),
            (subjects.REGISTER_HOUSEHOLD, household("H2")),
        ]
    )
    await until_registered(watcher, caregivers=1, households=2)
    for user_id, role, extra in (
        ("manager", "station_manager", {"station_id": "S1"}),
        ("carer", "carer", {"caregiver_id": "C1"}),
        ("finance", "finance", {}),
        ("district", "district_officer", {}),
        ("supervisor", "supervisor", {}),
    ):
        await add_user(console_system, user_id, role, name=f"{user_id} 测试", **extra)

    # -- the station manager asks for a carer and confirms the best candidate --------------
    manager = await new_page(chromium_browser)
    await manager.goto(f"{address}/login?next=/station")
    await screenshot(manager, "01-login")
    await sign_in(manager, address, "manager", "/station")
    await manager.fill("input[name=household_id]", "H1")
    await manager.fill("input[name=start_date]", DAY.isoformat())
    await manager.select_option("select[name=mode]", "shortlist")
    await manager.click("form[action='/station/request'] button")
    await expect(manager.locator(".flash")).to_be_visible()

    await manager.goto(f"{address}/station/requests")
    confirm = manager.locator("form[action$='/confirm'] button").first
    await expect(confirm).to_be_visible()  # the shortlist arrives over the bus
    await screenshot(manager, "03-station-requests")
    await confirm.click()
    await manager.wait_for_url(re.compile("sent=confirm"))
    await watcher.wait_until(
        lambda: watcher.by_type["dispatch.CaregiverAssigned"] == 1, "assignment", timeout=20
    )
    await eventually(
        lambda: client.caught_up(subjects.DISPATCH_STREAM, "scheduling_on_caregiver_assigned"),
        "scheduling to record the assignment",
    )
    # the evening job would make the day's shifts; on the test's clock we ask for them
    await client.send(subjects.GENERATE_SHIFTS, GenerateShifts(date=DAY))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.ShiftScheduled"] >= 1, "the shift", timeout=20
    )

    await manager.goto(f"{address}/station")
    board = manager.locator("#board")
    await expect(board).to_contain_text("五一路H1号")
    await expect(board).to_contain_text("待服务")
    await screenshot(manager, "02-station-board")

    # -- the carer's phone: the shift, check-in, check-out, the diary ----------------------
    carer = await new_page(chromium_browser, PHONE)
    await sign_in(carer, address, "carer", "/carer")
    await expect(carer.locator("body")).to_contain_text("五一路H1号")
    await screenshot(carer, "05-carer-phone")
    clock.set(at(DAY, 9, 5))
    await carer.click("button[data-action=check-in]")
    await carer.wait_for_url(re.compile("sent=1"))
    await expect(carer.locator("button[data-action=check-out]")).to_be_visible()
    # the manager's board follows the bus without a reload
    await expect(board).to_contain_text("服务中")
    clock.set(at(DAY, 10, 40))
    await carer.click("button[data-action=check-out]")
    await expect(carer.locator("body")).to_contain_text("已完成")
    await expect(board).to_contain_text("已完成")

    await carer.click("a[href^='/carer/diary']")
    await carer.check("input[name=appetite][value=good]")
    await carer.check("input[name=mood][value=calm]")
    await carer.locator("input[name=tasks]").first.check()
    await carer.fill("textarea[name=notes]", "老人精神很好，午饭吃了一碗粥。")
    await screenshot(carer, "06-carer-diary")
    await carer.click("form[action='/carer/diary'] button")
    await expect(carer.locator(".flash")).to_be_visible()
    await eventually(lambda: _diary_recorded(watcher), "the diary to be recorded", timeout=20)

    # -- the station's other pages ---------------------------------------------------------
    for path, name in (
        ("/station/roster", "04-station-roster"),
        (f"/station/diaries?date_from={DAY}&date_to={DAY}", "07-station-diaries"),
        ("/station/leave", "08-station-leave"),
        ("/station/appraisals?month=2026-11", "09-station-appraisals"),
    ):
        await manager.goto(f"{address}{path}")
        await expect(manager.locator("main h1")).to_be_visible()
        await screenshot(manager, name)
    await expect(manager.locator("main")).to_contain_text("C1")

    # -- finance runs the month and downloads H1's statement -------------------------------
    clock.set(at(date(2026, 12, 1), 9))
    finance = await new_page(chromium_browser)
    await sign_in(finance, address, "finance", "/finance")
    await finance.goto(f"{address}/finance?month=2026-11")
    await finance.click("form[action='/finance/run'] button")
    statement_form = finance.locator("form.party-form:has(input[name=kind][value=statement])")
    await expect(finance.locator("tr[data-run-id]").first).to_contain_text("生成第 1 版")
    await expect(finance.locator("#run-progress progress")).to_have_attribute("value", "1")
    await screenshot(finance, "10-finance")
    await statement_form.locator("input[name=party_id]").fill("H1")
    async with finance.expect_download() as download_info:
        await statement_form.locator("button").click()
    download = await download_info.value
    path = await download.path()
    assert path is not None and path.read_bytes().startswith(b"%PDF")
    assert "H1" in download.suggested_filename

    # -- the district office and the supervisor --------------------------------------------
    district = await new_page(chromium_browser)
    await sign_in(district, address, "district", "/district")
    await expect(district.locator("main h1")).to_be_visible()
    await screenshot(district, "11-district")
    supervisor = await new_page(chromium_browser)
    await sign_in(supervisor, address, "supervisor", "/supervisor")
    await screenshot(supervisor, "12-supervisor")
    await supervisor.goto(f"{address}/audit")
    audit = supervisor.locator("main table")
    for action in ("request_care", "check_in", "check_out", "billing_run", "确认派遣"):
        await expect(audit).to_contain_text(action)
    await screenshot(supervisor, "13-audit")
    await watcher.stop()


async def _diary_recorded(watcher: BusWatcher) -> bool:
    return bool(watcher.by_type["scheduling.DiaryRecorded"] >= 1)
