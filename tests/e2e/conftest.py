"""Browser tests: Playwright's async API driving Debian's Chromium (/usr/bin/chromium, installed
with a CJK font by `make browser`; see docs/browser-tests.md).

Everything here is function-scoped, like pytest-asyncio's default event loop, so a test can start
real services and the browser in the same loop; starting Playwright's driver plus a browser costs
about 0.8 s. A missing browser or CJK font skips the tests with the reason, or fails them when CI
is set. Every test under tests/e2e gets the ``e2e`` marker (deselect with ``-m "not e2e"``)."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
SCREENSHOT_DIR = REPO_ROOT / "var" / "test-output" / "screenshots"

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google's services, which this
# closed network refuses; --no-sandbox because the tests run as root (in CI too).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
DEFAULT_TIMEOUT_MS = 10_000

Screenshot = Callable[[Page, str], Awaitable[Path]]


def zh_font_families() -> set[str]:
    """Every family name (localized ones too) of the fonts fontconfig knows for Chinese."""
    if shutil.which("fc-list") is None:
        return set()
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


@functools.cache
def _missing_prerequisite() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed"
    if not zh_font_families():
        return "no Chinese font is installed (`fc-list :lang=zh` lists none)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
async def chromium_browser() -> AsyncIterator[Browser]:
    """A headless Chromium of its own for the test."""
    missing = _missing_prerequisite()
    if missing:
        message = (
            f"browser tests need Debian's Chromium and a CJK font: {missing}; run `make browser`"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def viewport() -> ViewportSize:
    """The page's viewport; override per test with
    ``@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}])``."""
    return DEFAULT_VIEWPORT


@pytest.fixture
async def page(chromium_browser: Browser, viewport: ViewportSize) -> AsyncIterator[Page]:
    """A fresh context (zh-CN, Asia/Shanghai, no shared cookies) and a page in it."""
    context = await chromium_browser.new_context(
        viewport=viewport,
        device_scale_factor=1,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def save_screenshot(page: Page, name: str, **options: Any) -> Path:
    """Save a full-page PNG as var/test-output/screenshots/<name>.png and return its path."""
    safe = re.sub(r"[^\w.-]+", "_", name).strip("._") or "screenshot"
    path = SCREENSHOT_DIR / f"{safe}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=path, full_page=True, **options)
    return path


@pytest.fixture
def zh_fonts() -> set[str]:
    """The family names of the installed Chinese fonts."""
    return zh_font_families()


@pytest.fixture
def screenshot() -> Screenshot:
    """``await screenshot(page, "name")``: a full-page PNG under var/test-output/screenshots/."""
    return save_screenshot
