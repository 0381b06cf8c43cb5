"""What the class watches is on the screen (issue 33), measured in Chromium: at a projector's 1366x768
the button the teacher presses and the result it produces lie inside the first screen together, after
a run; on a phone's 390x844 the upload control is on the first screen and the teacher's Join panel is not.

One browser for the module; the served app is ``running_app``'s (small models, two bundled examples).
"""
from pathlib import Path

import pytest

from segdemo.ui.tab import tab_button
from tools.browser import CHROMIUM, CHROMIUM_MISSING, opened

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=CHROMIUM_MISSING)

PROJECTOR = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def on_screen(page, locator, height):
    """The element's box lies within the viewport's ``height`` as the page is scrolled now (the whole of it)."""
    box = locator.bounding_box()
    assert box is not None, locator
    return box["y"] >= 0 and box["y"] + box["height"] <= height, box


@pytest.mark.parametrize("tab, button, result, choice", [
    ("predict", "#predict-segment", "#predict-overlay img[src*='overlay-']", "#predict-choice"),
    ("compare", "#compare-run", "#compare-gallery img[src*='unet-']", None),
])
def test_at_1366x768_the_button_and_its_result_share_the_first_screen(browser, running_app, tab, button, result, choice):
    """Choose the first example (a click, as a teacher would), press the button, and both it and the answer
    are in view (and Predict's choice of model)."""
    context, page = opened(browser, running_app["url"], PROJECTOR)
    try:
        page.locator(tab_button(tab)).click()
        panel = page.locator(f"#tab-{tab}")
        example = panel.locator(".gallery-item").first
        assert on_screen(page, example, PROJECTOR["height"])[0], "the examples are on the first screen"
        example.click()
        panel.locator(".image-container img").first.wait_for(timeout=30_000)  # the photo box holds it (not the thumbnails)
        page.wait_for_timeout(500)
        page.locator(button).click()
        page.locator(result).first.wait_for(timeout=90_000)
        page.wait_for_timeout(500)
        for locator in (page.locator(button), page.locator(result).first, *([page.locator(choice)] if choice else [])):
            inside, box = on_screen(page, locator, PROJECTOR["height"])
            assert inside, (tab, box, page.evaluate("window.scrollY"))
    finally:
        context.close()


def train_is_idle(page):
    """Whether the app has no training run yet (its Train tab's status says so), once the tab has drawn."""
    status = page.locator("#train-status [data-testid='markdown']")  # its text, not the loading timer ("processing | 1.3s") over it
    page.wait_for_function("() => document.querySelector('#train-status [data-testid=markdown]')?.innerText.trim()", timeout=30_000)
    return status.get_by_text("No run yet").count() > 0


def test_at_1366x768_train_inside_and_live_show_their_control_beside_their_result(browser, running_app):
    context, page = opened(browser, running_app["url"], PROJECTOR)
    try:
        page.locator(tab_button("train")).click()
        # before any run, Train beside the photo the class will watch and its truth (no empty charts); once the server
        # has one (tests/test_browser.py trains in this shared app), Train beside the run's curves
        idle = train_is_idle(page)
        if idle:
            page.locator("#train-snapshots img").nth(1).wait_for(timeout=30_000)
        charts = ("#train-snapshots",) if idle else ("#train-plot-loss", "#train-plot-miou")
        for selector in ("#train-start", "#train-status", *charts):
            inside, box = on_screen(page, page.locator(selector), PROJECTOR["height"])
            assert inside, (selector, box)
        assert page.locator("#train-plot-loss").is_visible() != idle
        page.locator(tab_button("inside")).click()  # an example, a click on the picture, and its answer beside it
        page.locator("#tab-inside .gallery-item").first.click()
        target = page.locator("#inside-target img")
        target.wait_for(timeout=90_000)
        box = target.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        page.locator("#inside-influence img[src*='influence-']").first.wait_for(timeout=180_000)
        page.wait_for_timeout(500)
        for selector in ("#inside-target", "#inside-influence"):
            inside, box = on_screen(page, page.locator(selector), PROJECTOR["height"])
            assert inside, (selector, box)
        page.locator(tab_button("live")).click()
        # the camera in the page (a model exported for it) or through the server (the small test models)
        live = page.locator("#live-page, #tab-live [data-testid='image']").locator("visible=true").first
        live.wait_for(timeout=30_000)
        box = live.bounding_box()  # the camera (and its overlay beside it) on the first screen, whole or 360 px of it
        assert box["y"] >= 0 and PROJECTOR["height"] - box["y"] >= min(box["height"], 360), box
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_at_1366x768_each_inside_view_shows_its_button_with_its_answer(browser, running_app, locale):
    """Inside's views (class probabilities, feature maps, hiding a region) sit beside the photo, each with its
    button and then its answer: pressed on a projector, both are on the first screen (they had been ~1000 px down)."""
    context, page = opened(browser, running_app["url"], PROJECTOR, locale)
    try:
        page.locator(tab_button("inside")).click()
        page.locator("#tab-inside .gallery-item").first.click()
        page.locator("#inside-target img").wait_for(timeout=90_000)
        for view, button, result in (("probabilities", "#inside-show-probabilities", "#inside-probabilities img"),
                                     ("features", "#inside-show-features", "#inside-features img"),
                                     ("hide", "#inside-hide", "#inside-hidden img[src*='hidden-']")):
            page.locator(tab_button(f"inside-{view}")).click()
            page.locator(button).click()
            page.locator(result).first.wait_for(timeout=180_000)
            page.wait_for_timeout(500)
            for locator in (page.locator(button), page.locator(result).first):
                inside, box = on_screen(page, locator, PROJECTOR["height"])
                assert inside, (view, box, page.evaluate("window.scrollY"))
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_on_a_phone_the_upload_is_on_the_first_screen_and_the_join_panel_is_not(browser, running_app, locale):
    context, page = opened(browser, running_app["url"], PHONE, locale)
    try:
        upload = page.locator("#tab-predict [data-testid='image'], #tab-predict .upload-container").first
        box = upload.bounding_box()
        assert box["y"] < PHONE["height"] - 100, box  # the upload box begins on the first screen, with room to tap it
        join = page.locator("#join-panel").bounding_box()
        tabs = page.get_by_role("tablist").first.bounding_box()
        assert join["y"] > tabs["y"] and join["y"] >= PHONE["height"], join  # the teacher's panel is under the tabs
        page.locator(tab_button("train")).click()
        if train_is_idle(page):  # no empty charts above the settings (with a run, its curves come first)
            inside, box = on_screen(page, page.locator("#train-start"), PHONE["height"])
            assert inside, box
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
@pytest.mark.parametrize("tab, press, result, order", [
    ("inside", "#inside-target img", "#inside-influence img[src*='influence-']",
     ("#inside-target", "#inside-influence", "#inside-models")),
    ("compare", "#compare-run", "#compare-gallery img[src*='unet-']", ("#compare-run", "#compare-gallery", "#compare-models")),
])
def test_on_a_phone_the_answer_comes_before_the_list_of_models(browser, running_app, locale, tab, press, result, order):
    """On a phone the columns stack: the list of models (Inside: and the dataset's photo number; Compare: and
    the ready-made selections) had come between the photo and the picture to click, or between Compare's button
    and its results, 600-1800 px of scrolling; now they follow the answer, and nothing is wider than the screen
    once an answer (a click's maps and table, a comparison) has filled the column."""
    context, page = opened(browser, running_app["url"], PHONE, locale)
    try:
        page.locator(tab_button(tab)).click()
        page.locator(f"#tab-{tab} .gallery-item").first.click()
        page.locator(f"#tab-{tab} [data-testid='image'] img").first.wait_for(timeout=60_000)  # the example is in
        page.locator(press).click()
        page.locator(result).first.wait_for(timeout=180_000)
        page.wait_for_timeout(500)
        boxes = [page.locator(selector).first.bounding_box() for selector in (f"#tab-{tab} [data-testid='image']", *order)]
        assert [box["y"] for box in boxes] == sorted(box["y"] for box in boxes), boxes
        assert all(box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] for box in boxes), boxes
        gallery = page.locator(order[1])  # the results' label sits above them, not over the first one's corner
        label, first = gallery.locator("[data-testid='block-label']").bounding_box(), gallery.locator(".thumbnail-item").first.bounding_box()
        assert label["y"] + label["height"] <= first["y"] + 1, (label, first)
        if tab == "inside":  # three models' probabilities fit the phone's width ("foreground object" wraps)
            page.wait_for_function("() => document.querySelectorAll('#inside-influence img[src*=\"influence-\"]').length >= 3",
                                   timeout=180_000)
            page.wait_for_timeout(500)
            overflow = page.evaluate("""() => [...document.querySelectorAll('#tab-inside .virtual-table-viewport')]
                .filter((e) => e.offsetParent).map((e) => e.scrollWidth - e.clientWidth)""")
            assert overflow and max(overflow) <= 1, overflow
    finally:
        context.close()
