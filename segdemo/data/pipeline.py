"""tf.data pipelines: augmented training batches and plain evaluation batches.

Images of different sizes are padded into one array (masks padded with -1, "unknown")
so the whole dataset lives in memory as two tensors; each example is cropped back to its
own size before augmentation.  Image and mask always go through the same geometric
transform, and masks are only ever resized with nearest neighbour.  A teacher's soft targets
(``segdemo.data.soft_targets``), when given, ride with the image (bilinear) and leave the pipeline
packed behind the mask as one label tensor: channel 0 the class, then one probability per class.
"""
import numpy as np
import tensorflow as tf

from segdemo.data.labels import UNKNOWN
from segdemo.data.soft_targets import pack, probabilities

AUTOTUNE = tf.data.AUTOTUNE


def pad_stack(images, masks):
    """(N,H,W,3) uint8 images, (N,H,W) int8 masks padded with UNKNOWN, and each true (h, w)."""
    shapes = np.array([mask.shape for mask in masks], dtype=np.int32)
    height, width = shapes.max(axis=0)
    image_stack = _padded(images, height, width, 0, np.uint8)
    mask_stack = _padded(masks, height, width, UNKNOWN, np.int8)
    return image_stack, mask_stack, shapes


def _padded(arrays, height, width, fill, dtype):
    """``arrays`` (each (h, w, ...)) in one (N, height, width, ...) array, the rest ``fill``."""
    stack = np.full((len(arrays), height, width, *arrays[0].shape[2:]), fill, dtype)
    for i, array in enumerate(arrays):
        stack[i, : array.shape[0], : array.shape[1]] = array
    return stack


def _unpad(image, mask, shape, soft=None):
    image, mask = image[: shape[0], : shape[1]], tf.cast(mask[: shape[0], : shape[1]], tf.int32)
    if soft is None:
        return image, mask
    return image, mask, probabilities(soft[: shape[0], : shape[1]])


def resize_pair(image, mask, size):
    """Bilinear for the image, nearest neighbour for the mask, so no label is ever invented."""
    image = tf.image.resize(tf.cast(image, tf.float32), size, method="bilinear")
    mask = tf.image.resize(mask[..., None], size, method="nearest")[..., 0]
    return image, mask


SCALE_RANGE = (0.8, 1.4)  # the random enlargement every shipped model was trained with


def augment(image, mask, size, scale_range=SCALE_RANGE, scale_to=None, soft=None):
    """Random scale, crop and flip (shared by image, mask and ``soft`` targets), then colour jitter (image only).

    The photo is first scaled as it would be to fill ``scale_to`` (default ``size``), times a
    random factor, then a ``size`` window is cropped: training on crops smaller than the
    inference size is faster and keeps objects at the scale the app will show them.  A factor
    below one leaves part of the window empty: padding, labelled unknown, which no loss counts
    (and soft targets of zero, which the teacher's term skips).  With ``soft`` the label is packed:
    (H, W, 1 + C), the class then the teacher's probabilities.
    """
    target_h, target_w = size
    fit_h, fit_w = scale_to or size
    shape = tf.cast(tf.shape(mask), tf.float32)
    fit = tf.maximum(fit_h / shape[0], fit_w / shape[1])
    scale = fit * tf.random.uniform([], *scale_range)
    new_size = tf.cast(tf.math.ceil(shape * scale), tf.int32)
    image = tf.cast(image, tf.float32) if soft is None else tf.concat([tf.cast(image, tf.float32), soft], -1)
    image, mask = resize_pair(image, mask, new_size)

    pad_h = tf.maximum(target_h, new_size[0])
    pad_w = tf.maximum(target_w, new_size[1])
    image = tf.image.pad_to_bounding_box(image, 0, 0, pad_h, pad_w)
    shifted = tf.image.pad_to_bounding_box(mask[..., None] - UNKNOWN, 0, 0, pad_h, pad_w)
    stacked = tf.concat([image, tf.cast(shifted, tf.float32)], axis=-1)
    stacked = tf.image.random_crop(stacked, (target_h, target_w, stacked.shape[-1]))
    stacked = tf.image.random_flip_left_right(stacked)
    mask = tf.cast(tf.round(stacked[..., -1]), tf.int32) + UNKNOWN
    label = mask if soft is None else pack(mask, stacked[..., 3:-1])
    image = stacked[..., :3] / 255.0

    image = tf.image.random_brightness(image, 0.12)
    image = tf.image.random_contrast(image, 0.8, 1.2)
    image = tf.image.random_saturation(image, 0.8, 1.2)
    image = tf.image.random_hue(image, 0.03)
    return tf.clip_by_value(image, 0.0, 1.0) * 255.0, label


def _tensors(dataset, soft_targets=None):
    images, masks, shapes = pad_stack(dataset.images, dataset.masks)
    if soft_targets is None:
        return tf.data.Dataset.from_tensor_slices((images, masks, shapes))
    soft = _padded(soft_targets, *images.shape[1:3], 0, np.uint8)
    return tf.data.Dataset.from_tensor_slices((images, masks, shapes, soft))


def train_dataset(dataset, size, batch_size, shuffle_seed=None, augmented=True, scale_to=None, scale_range=SCALE_RANGE,
                  soft_targets=None):
    """Shuffled, endlessly repeated batches of float images in [0, 255] and int32 masks.

    ``augmented=False`` only resizes, as the seed notebook trained; ``scale_to`` is the
    inference size when ``size`` is a smaller training crop, ``scale_range`` the random factor on it
    (see ``augment``).  ``soft_targets`` (one (H, W, C) uint8 array per photo) make each label
    packed, as ``augment`` says; they need ``augmented``.
    """
    if soft_targets is not None and not augmented:
        raise ValueError("soft targets ride with the augmentation; train with it")
    if augmented:
        def transform(image, mask, soft=None):
            return augment(image, mask, size, scale_range, scale_to, soft)
    else:
        def transform(image, mask):
            return resize_pair(image, mask, size)
    return (
        _tensors(dataset, soft_targets)
        .shuffle(len(dataset), seed=shuffle_seed, reshuffle_each_iteration=True)
        .repeat()
        .map(lambda i, m, s, *soft: transform(*_unpad(i, m, s, *soft)), num_parallel_calls=AUTOTUNE)
        .batch(batch_size, drop_remainder=True)
        .prefetch(AUTOTUNE)
    )


def eval_dataset(dataset, size, batch_size):
    """Every example resized to the model's input size, in order, without augmentation."""
    return (
        _tensors(dataset)
        .map(lambda i, m, s: resize_pair(*_unpad(i, m, s), size), num_parallel_calls=AUTOTUNE)
        .batch(batch_size)
        .prefetch(AUTOTUNE)
    )
