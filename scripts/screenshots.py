"""Screenshots of every tab of a running segdemo, as a teacher's projector and a phone show it.

    python app.py &                                   # with the shipped checkpoints
    python scripts/screenshots.py --url http://127.0.0.1:7860/ --out docs/screenshots

Each tab in English and Japanese, at 1366x768 (a classroom projector) and 390 px wide (a
phone); Predict and Compare first segment a bundled validation photo.  Needs Playwright
and Debian's chromium (requirements-dev.txt, apt-get install chromium).
"""
import argparse
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "ja": "ja-JP"}
TABS = ("predict", "compare", "live", "dataset", "curves", "errors", "learn", "architectures", "inside")
# the Inside tab's own views after its pixel view: (name, button, picture the result writes)
INSIDE_VIEWS = (("probabilities", "#inside-show-probabilities", "img[src*='entropy-']"),
                ("features", "#inside-show-features", "img[src*='feature-decoder-'], img[src*='feature-joined-']"),
                ("hide", "#inside-hide", "img[src*='hidden-']"))
EXAMPLES = Path(__file__).resolve().parents[1] / "segdemo" / "assets" / "examples"


def run_tab(page, index, name, example):
    """Open tab ``index``; on Predict and Compare, segment the example and wait for the result."""
    page.get_by_role("tab").nth(index).click()
    page.wait_for_timeout(1500)
    if name in ("predict", "compare") and example:
        panel = page.get_by_role("tabpanel")
        panel.locator("input[type=file]").first.set_input_files(str(example))
        page.wait_for_timeout(1000)
        panel.locator("button.primary").first.click()
        marker = "img[src*='errors-']" if name == "predict" else "img[src*='disagreement-']"
        page.locator(marker).first.wait_for(timeout=90_000)
        page.wait_for_timeout(1000)
    if name == "inside" and example:
        panel = page.get_by_role("tabpanel").first
        panel.locator("input[type=file]").first.set_input_files(str(example))
        target = page.locator("#inside-target img")
        target.wait_for(timeout=90_000)
        page.wait_for_timeout(1500)
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6)
        page.locator("img[src*='influence-']").nth(2).wait_for(timeout=90_000)
        page.wait_for_timeout(1000)
    if name == "errors":
        page.locator("img[src*='-errors-']").first.wait_for(state="attached", timeout=90_000)
        page.wait_for_timeout(1500)


def inside_views(page, out, suffix):
    """The Inside tab's other views, each opened, computed and shot on its own."""
    for offset, (view, button, result) in enumerate(INSIDE_VIEWS, start=1):
        page.get_by_role("tab").nth(len(TABS) + offset).click()
        page.locator(button).click()
        page.locator(result).first.wait_for(timeout=90_000)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the gallery's lazy pictures load when seen
        page.wait_for_timeout(2500)
        path = out / f"inside-{view}-{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        print(path, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:7860/")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--example", type=Path, help="photo to segment (default: the first bundled example)")
    parser.add_argument("--languages", nargs="+", default=list(LOCALES), choices=list(LOCALES))
    parser.add_argument("--devices", nargs="+", default=list(VIEWPORTS), choices=list(VIEWPORTS))
    parser.add_argument("--tabs", nargs="+", default=list(TABS), choices=list(TABS))
    args = parser.parse_args(argv)
    example = args.example or next(iter(sorted(EXAMPLES.glob("*.jpg"))), None)
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        for language in args.languages:
            for device in args.devices:
                context = browser.new_context(locale=LOCALES[language], viewport=VIEWPORTS[device])
                page = context.new_page()
                page.goto(args.url, wait_until="load")
                page.get_by_role("tab").first.wait_for(timeout=60_000)
                for index, name in enumerate(TABS):
                    if name not in args.tabs:
                        continue
                    run_tab(page, index, name, example)
                    path = args.out / f"{name}-{language}-{device}.png"
                    page.screenshot(path=str(path), full_page=True)
                    print(path, flush=True)
                    if name == "inside" and example:
                        inside_views(page, args.out, f"{language}-{device}")
                context.close()
        browser.close()


if __name__ == "__main__":
    main()
