"""A real browser (Debian's chromium driven by Playwright) uses every tab of the running app."""
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def page(running_app, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a new, empty profile
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000}, locale="en-US")
        page = context.new_page()
        page.goto(running_app["url"], wait_until="networkidle")
        yield page
        context.close()


def test_predict_tab_shows_overlay_and_legend(page, running_app, tmp_path):
    example = sorted(Path(running_app["examples"]).glob("*.jpg"))[0]
    page.locator("input[type=file]").first.set_input_files(str(example))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Segment").click()
    page.wait_for_selector(".segdemo-legend", timeout=60_000)
    assert page.locator(".segdemo-legend tr").count() == 8
    assert "foreground object" in page.locator(".segdemo-legend").inner_text()
    overlay = page.locator("img[src*='overlay-']").first  # the file the app wrote for this request
    overlay.wait_for(timeout=30_000)
    assert page.evaluate("(img) => img.naturalWidth", overlay.element_handle()) > 0
    page.screenshot(path=str(tmp_path / "predict.png"), full_page=True)


@pytest.mark.parametrize("tab, expected", [
    ("Compare", "Models to compare"),
    ("Training curves", "Validation IoU per class"),
    ("Learn: metrics and losses", "Frequency-weighted IoU"),
    ("Architectures", "pyramid pooling"),
])
def test_each_tab_opens(page, tab, expected, tmp_path):
    page.get_by_role("tab", name=tab).click()
    page.get_by_text(expected).first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / f"{tab.split(':')[0].lower().replace(' ', '-')}.png"), full_page=True)


def test_learn_playground_recomputes(page):
    page.get_by_role("tab", name="Learn: metrics and losses").click()
    table = page.get_by_text("IoU (object)").first
    table.wait_for(timeout=30_000)
    scores = page.locator("#playground-table")
    before = scores.inner_text()
    shift = page.get_by_label("Shift right (pixels)").first
    shift.fill("20")
    shift.press("Enter")
    page.wait_for_timeout(2500)
    assert scores.inner_text() != before
