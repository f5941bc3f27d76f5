"""Smoke test of the browser-test setup: a tiny zh-CN page served from 127.0.0.1, opened in
Debian's Chromium, clicked, screenshotted, and checked to render Chinese with a real CJK font."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import Page, ViewportSize, expect

Screenshot = Callable[[Page, str], Awaitable[Path]]

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>派单控制台</title>
<style>
  body { font-family: sans-serif; margin: 24px; }
  .glyph { display: inline-block; width: 64px; font-size: 48px; }
</style>
</head>
<body>
<h1 id="title">家庭照护派单</h1>
<p>订单：李奶奶，周二上午助浴</p>
<p id="status">待派单</p>
<button type="button" id="dispatch">确认派单</button>
<p><span class="glyph" id="zhao">照</span><span class="glyph" id="hu">护</span></p>
<script>
  document.getElementById("dispatch").addEventListener("click", () => {
    document.getElementById("status").textContent = "已派单：张阿姨";
  });
</script>
</body>
</html>
"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/":
            self.send_error(404)
            return
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site_url() -> Iterator[str]:
    """The page above, served on a free port of 127.0.0.1 from a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
async def test_click_changes_chinese_text(
    page: Page, site_url: str, screenshot: Screenshot, viewport: ViewportSize
) -> None:
    await page.goto(site_url)
    await expect(page).to_have_title("派单控制台")
    status = page.locator("#status")
    await expect(status).to_have_text("待派单")

    await page.get_by_role("button", name="确认派单").click()

    await expect(status).to_have_text("已派单：张阿姨")
    path = await screenshot(page, f"smoke-dispatched-{viewport['width']}")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert page.viewport_size == viewport


async def test_chinese_renders_with_a_cjk_font(
    page: Page, site_url: str, zh_fonts: set[str]
) -> None:
    await page.goto(site_url)

    # Ask Chromium which platform fonts drew the heading's glyphs: all of them must come from a
    # font that fontconfig lists for Chinese. Without one, a Latin fallback draws tofu boxes.
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = (await cdp.send("DOM.getDocument"))["root"]["nodeId"]
    title = await cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#title"})
    used = (await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": title["nodeId"]}))["fonts"]
    drawn_by = {font["familyName"]: font["glyphCount"] for font in used}
    assert sum(drawn_by.values()) == len("家庭照护派单"), drawn_by
    assert set(drawn_by) <= zh_fonts, f"Chinese drawn by non-CJK fonts: {drawn_by}"

    # Font-agnostic cross-check: two different characters look different; tofu boxes do not.
    zhao = await page.locator("#zhao").screenshot()
    hu = await page.locator("#hu").screenshot()
    assert zhao != hu, "照 and 护 render as the same glyph: no CJK font (tofu)"
