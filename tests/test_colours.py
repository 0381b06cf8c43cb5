"""A label map drawn in its classes' colours: every label its palette entry, unknown pixels black."""
import numpy as np
import pytest

from segdemo.imaging import colorize


def by_indexing(labels, palette):
    """The definition: each pixel its class's colour, black where the label is negative."""
    picture = np.zeros((*labels.shape, 3), np.uint8)
    known = labels >= 0
    picture[known] = np.asarray(palette, np.uint8)[labels[known]]
    return picture


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("classes", [3, 8, 255, 300])
def test_every_label_gets_its_colour_and_unknown_pixels_are_black(dtype, classes):
    rng = np.random.default_rng(classes)
    palette = rng.integers(1, 256, (classes, 3))  # no black entry: a black pixel can only be an unknown one
    low = 0 if dtype == np.uint8 else -1
    labels = rng.integers(low, min(classes, 256 if dtype == np.uint8 else classes), (37, 53)).astype(dtype)
    picture = colorize(labels, palette)
    assert picture.dtype == np.uint8 and picture.shape == (37, 53, 3)
    assert np.array_equal(picture, by_indexing(labels, palette))
    if low < 0:
        assert (labels < 0).any() and not picture[labels < 0].any()
