"""A real browser on a served app: Debian's Chromium with a synthetic webcam, driven by Playwright.

Used by the browser tests and by ``python -m tools.bench``, which reports the Live tab's
frame rate as a viewer sees it: frames captured by the browser, sent, segmented, sent back
and drawn, not just the handler's own speed.
"""
import os
import re
import shutil
import tempfile

from segdemo.ui.tab import tab_button

CHROMIUM = os.environ.get("SEGDEMO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_MISSING = "Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)"
CLASSROOM_HOST = "classroom.test"  # a phone's view of the laptop: a remote, insecure origin to Chromium, yet 127.0.0.1
# Tests and tools talk to this machine only: every other name (and address) is unresolvable. Chromium
# takes a single --host-resolver-rules, so the rules are one comma-separated list.
LOOPBACK_ONLY = (f"--host-resolver-rules=MAP {CLASSROOM_HOST} 127.0.0.1, MAP * ~NOTFOUND, "
                 "EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE ::1")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", LOOPBACK_ONLY,
                  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]  # a synthetic webcam


# a phone's page is the one in front: without these, Chromium slows a page it considers hidden to ~1 frame/s
IN_FRONT_FLAGS = ["--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                  "--disable-backgrounding-occluded-windows"]


def open_context(playwright, profile, locale="en-US", in_front=False):
    """A fresh Chromium profile allowed to use the (synthetic) camera; ``in_front``: its pages are never
    slowed as hidden ones."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS + (IN_FRONT_FLAGS if in_front else []),
        viewport={"width": 1280, "height": 1000}, locale=locale, permissions=["camera"])


def opened(browser, url, viewport, locale="en-US", settle_ms=0):
    """(context, page): ``url`` in a fresh context of ``browser`` at ``viewport``, once its tabs are there
    and ``settle_ms`` later (the page-load hooks fill tables and keys)."""
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.get_by_role("tab").first.wait_for(timeout=60_000)
    page.wait_for_timeout(settle_ms)
    return context, page


def follow_webcam(page, seconds=6):
    """Start the Live tab's server path on an open English page; (frames/s shown, the rate line) after ``seconds``.

    Where a model can run in the page, that is the tab's default: the server path is chosen first.
    """
    page.locator(tab_button("live")).click()
    on_server = page.locator("#live-where input[value='server']")
    if on_server.count() and not on_server.is_checked():
        on_server.check()
        page.wait_for_timeout(500)
    panel = page.get_by_role("tabpanel")
    panel.get_by_text("Click to Access Webcam").first.click()
    page.wait_for_timeout(3000)
    panel.get_by_text("Record", exact=True).first.click()
    rate = page.get_by_text("frames/s shown").first
    rate.wait_for(timeout=60_000)
    page.wait_for_timeout(1000 * seconds)
    line = rate.locator("xpath=..").inner_text()
    return float(re.search(r"([\d.]+) frames/s shown", line).group(1)), line


def live_rate(url, seconds=6):
    """(frames/s, rate line) of the Live tab at ``url`` in Chromium; raises RuntimeError without a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RuntimeError("Playwright is not installed (requirements-dev.txt)") from None
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(CHROMIUM_MISSING)
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="segdemo-chromium-") as profile:
        context = open_context(playwright, profile)
        try:
            page = context.new_page()
            page.goto(url, wait_until="load")
            return follow_webcam(page, seconds)
        finally:
            context.close()
