"""A real browser (Debian's chromium driven by Playwright) uses every tab of the running app."""
import json
from pathlib import Path

import pytest

from segdemo.ui.app import TABS
from segdemo.ui.tab import tab_button, tab_element_id
from tools.browser import CHROMIUM, CHROMIUM_MISSING, follow_webcam, open_context

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=CHROMIUM_MISSING)


@pytest.fixture(scope="module")
def open_page(running_app, tmp_path_factory):
    """Opens the app in a fresh Chromium profile with the given browser language."""
    from playwright.sync_api import sync_playwright

    contexts = []
    with sync_playwright() as playwright:
        def opener(locale):
            context = open_context(playwright, tmp_path_factory.mktemp("chromium-profile"), locale)
            contexts.append(context)
            page = context.new_page()
            page.goto(running_app["url"], wait_until="load")
            page.get_by_role("tab").first.wait_for(timeout=60_000)
            return page

        yield opener
        for context in contexts:
            context.close()


@pytest.fixture(scope="module")
def page(open_page):
    return open_page("en-US")


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
    for panel in ("truth-", "errors-"):  # a bundled example: its truth and error map are shown
        page.locator(f"img[src*='{panel}']").first.wait_for(timeout=30_000)
    page.get_by_text("its truth is known").wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "predict.png"), full_page=True)

    first_overlay = overlay.get_attribute("src")
    slider = page.get_by_label("Mask opacity").and_(page.locator("input[type=range]"))
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.95, box["y"] + box["height"] / 2)
    page.wait_for_function("(before) => { const img = document.querySelector(\"img[src*='overlay-']\");"
                           " return img && img.src !== before; }", arg=first_overlay, timeout=30_000)

    assert page.locator("img[src*='class-']").count() == 0, "each class's picture is drawn only once its view is opened"
    page.get_by_text("Classes found, one at a time").click()
    page.locator("img[src*='class-']").first.wait_for(timeout=30_000)
    first_classes = page.locator("img[src*='class-']").first.get_attribute("src")
    page.get_by_role("button", name="Segment").click()  # while the view is open, a new answer redraws it
    page.wait_for_function("(before) => { const img = document.querySelector(\"img[src*='class-']\");"
                           " return img && img.src !== before; }", arg=first_classes, timeout=60_000)


def test_compare_tab_runs_every_model(page, running_app, tmp_path):
    page.locator(tab_button("compare")).click()
    example = sorted(Path(running_app["examples"]).glob("*.jpg"))[0]
    page.locator("input[type=file]").nth(1).set_input_files(str(example))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_text("Disagreement among the 3 models of 8 region classes").wait_for(timeout=60_000)
    for model in ("unet", "pspnet", "fpn"):
        page.locator(f"img[src*='{model}-']").first.wait_for(timeout=30_000)
    assert page.locator("img[src*='disagreement-']").count() >= 1
    assert "pixel accuracy" in page.locator("table").last.inner_text()
    page.screenshot(path=str(tmp_path / "compare-result.png"), full_page=True)


def test_dataset_tab_shows_a_validation_photo_and_sends_it_to_predict(page, tmp_path):
    page.locator(tab_button("dataset")).click()
    page.get_by_text("Share of labelled pixels per class").first.wait_for(timeout=30_000)
    page.locator(f"#{tab_element_id('dataset')}").get_by_label("validation", exact=True).check()  # not the examples' "Validation images"
    page.get_by_text("validation split").first.wait_for(timeout=30_000)
    for kind in ("photo", "regions", "surfaces", "layers"):
        page.locator(f"img[src*='-{kind}-']").first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "dataset.png"), full_page=True)
    page.get_by_role("button", name="Segment in Predict").click()  # the photo lies in the app's cache under ~/.cache
    page.get_by_text("its truth is known").wait_for(timeout=60_000)  # segmented without another click
    panel = page.get_by_role("tabpanel")
    for kind in ("truth-", "errors-", "overlay-"):
        panel.locator(f"img[src*='{kind}']").first.wait_for(timeout=30_000)
    assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()


def test_error_analysis_tab_inspects_the_worst_photo(page, running_app, tmp_path):
    page.locator(tab_button("errors")).click()
    page.get_by_text("Confusion matrix on the validation photos").first.wait_for(timeout=30_000)
    caption = page.get_by_text("of labelled pixels wrong").first
    caption.wait_for(timeout=60_000)  # the worst photo is chosen and inspected by itself
    panel = page.get_by_role("tabpanel")
    for kind in ("photo", "truth", "errors"):
        panel.locator(f"img[src*='-{kind}-']").first.wait_for(timeout=60_000)
    worst = caption.inner_text()
    ranked = sorted(json.loads((running_app["checkpoints"] / "unet" / "metrics.json").read_text())["per_image"],
                    key=lambda row: (row["miou"], row["id"]))
    second_id = ranked[1]["id"]
    page.get_by_role("tabpanel").get_by_text(second_id, exact=True).locator("visible=true").first.click()
    # the Dataset tab may show the same photo, hidden; only the Error-analysis caption counts
    page.get_by_text(f"Photo {second_id}").locator("visible=true").first.wait_for(timeout=60_000)
    assert f"Photo {second_id}" not in worst
    page.screenshot(path=str(tmp_path / "error-analysis.png"), full_page=True)


def test_live_tab_follows_the_webcam(page, tmp_path):
    """Chromium's synthetic webcam streams frames; the overlay, its legend and the measured frame rate appear."""
    fps, line = follow_webcam(page)
    page.get_by_role("tabpanel").locator(".segdemo-legend").first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
    print(f"live frame rate in the browser: {line}")
    assert fps >= 5.0  # the classroom target on 2 cores


@pytest.mark.parametrize("tab, expected", [
    ("compare", "Models to compare"),
    ("curves", "Validation IoU per class"),
    ("learn", "Frequency-weighted IoU"),
    ("architectures", "label map before the last upsampling"),  # the decoders' measured table
])
def test_each_tab_opens(page, tab, expected, tmp_path):
    page.locator(tab_button(tab)).click()
    page.locator(f"#{tab_element_id(tab)}").get_by_text(expected).first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / f"{tab}.png"), full_page=True)


def test_the_page_has_every_tab_of_the_list_in_order(page):
    """The page is built from ``ui.app.TABS``: one button per entry, in that order."""
    expected = [tab_button(tab.ID)[1:] for tab in TABS]
    ids = page.eval_on_selector_all("[role=tab][id^='tab-']", "buttons => buttons.map(b => b.id)")
    assert [i for i in ids if i in expected] == expected


def test_learn_playground_recomputes(page):
    page.locator(tab_button("learn")).click()
    table = page.get_by_text("IoU (object)").first
    table.wait_for(timeout=30_000)
    scores = page.locator("#playground-table")
    before = scores.inner_text()
    shift = page.get_by_label("Shift right (pixels)").first
    shift.fill("20")
    shift.press("Enter")
    page.wait_for_timeout(2500)
    assert scores.inner_text() != before


def test_japanese_browser_gets_japanese_text(open_page, running_app, tmp_path):
    """Both the page's own labels and what the server writes (legend, tables, charts) are Japanese."""
    page = open_page("ja-JP")
    page.get_by_text("利用できるモデル").first.wait_for(timeout=30_000)
    page.locator("input[type=file]").first.set_input_files(str(sorted(Path(running_app["examples"]).glob("*.jpg"))[0]))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="セグメント").click()
    page.wait_for_selector(".segdemo-legend", timeout=60_000)
    legend = page.locator(".segdemo-legend").inner_text()
    assert "空" in legend and "前景物体" in legend and "sky" not in legend
    page.screenshot(path=str(tmp_path / "predict-ja.png"), full_page=True)

    page.locator(tab_button("curves")).click()
    page.locator("#tab-curves").get_by_text("クラスごとの検証 IoU").first.wait_for(timeout=30_000)
    page.locator(tab_button("learn")).click()
    page.locator("#tab-learn").get_by_text("頻度重み付き IoU").first.wait_for(timeout=30_000)
    table = page.locator("#playground-table").inner_text()
    assert "画素精度" in table and "損失: 交差エントロピー" in table
    page.screenshot(path=str(tmp_path / "learn-ja.png"), full_page=True)


def test_compare_results_are_seen_without_scrolling_on_a_projector(open_page, running_app):
    """At 1366x768 the overlays and the class-colour key are within the first screen, not below the fold."""
    page = open_page("en-US")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.locator(tab_button("compare")).click()
    panel = page.get_by_role("tabpanel")
    panel.locator("input[type=file]").first.set_input_files(str(sorted(Path(running_app["examples"]).glob("*.jpg"))[0]))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.locator("#compare-gallery img").nth(2).wait_for(timeout=60_000)
    page.evaluate("window.scrollTo(0, 0)")
    for index in range(3):
        box = page.locator("#compare-gallery img").nth(index).bounding_box()
        assert box["y"] + box["height"] <= 768, f"overlay {index} ends at {box['y'] + box['height']:.0f} px"
        assert box["width"] >= 150, "big enough to see from the back row"
    assert "all models agree" in panel.locator(".segdemo-keys").inner_text()
    thumbnail = page.locator("#compare-gallery img").first.bounding_box()
    page.locator("#compare-gallery img").first.click()
    page.wait_for_timeout(1500)
    preview = page.locator("#compare-gallery img").first.bounding_box()
    assert preview["height"] > 2 * thumbnail["height"], "a clicked result opens larger than its thumbnail"


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_no_tab_is_wider_than_a_phone(open_page, locale):
    """At 390 px every tab fits the screen's width: wide tables scroll inside themselves, charts stack."""
    page = open_page(locale)
    page.set_viewport_size({"width": 390, "height": 844})
    for tab in TABS:
        page.locator(tab_button(tab.ID)).click()
        page.wait_for_timeout(1500)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"tab {tab.ID!r} is {width} px wide"


def test_on_a_phone_segment_goes_to_the_results_and_hides_empty_truth_panels(open_page, tmp_path):
    """A photo with no known truth: after Segment the result is on screen, with no empty truth or error-map box."""
    from PIL import Image

    photo = tmp_path / "not-from-the-dataset.jpg"
    Image.effect_mandelbrot((300, 400), (-2.0, -1.5, 1.0, 1.5), 60).convert("RGB").save(photo)  # portrait
    page = open_page("en-US")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("input[type=file]").first.set_input_files(str(photo))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Segment", exact=True).click()
    page.locator("img[src*='overlay-']").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    top = page.locator("#predict-result").bounding_box()["y"]
    assert -5 <= top < 844 / 2, f"the results start at {top:.0f} px of an 844 px screen"
    assert page.get_by_text("Ground truth", exact=True).locator("visible=true").count() == 0
    assert page.get_by_text("Error map", exact=True).locator("visible=true").count() == 0
    slider = page.locator("img[src*='overlay-']").first.bounding_box()
    assert slider["height"] <= 450, "a portrait photo is shown within a fixed height, not as tall as the phone is wide x 4/3"


def visible_error_badges(page):
    """"Error" badges drawn over output panels (Gradio's status tracker), not the message box."""
    return page.locator(".wrap > span.error").locator("visible=true").count()


def test_a_file_that_is_not_a_photo_is_explained_once_in_japanese(open_page, tmp_path):
    """A message in the page's language; the upload is cleared (no broken picture) and no output turns into an "Error" badge."""
    page = open_page("ja-JP")
    bad = tmp_path / "notes.jpg"
    bad.write_text("these are my notes, not a photo")
    page.locator("input[type=file]").first.set_input_files(str(bad))
    toast = page.locator(".toast-body").first
    toast.wait_for(timeout=30_000)
    assert "画像ではありません" in toast.inner_text() and "注意" in toast.inner_text()
    page.wait_for_timeout(1000)
    assert page.get_by_role("tabpanel").locator("img[src*='notes']").count() == 0, "the broken upload is cleared"
    page.get_by_role("button", name="セグメント").click()
    error = page.locator(".toast-body", has_text="写真をアップロードしてください").first
    error.wait_for(timeout=30_000)
    assert "エラー" in error.inner_text() and "Error" not in error.inner_text()
    page.wait_for_function("document.querySelectorAll('.toast-body').length === 1", timeout=15_000)  # the warning closed
    assert page.locator(".wrap > span.error").count() > 0, "Gradio marked the outputs as failed..."
    assert visible_error_badges(page) == 0, "...but the page does not draw a badge over each"


def test_a_dataset_filter_matching_nothing_says_so_without_error_badges(open_page):
    page = open_page("en-US")
    page.locator(tab_button("dataset")).click()
    page.get_by_text("Share of labelled pixels per class").first.wait_for(timeout=30_000)
    for name in ("water", "mountain"):  # the tiny test dataset has neither (the real one: no photo has all eight)
        page.get_by_role("tabpanel").get_by_label(name, exact=True).check()
        page.wait_for_timeout(300)
    page.get_by_text("No photo contains all of these classes together").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    assert visible_error_badges(page) == 0
    assert page.locator(".toast-body").count() == 0


def test_inside_tab_explains_a_clicked_pixel_and_hides_a_region(page, running_app, tmp_path):
    """Reached from the Architectures tab's link; a click on the photo explains that pixel for the three models."""
    page.locator(tab_button("architectures")).click()
    page.get_by_role("button", name="Look inside these networks").click()
    page.get_by_text("What does each network look at?").wait_for(timeout=30_000)
    example = sorted(Path(running_app["examples"]).glob("*.jpg"))[0]
    page.get_by_role("tabpanel").first.locator("input[type=file]").first.set_input_files(str(example))
    target = page.locator("#inside-target img")
    target.wait_for(timeout=60_000)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75)
    for model in ("unet", "pspnet", "fpn"):
        page.locator(f"img[src*='influence-{model}-']").first.wait_for(timeout=90_000)
    assert float(page.get_by_label("Row (0 top, 1 bottom)").input_value()) == pytest.approx(0.75, abs=0.02)
    page.get_by_text("of the influence comes from outside the 65x65 window").first.wait_for(timeout=30_000)
    page.get_by_text("the whole photo, whatever its size (global pooling)").wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "inside-pixel.png"), full_page=True)
    page.locator(tab_button("inside-hide")).click()
    page.get_by_role("button", name="Hide and compare").click()
    for model in ("unet", "pspnet", "fpn"):
        page.locator(f"img[src*='hidden-{model}-']").first.wait_for(timeout=90_000)
    page.get_by_text("pixels outside the hidden region changed label").first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "inside-hide.png"), full_page=True)


PLOTTED_STEPS = "(id) => { const plot = document.querySelector(`#${id} .js-plotly-plot`);" \
                " return plot && plot.data && plot.data.length ? plot.data[0].x.length : 0; }"


def test_before_any_run_train_shows_its_photo_on_a_projector_and_comes_first_on_a_phone(open_page):
    """Before the server's first run (this test comes before the training test below; the default suite has
    trained nothing before this file): on a projector, Train beside the photo the class will watch and its
    truth, no empty charts; on a phone, Train on the first screen. With a run, tests/test_projector_layout.py
    checks Train beside its curves."""
    page = open_page("en-US")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.locator(tab_button("train")).click()
    status = "() => document.querySelector('#train-status [data-testid=markdown]')?.innerText.trim()"
    page.wait_for_function(status, timeout=30_000)
    if not page.evaluate(status).startswith("No run yet"):
        pytest.skip("the shared app has trained already (a test before this one started a run)")
    page.locator("#train-snapshots img").nth(1).wait_for(timeout=30_000)
    page.evaluate("window.scrollTo(0, 0)")
    for selector in ("#train-start", "#train-snapshots"):
        box = page.locator(selector).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 768, (selector, box)
    assert not page.locator("#train-plot-loss").is_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator("#train-start").bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 844, box
    assert not page.locator("#train-snapshots").is_visible(), "the strip waits for a run on a phone"


@pytest.mark.long  # 155 s, the default run's longest: python -m pytest -m long tests/test_browser.py
def test_train_tab_shows_a_run_live_to_every_viewer_stops_it_and_keeps_it(open_page, tmp_path):
    """A small U-Net from scratch on the tiny dataset: its curves grow and its snapshot strip fills while
    it trains, a second viewer (in Japanese) sees the same run, Stop ends it, and the kept model joins
    Predict's list.

    Last in this module: the kept run stays in the shared app's model lists.
    """
    import re

    page = open_page("en-US")
    page.locator(tab_button("train")).click()
    page.get_by_text("No run yet on this server").wait_for(timeout=30_000)
    page.get_by_label("scratch (random)").check()
    for label, value in (("Training photos", "16"), ("Epochs", "30")):
        number = page.get_by_label(label).and_(page.locator("input[type=number]"))
        number.fill(value)
        number.press("Enter")
    page.locator("#train-start").click()
    strip = page.locator("#train-snapshots")
    strip.get_by_text("before training").wait_for(timeout=120_000)
    strip.get_by_text("after epoch 1", exact=False).first.wait_for(timeout=240_000)
    steps_then = page.evaluate(PLOTTED_STEPS, "train-plot-loss")
    assert steps_then >= 1
    page.wait_for_function(f"() => ({PLOTTED_STEPS})('train-plot-loss') > {steps_then}", timeout=120_000)
    strip.get_by_text("after epoch 2").wait_for(timeout=120_000)
    watcher = open_page("ja-JP")
    watcher.locator(tab_button("train")).click()
    watcher.locator("#train-snapshots").get_by_text("エポック 1 後").wait_for(timeout=60_000)

    page.locator("#train-stop").click()
    page.get_by_text("Stopped").first.wait_for(timeout=30_000)
    assert strip.locator("img").count() >= 5  # photo, truth, before training, after epochs 1 and 2...
    page.screenshot(path=str(tmp_path / "train.png"), full_page=True)
    watcher.get_by_text("停止").first.wait_for(timeout=30_000)
    page.locator("#train-keep").click()
    page.get_by_text("is now in the Predict and Compare lists").first.wait_for(timeout=120_000)
    page.locator(tab_button("predict")).click()
    page.get_by_label("Model").first.click()
    page.get_by_role("option", name=re.compile(r"class run \d\d:\d\d \(U-Net, \d+ epochs\)")).wait_for(timeout=30_000)

