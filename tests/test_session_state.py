"""Predict's compact session state: the opacity slider, the classes view and the mask file answer
exactly as they did when the session held the photo and the probabilities, from tens of kilobytes."""
import pickle

import cv2
import numpy as np
import pytest
from PIL import Image

from segdemo.imaging import overlay
from segdemo.serving.inference import full_resolution_labels
from segdemo.ui.common import DISPLAY_SIDE, save_image, shown_labels, shown_photo


@pytest.fixture(scope="module")
def registry(trained_checkpoints):
    from segdemo.serving.registry import ModelRegistry

    return ModelRegistry(trained_checkpoints)


@pytest.fixture(scope="module", params=[(241, 320), (3024, 4032)], ids=["dataset-size", "phone-size"])
def upload(request, tmp_path_factory):
    """A JPEG upload with smooth regions (a network answers it with a few classes, as a photo)."""
    height, width = request.param
    rows, columns = np.mgrid[0:height, 0:width]
    picture = np.stack([255 * rows // height, 255 * columns // width, 128 + 100 * np.sin(columns / 97.0)], -1)
    path = tmp_path_factory.mktemp("uploads") / f"photo-{width}x{height}.jpg"
    Image.fromarray(picture.astype(np.uint8)).save(path, quality=90)
    return str(path)


def read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def answered_with_reference(registry, upload, model="unet"):
    """(the session state /predict keeps now, what the session held before: the photo, labels and probabilities)."""
    from segdemo.ui.predict import predict

    *_, answered = predict(registry, upload, model, 0.55)
    answer = registry.get(model).segmenter.answer(upload, DISPLAY_SIDE)
    labels, _ = shown_labels(answer)
    return answered, (shown_photo(answer.image, answer.photo_size), labels.astype(np.uint8), answer)


def test_the_state_weighs_tens_of_kilobytes(registry, upload):
    answered, (photo, labels, answer) = answered_with_reference(registry, upload)
    before = photo.nbytes + labels.nbytes + answer.probabilities.nbytes
    assert len(pickle.dumps(answered)) < 64 * 1024 < before


def test_the_opacity_slider_draws_the_same_overlay(registry, upload):
    from segdemo.ui.predict import redraw

    answered, (photo, labels, _) = answered_with_reference(registry, upload)
    photo_file, overlay_file = redraw(answered, 0.3)
    assert photo_file == answered.photo_file
    reference = save_image(overlay(photo, labels, answered.colours, 0.3), "reference")  # the same JPEG encoder
    assert np.array_equal(read(overlay_file), read(reference))


def test_the_classes_view_shows_the_same_classes(registry, upload):
    from segdemo.ui.predict import class_view

    answered, (_, labels, _) = answered_with_reference(registry, upload)
    picture, masks = class_view(answered, "en")
    assert picture == answered.photo_file and masks
    names = list(answered.classes)
    for mask_path, name in masks:
        shown = np.asarray(Image.open(mask_path).convert("RGBA"))[..., 3] > 0
        assert np.array_equal(shown, labels == names.index(name)), name


def test_the_mask_file_holds_the_labels_of_the_kept_probabilities(registry, upload):
    from segdemo.ui.predict import mask_file

    answered, (_, _, answer) = answered_with_reference(registry, upload, model="fpn")
    expected, _ = full_resolution_labels(answer.probabilities, *answer.photo_size)
    assert np.array_equal(read(mask_file(registry, answered)), expected.astype(np.uint8))


def test_an_upload_gone_from_the_cache_asks_to_segment_again(registry, upload, tmp_path):
    import gradio as gr

    from segdemo.ui.predict import mask_file, redraw

    answered, _ = answered_with_reference(registry, upload)
    gone = answered._replace(source=str(tmp_path / "swept.jpg"))
    for ask in (lambda: redraw(gone, 0.5), lambda: mask_file(registry, gone)):
        with pytest.raises(gr.Error, match="segment it again"):
            ask()
    with pytest.raises(gr.Error, match="Segment a photo first"):
        mask_file(registry, None)
