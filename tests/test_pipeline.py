"""Augmentation must move image and mask together and never invent labels."""
import pytest
import numpy as np
import tensorflow as tf

from segdemo.data import load_dataset
from segdemo.data.labels import REGIONS
from segdemo.data.pipeline import augment, eval_dataset, pad_stack, train_dataset

COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)


def stripes(height=60, width=80):
    mask = np.zeros((height, width), np.int32)
    mask[:, width // 3:] = 1
    mask[height // 2:, 2 * width // 3:] = 2
    return COLOURS[mask], mask


def test_augmented_image_and_mask_stay_aligned():
    image, mask = stripes()
    tf.random.set_seed(1)
    for _ in range(10):
        out_image, out_mask = augment(tf.constant(image), tf.constant(mask), (48, 64))
        out_image, out_mask = out_image.numpy(), out_mask.numpy()
        assert out_image.shape == (48, 64, 3) and out_mask.shape == (48, 64)
        assert set(np.unique(out_mask)) <= {-1, 0, 1, 2}, "nearest neighbour only: no new labels"
        known = out_mask >= 0
        nearest_colour = np.argmax(out_image, axis=-1)  # red, green, blue = class 0, 1, 2
        assert np.mean(nearest_colour[known] == out_mask[known]) > 0.95


def test_padding_marks_unknown_and_batches_have_fixed_shapes(tiny_data):
    dataset = load_dataset(REGIONS, tiny_data)
    images, masks, shapes = pad_stack(dataset.images, dataset.masks)
    h, w = shapes[2]
    assert np.all(masks[2, h:, :] == -1) and np.all(masks[2, :, w:] == -1)
    batch_images, batch_masks = next(iter(train_dataset(dataset, (96, 96), 4)))
    assert batch_images.shape == (4, 96, 96, 3) and batch_masks.shape == (4, 96, 96)
    assert float(tf.reduce_max(batch_images)) <= 255.0
    eval_images, eval_masks = next(iter(eval_dataset(dataset, (96, 96), 16)))
    assert eval_images.shape[0] == 16 and eval_masks.dtype == tf.int32


def test_the_scale_range_reaches_the_crop_and_a_shrunk_photo_is_padded_as_unknown():
    image, mask = stripes()
    tf.random.set_seed(2)
    _, enlarged = augment(tf.constant(image), tf.constant(mask), (48, 64), scale_range=(2.0, 2.0))
    _, shrunk = augment(tf.constant(image), tf.constant(mask), (48, 64), scale_range=(0.5, 0.5))
    assert (enlarged.numpy() >= 0).all(), "an enlarged photo fills the whole crop"
    known = (shrunk.numpy() >= 0).mean()
    assert 0.2 < known < 0.3, f"half the height and width: a quarter of the crop is photo, not {known:.2f}"


def test_the_training_command_reads_a_scale_range_and_refuses_a_reversed_one():
    from segdemo.networks.train import build_parser

    parser = build_parser()
    assert parser.parse_args(["--out", "x", "--scale-range", "0.5-2.0"]).scale_range == (0.5, 2.0)
    assert parser.parse_args(["--out", "x"]).scale_range == (0.8, 1.4)
    for wrong in ("2.0-0.5", "0-1", "big"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--out", "x", "--scale-range", wrong])
