"""Soft targets: a teacher's class probabilities for each training photo, the file between two commands.

``python -m segdemo.serving.teacher`` writes them (what the app's network answers under DeepLab's
twelve-pass protocol, ``segdemo.serving.augmented``); ``python -m segdemo.networks.train --teacher FILE``
trains a one-pass network towards them beside the labels (knowledge distillation, Hinton et al. 2015).
One ``uint8`` array per photo (probability x 255, the photo's own height and width, one plane per class),
keyed by the photo's id, and the teacher's description under ``TEACHER_KEY``.  In training they travel
packed behind the class in one label tensor (``pack``, ``split_packed``).
"""
from pathlib import Path

import numpy as np
import tensorflow as tf

TEACHER_KEY = "__teacher__"
SCALE = 255.0


def quantized(probabilities):
    """(H, W, C) probabilities as stored: whole 255ths in ``uint8`` (a photo's answer in 1/4 of float32's bytes)."""
    return np.clip(np.rint(np.asarray(probabilities, np.float32) * SCALE), 0, SCALE).astype(np.uint8)


def write_soft_targets(path, stored_by_id, teacher):
    """Store ``stored_by_id`` ({photo id: ``quantized`` (H, W, C) array}) and the ``teacher`` text at ``path``."""
    if any(array.dtype != np.uint8 for array in stored_by_id.values()):
        raise ValueError("soft targets are stored quantized: pass quantized(probabilities)")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **stored_by_id, **{TEACHER_KEY: np.array(teacher)})


def read_soft_targets(path, dataset, num_classes):
    """(one (H, W, C) uint8 array per photo of ``dataset``, in its order, the teacher's description).

    Fails loudly when a photo is missing or its array does not match the photo or the classes:
    a teacher written for another split, label set or copy of the dataset would teach wrong answers.
    """
    with np.load(path) as stored:
        missing = [image_id for image_id in dataset.ids if image_id not in stored.files]
        if missing:
            raise ValueError(f"{path} has no soft targets for {len(missing)} training photos (e.g. {missing[0]}); "
                             "write them with python -m segdemo.serving.teacher")
        maps = [stored[image_id] for image_id in dataset.ids]
        teacher = str(stored[TEACHER_KEY]) if TEACHER_KEY in stored.files else "unknown teacher"
    for image_id, soft, mask in zip(dataset.ids, maps, dataset.masks):
        if soft.shape != (*mask.shape, num_classes):
            raise ValueError(f"{path}: photo {image_id} has soft targets of shape {soft.shape}, "
                             f"its labels {mask.shape} and {num_classes} classes")
    return maps, teacher


def probabilities(stored):
    """Stored soft targets (any shape, ``uint8``) back to float32 probabilities."""
    return tf.cast(stored, tf.float32) / SCALE


def pack(mask, soft):
    """One label tensor of a training example: (H, W, 1 + C), the class (as float) then the teacher's probabilities."""
    return tf.concat([tf.cast(mask, tf.float32)[..., None], soft], -1)


def split_packed(y_true):
    """(labels, a teacher's probabilities or None): a packed label carries both; any other is labels alone."""
    if y_true.shape.rank == 4 and y_true.shape[-1] > 1:
        return y_true[..., 0], y_true[..., 1:]
    return y_true, None
