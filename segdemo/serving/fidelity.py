"""How fast, and how faithful to the float32 Keras model, one way of running a checkpoint is.

Speed alone is no gain if the answers change, so a faster way is kept only when, on the
real validation photos, its labels equal the float32 model's on at least ``AGREEMENT_BAR``
of the pixels and its mIoU is within ``MIOU_TOLERANCE`` of the float32 model's.
"""
import time

import numpy as np

from segdemo.data import load_dataset, load_split
from segdemo.data.labels import get_label_set
from segdemo.networks import metrics

AGREEMENT_BAR = 0.99
MIOU_TOLERANCE = 0.005


def timed(function, repeats):
    """(median, p95) milliseconds of ``repeats`` calls after one warm-up call."""
    function()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(1000 * (time.perf_counter() - started))
    return float(np.median(samples)), float(np.percentile(samples, 95))


def validation_images(label_set, split="fixed", data=None):
    """(images, truths, description) of the validation split; DatasetError when the data is not here."""
    dataset = load_dataset(get_label_set(label_set), data)
    val = dataset.subset(load_split(dataset.ids, split)[1])
    return val.images, val.masks, f"the {len(val)} validation images"


def reference_answers(reference, images, truths=None):
    """The float32 model's label maps and, with truths, its mIoU: computed once, compared many times."""
    labels = [reference.segment(image).labels for image in images]
    return labels, _miou(labels, truths, len(reference.config.classes))


def agreement(candidate, images, answers, truths=None):
    """{"equal": share of pixels with the reference's label, "miou", "miou_float32"} for ``candidate``.

    ``answers`` is what ``reference_answers`` returned for the same images and truths.
    """
    exact, miou_float32 = answers
    ours = [candidate.segment(image).labels for image in images]
    equal = sum(int(np.sum(a == b)) for a, b in zip(ours, exact)) / sum(a.size for a in ours)
    return {"equal": equal, "miou": _miou(ours, truths, len(candidate.config.classes)), "miou_float32": miou_float32}


def meets_bar(scores):
    close = scores["miou"] is None or abs(scores["miou"] - scores["miou_float32"]) <= MIOU_TOLERANCE
    return scores["equal"] >= AGREEMENT_BAR and close


def _miou(label_maps, truths, classes):
    if truths is None:
        return None
    counts = sum(metrics.confusion_matrix(truth, labels, classes) for truth, labels in zip(truths, label_maps))
    return metrics.nan_mean(metrics.iou(counts))
