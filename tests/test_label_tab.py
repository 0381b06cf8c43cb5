"""The Label tab's reading of the editor: the model's guess with the student's strokes over it,
black for unknown, and a new photo not mistaken for the guessed one."""
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from segdemo.data.labels import REGIONS
from segdemo.data.own_photos import OwnPhotos
from segdemo.ui.label import PAINTS, Draft, class_summary, corrected_mask, elapsed, LONGEST_SESSION_S

SKY, ROAD, BUILDING = 0, 2, 5


def editor(photo, *strokes):
    """An editor value as Gradio hands it over (type="pil"): the photo and one RGBA layer of strokes."""
    layer = np.zeros((*photo.shape[:2], 4), np.uint8)
    for (top, bottom, left, right), colour in strokes:
        layer[top:bottom, left:right] = (*colour, 255)
    return {"background": Image.fromarray(photo).convert("RGBA"), "layers": [Image.fromarray(layer)], "composite": None}


@pytest.fixture
def photo():
    return np.random.default_rng(1).integers(0, 255, (48, 64, 3), dtype=np.uint8)


def test_strokes_go_over_the_guess_and_black_means_unknown(photo):
    guess = np.full((48, 64), SKY, np.int16)
    guess[24:] = ROAD
    value = editor(photo, ((0, 10, 0, 10), PAINTS[BUILDING]), ((40, 48, 50, 64), PAINTS[-1]))
    kept, mask = corrected_mask(value, Draft(photo, guess))
    assert (kept == photo).all()
    assert (mask[:10, :10] == BUILDING).all() and (mask[40:, 50:] == -1).all()
    assert mask[20, 30] == SKY and mask[30, 30] == ROAD  # untouched: the guess


def test_under_the_brush_the_guess_drawn_over_the_photo_labels_and_the_photo_is_saved(photo):
    """The editor holds the guess drawn over the photo (put there by the page): the label is the guess with
    the strokes over it, and the photo kept is the draft's, without the guess's colours."""
    guess = np.full((48, 64), SKY, np.int16)
    guess[24:] = ROAD
    shown = (photo // 2 + 100).astype(np.uint8)
    kept, mask = corrected_mask(editor(shown, ((0, 10, 0, 10), PAINTS[BUILDING])), Draft(photo, guess, shown))
    assert (kept == photo).all()
    assert (mask[:10, :10] == BUILDING).all() and mask[20, 30] == SKY and mask[30, 30] == ROAD


def test_a_new_photo_does_not_take_the_old_guess(photo):
    other = 255 - photo
    kept, mask = corrected_mask(editor(other, ((0, 8, 0, 8), PAINTS[SKY])), Draft(photo, np.zeros((48, 64), np.int16)))
    assert (kept == other).all() and (mask[:8, :8] == SKY).all() and (mask[8:] == -1).all()


def test_nothing_painted_and_no_guess_is_refused_in_the_pages_language(photo):
    with pytest.raises(gr.Error, match="まだ何も塗られていません"):
        corrected_mask(editor(photo), None, "ja")
    with pytest.raises(gr.Error, match="Upload a photo"):
        corrected_mask({"background": None, "layers": []}, None)


def test_the_summary_counts_the_class_and_the_labelling_time(tmp_path, photo):
    store = OwnPhotos(tmp_path)
    for seconds in (30, 50, None):
        store.add(photo, np.zeros((48, 64), np.int16), "abcdef12", seconds=seconds)
    text = class_summary(store.entries(), "abcdef12")
    assert "**3** labelled photos: 2 for training, 1 held out. Yours: 3" in text and "40 s per photo (median of 2)" in text
    assert elapsed(None) is None and elapsed(100.0, now=130.0) == 30.0 and elapsed(0.5, now=LONGEST_SESSION_S + 1) is None


def test_learn_tells_what_a_label_cost_this_class(tmp_path, photo):
    from segdemo.ui.learn import labelling_cost

    store = OwnPhotos(tmp_path)
    assert "Nobody has labelled" in labelling_cost(store)
    for seconds in (60, 90, 120):
        store.add(photo, np.zeros((48, 64), np.int16), "abcdef12", seconds=seconds)
    store.add(photo, np.zeros((48, 64), np.int16), "abcdef12", source="labelme")  # an import has no labelling time
    text = labelling_cost(store)
    assert "**3** photos in a median of **90 s**" in text and "4.5 minutes" in text and "**17.9 hours**" in text
    assert "**17.9 時間**" in labelling_cost(store, "ja")


def test_the_editor_starts_the_clock_on_upload_and_forgets_the_photo_on_clear(tmp_path):
    """The seconds a label took are counted from the photo's upload into the editor (a cleared editor
    stops the clock and drops the guess): both events are wired to the editor."""
    from segdemo.serving.registry import ModelRegistry
    from segdemo.ui.app import build_demo

    config = build_demo(ModelRegistry(tmp_path)).get_config_file()
    editor = next(c["id"] for c in config["components"] if c["props"].get("elem_id") == "label-editor")
    events = {event for dependency in config["dependencies"] for target, event in dependency["targets"]
              if target == editor}
    assert {"upload", "clear"} <= events


def test_a_students_gallery_draws_each_label_once_and_again_if_its_picture_is_gone(tmp_path):
    from segdemo.ui.label import gallery_items

    store = OwnPhotos(tmp_path / "own")
    image, mask = np.zeros((40, 60, 3), np.uint8), np.zeros((40, 60), np.int16)
    store.add(image, mask, "0123456789ab")
    reads = []
    original = store.read
    store.read = lambda entry_id: reads.append(entry_id) or original(entry_id)
    drawn = {}
    first = gallery_items(store, store.entries(), "0123456789ab", "en", drawn)
    store.add(image, mask, "0123456789ab")
    second = gallery_items(store, store.entries(), "0123456789ab", "ja", drawn)
    assert second[0][0] == first[0][0] and len(second) == 2 and len(reads) == 2  # the first label drawn once
    Path(first[0][0]).unlink()  # the cache removed an old picture
    third = gallery_items(store, store.entries(), "0123456789ab", "en", drawn)
    assert Path(third[0][0]).is_file() and len(reads) == 3
