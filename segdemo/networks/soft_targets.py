"""Soft targets: a teacher's class probabilities for each training photo, the file between two commands.

``python -m segdemo.serving.teacher`` writes them (what the app's network answers under DeepLab's
twelve-pass protocol, ``segdemo.serving.augmented``); ``python -m segdemo.networks.train --teacher FILE``
trains a one-pass network towards them beside the labels (knowledge distillation, Hinton et al. 2015).
One ``uint8`` array per photo (probability x 255, the photo's own height and width, one plane per class),
keyed by the photo's id, and the teacher's description under ``TEACHER_KEY``.
"""
from pathlib import Path

import numpy as np

TEACHER_KEY = "__teacher__"
SCALE = 255.0


def write_soft_targets(path, probabilities_by_id, teacher):
    """Store ``probabilities_by_id`` ({photo id: (H, W, C) float probabilities}) and the ``teacher`` text at ``path``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    arrays = {image_id: np.clip(np.rint(np.asarray(p) * SCALE), 0, SCALE).astype(np.uint8)
              for image_id, p in probabilities_by_id.items()}
    np.savez_compressed(path, **arrays, **{TEACHER_KEY: np.array(teacher)})


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
