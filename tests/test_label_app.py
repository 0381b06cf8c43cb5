"""The Label tab through the running app, as the page calls it: the model's guess, a save with a
stroke over it (the dataset's own files in the user's cache), the browser's token kept, an import."""
import json

import cv2
import numpy as np
from gradio_client import Client, handle_file

from segdemo.data.labels import REGIONS


def test_guess_save_and_import_through_the_server(running_app, tmp_path):
    client = Client(running_app["url"], verbose=False)
    photo = sorted(running_app["examples"].glob("*.jpg"))[0]
    editor = {"background": handle_file(str(photo)), "layers": [], "composite": None}
    guess = client.predict(editor, "unet", api_name="/label_guess")
    assert "label-guess-" in guess
    height, width = cv2.imread(str(photo)).shape[:2]
    layer = np.zeros((height, width, 4), np.uint8)
    layer[: height // 4, : width // 4] = (*REGIONS.colours[5][::-1], 255)  # a building stroke (BGRA on disk)
    cv2.imwrite(str(tmp_path / "layer.png"), layer)
    editor["layers"] = [handle_file(str(tmp_path / "layer.png"))]
    status, gallery, *_, token = client.predict(editor, None, None, api_name="/label_save")
    assert "Yours: 1" in status and len(gallery) == 1 and len(token) == 16
    own = running_app["data"].parents[1] / "own-photos"
    (label,) = (own / "labels").glob("*.regions.txt")
    mask = np.loadtxt(label)
    assert (mask[: height // 4, : width // 4] == 5).all()
    shapes = [{"label": "sky", "points": [[0, 0], [width - 1, 0], [width - 1, height // 2]]}]
    document = tmp_path / f"{photo.stem}.json"
    document.write_text(json.dumps({"shapes": shapes, "imagePath": photo.name, "imageHeight": height, "imageWidth": width}))
    status, _, imported, _, same = client.predict([handle_file(str(document)), handle_file(str(photo))], token,
                                                  api_name="/label_import")
    assert "Imported 1 labelled photo:" in imported and "Yours: 2" in status and same == token
    status, _, imported, _, _ = client.predict([handle_file(str(tmp_path / "layer.png"))], token, api_name="/label_import")
    assert "Imported 0" in imported and "layer: a photo without a label file" in imported  # RGBA: a photo, not a mask


def upload_into_the_editor(page, photo):
    """The Label tab, and ``photo`` through the editor's own Upload button, as a student presses it."""
    from segdemo.ui.tab import tab_button

    page.locator(tab_button("label")).click()
    with page.expect_file_chooser() as chooser:
        page.locator("#label-editor button[aria-label=Upload]").click()
    chooser.value.set_files(str(photo))
    page.wait_for_timeout(2000)


def paint_sky_across_the_middle(page):
    """The brush's first colour (sky): the picture is shown zoomed to fit, centred in the canvas, so a stroke
    through the canvas's centre, a fifth of its width long, crosses the picture's middle."""
    page.locator("#label-editor button[aria-label=Brush]").click()
    box = page.locator("#label-editor canvas").first.bounding_box()
    centre_x, centre_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(centre_x - 0.1 * box["width"], centre_y)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(centre_x + (step / 10 - 1) * 0.1 * box["width"], centre_y)
    page.mouse.up()
    page.wait_for_timeout(500)


def test_a_student_paints_a_stroke_in_the_browser_and_saves_it(browser, running_app):
    """The whole Label flow as a student does it, in Chromium: upload a photo into the editor, paint one
    stroke with the first colour (sky) across its middle, press Save; the dataset's own label file has
    sky under the stroke and nothing (unknown) far from it, and the student's gallery shows it."""
    from tools.browser import opened

    photo = sorted(running_app["examples"].glob("*.jpg"))[1]
    height, width = cv2.imread(str(photo)).shape[:2]
    own = running_app["data"].parents[1] / "own-photos" / "labels"
    before = set(own.glob("*.regions.txt")) if own.exists() else set()
    context, page = opened(browser, running_app["url"], {"width": 1366, "height": 768}, settle_ms=1000)
    try:
        upload_into_the_editor(page, photo)
        paint_sky_across_the_middle(page)
        page.locator("#label-save").click()
        page.locator("#label-status").get_by_text("Yours: 1").wait_for(timeout=60_000)
        page.locator("#label-mine img").first.wait_for(timeout=30_000)
    finally:
        context.close()
    (label,) = set(own.glob("*.regions.txt")) - before
    mask = np.loadtxt(label)
    assert mask.shape == (height, width)
    row = mask[height // 2]
    assert (row[int(0.42 * width): int(0.58 * width)] == REGIONS.classes.index("sky")).all()
    assert (mask[: height // 8] == -1).all() and (mask[-height // 8:] == -1).all()  # unpainted: unknown


def test_the_guess_goes_under_the_brush_and_the_photo_is_saved_without_it(browser, running_app):
    """In Chromium: upload a photo, press Start from the model's guess; the editor then holds the guess drawn
    over the photo (one upload event more, answered without dropping the guess), a stroke goes over it, and
    Save keeps the guess where nothing was painted and the photo itself, not the picture with the colours."""
    from tools.browser import opened

    photo = sorted(running_app["examples"].glob("*.jpg"))[0]
    original = cv2.imread(str(photo))
    height, width = original.shape[:2]
    root = running_app["data"].parents[1] / "own-photos"
    before = set((root / "labels").glob("*.regions.txt")) if (root / "labels").exists() else set()
    context, page = opened(browser, running_app["url"], {"width": 1366, "height": 768}, settle_ms=1000)
    try:
        upload_into_the_editor(page, photo)
        with page.expect_request(lambda request: "/upload" in request.url, timeout=60_000):  # the guess, into the editor
            page.locator("#label-guess").click()
        page.wait_for_timeout(3000)
        paint_sky_across_the_middle(page)
        page.locator("#label-save").click()
        page.locator("#label-status").get_by_text("Yours: 1").wait_for(timeout=60_000)
    finally:
        context.close()
    (label,) = set((root / "labels").glob("*.regions.txt")) - before
    mask = np.loadtxt(label)
    assert (mask[height // 2, int(0.42 * width): int(0.58 * width)] == REGIONS.classes.index("sky")).all()
    assert (mask >= 0).mean() > 0.95, "where nothing was painted, the label is the guess, not unknown"
    saved = cv2.imread(str(root / "images" / f"{label.name.split('.')[0]}.jpg"))
    assert saved.shape == original.shape
    assert np.abs(saved.astype(np.int16) - original).mean() < 6, "the photo was saved, not the guess drawn over it"
