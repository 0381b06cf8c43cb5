"""Screenshots of every tab of a running segdemo, as a teacher's projector and a phone show it.

    python app.py &                                   # with the shipped checkpoints
    python tools/screenshots.py --url http://127.0.0.1:7860/ --out docs/screenshots

Each tab in English and Japanese, at 1366x768 (a classroom projector) and 390 px wide (a
phone); Predict and Compare first segment a bundled validation photo (Predict with its classes'
panel open), and with ``--own-photo``
also a photo that is not from the dataset (``*-own-*.png``).  Needs Playwright and Debian's
chromium (requirements-dev.txt, apt-get install chromium).  Chromium resolves loopback names only
(``tools.browser.LOOPBACK_ONLY``): the tools talk to this machine only.
"""
import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from segdemo.data.examples import BUNDLED
from segdemo.ui.app import PANELS, TABS
from segdemo.ui.tab import tab_button

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too: the project's tools package
from tools.browser import CHROMIUM, LOOPBACK_ONLY  # noqa: E402

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "ja": "ja-JP"}
TAB_IDS = tuple(tab.ID for tab in TABS)
PANEL_IDS = tuple(panel.ID for panel in PANELS)  # not tabs: the Join panel at the top
# the Inside tab's own views after its pixel view: (its tab id, button, picture the result writes)
INSIDE_VIEWS = (("probabilities", "#inside-show-probabilities", "img[src*='entropy-']"),
                ("features", "#inside-show-features", "img[src*='feature-decoder-'], img[src*='feature-joined-']"),
                ("hide", "#inside-hide", "img[src*='hidden-']"))
EXAMPLES = BUNDLED


def run_tab(page, name, example):
    """Open tab ``name``; on Predict and Compare, segment the example and wait for the result."""
    page.locator(tab_button(name)).click()
    page.wait_for_timeout(1500)
    if name in ("predict", "compare") and example:
        panel = page.get_by_role("tabpanel")
        panel.locator("input[type=file]").first.set_input_files(str(example))
        page.wait_for_timeout(1000)
        marker = "img[src*='overlay-']" if name == "predict" else "img[src*='disagreement-']"
        before = page.locator(marker).first.get_attribute("src") if page.locator(marker).count() else None
        panel.locator("button.primary").first.click()
        page.wait_for_function("([marker, before]) => { const img = document.querySelector(marker);"
                               " return img && img.getAttribute('src') !== before; }", arg=[marker, before], timeout=90_000)
        page.wait_for_timeout(1000)
    if name == "predict" and example:  # the classes, one at a time, are drawn once their panel is opened
        if not page.locator("#predict-classes img[src*='class-']").count():  # still open from the last photo
            page.locator("#predict-classes .label-wrap").first.click()
        page.locator("img[src*='class-']").first.wait_for(state="attached", timeout=90_000)
        page.wait_for_timeout(1500)
    if name == "inside" and example:
        panel = page.get_by_role("tabpanel").first
        panel.locator("input[type=file]").first.set_input_files(str(example))
        target = page.locator("#inside-target img")
        target.wait_for(state="attached", timeout=90_000)
        target.scroll_into_view_if_needed()  # the picture loads lazily: below a phone's fold only once scrolled to
        target.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        box = target.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6)
        page.locator("img[src*='influence-']").nth(2).wait_for(timeout=90_000)
        page.wait_for_timeout(1000)
    if name == "label" and example:  # the model's guess in the editor over the photo (and beside it), to be corrected
        page.locator("#label-editor input[type=file]").first.set_input_files(str(example))
        page.wait_for_timeout(2000)
        with page.expect_request(lambda request: "/upload" in request.url, timeout=90_000):  # the guess, into the editor
            page.locator("#label-guess").click()
        page.wait_for_timeout(2500)
    if name == "errors":
        page.locator("img[src*='-errors-']").first.wait_for(state="attached", timeout=90_000)
        page.wait_for_timeout(1500)


def shot(page, path):
    """A full-page screenshot once every lazy picture has loaded: the page is scrolled through a screen at a time
    first, as a student scrolls (a picture below a phone's fold is fetched only when it comes near the screen)."""
    height = page.viewport_size["height"]
    for top in range(0, page.evaluate("document.body.scrollHeight") + height, height):
        page.evaluate(f"window.scrollTo(0, {top})")
        page.wait_for_timeout(300)
    page.wait_for_function("[...document.images].filter(image => image.getClientRects().length && image.src)"
                           ".every(image => image.complete)", timeout=30_000)  # the pictures of the tab shown
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    print(path, flush=True)


def inside_views(page, out, suffix):
    """The Inside tab's other views, each opened, computed and shot on its own."""
    for view, button, result in INSIDE_VIEWS:
        page.locator(tab_button(f"inside-{view}")).click()
        page.locator(button).click()
        page.locator(result).first.wait_for(timeout=90_000)
        page.wait_for_timeout(1000)
        shot(page, out / f"inside-{view}-{suffix}.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:7860/",
                        help="the app on this machine: 127.0.0.1, localhost, or classroom.test as a phone sees it")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--example", type=Path, help="photo to segment (default: the first bundled example)")
    parser.add_argument("--own-photo", type=Path, help="also segment this photo (not from the dataset) in Predict and Compare")
    parser.add_argument("--languages", nargs="+", default=list(LOCALES), choices=list(LOCALES))
    parser.add_argument("--devices", nargs="+", default=list(VIEWPORTS), choices=list(VIEWPORTS))
    parser.add_argument("--tabs", nargs="+", default=list(TAB_IDS + PANEL_IDS), choices=list(TAB_IDS + PANEL_IDS))
    args = parser.parse_args(argv)
    example = args.example or next(iter(sorted(EXAMPLES.glob("*.jpg"))), None)
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", LOOPBACK_ONLY])
        for language in args.languages:
            for device in args.devices:
                context = browser.new_context(locale=LOCALES[language], viewport=VIEWPORTS[device])
                page = context.new_page()
                page.goto(args.url, wait_until="load")
                page.get_by_role("tab").first.wait_for(timeout=60_000)
                if "join" in args.tabs:  # the teacher's Join panel, opened: addresses and QR codes
                    page.locator("#join-panel").get_by_role("button").first.click()
                    page.locator(".segdemo-join-card svg").first.wait_for(timeout=30_000)
                    path = args.out / f"join-{language}-{device}.png"
                    page.screenshot(path=str(path))
                    print(path, flush=True)
                    page.locator("#join-panel").get_by_role("button").first.click()  # folded again
                for name in TAB_IDS:
                    if name not in args.tabs:
                        continue
                    photos = [("", example)] + ([("-own", args.own_photo)] if args.own_photo and name in ("predict", "compare") else [])
                    for suffix, photo in photos:
                        run_tab(page, name, photo)
                        shot(page, args.out / f"{name}{suffix}-{language}-{device}.png")
                    if name == "inside" and example:
                        inside_views(page, args.out, f"{language}-{device}")
                context.close()
        browser.close()


if __name__ == "__main__":
    main()
