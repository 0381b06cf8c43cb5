"""``Segmenter``: a checkpoint turned into labels and confidence for any photo.

The photo is resized to the network's input size and run through the network
``python -m segdemo.serving.export`` chose for the checkpoint (see ``segdemo.serving.engine``) rather than
``model.predict`` per call; ``python -m tools.bench`` measures the gain and how many
pixels keep their float32 label.  Class probabilities are resized back to the photo's own resolution before the
arg-max, so the outlines follow the photo rather than the network's coarser grid.
"""
import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf

from segdemo.imaging import Photo, resize
from segdemo.networks.hardware import choose_precision
from segdemo.networks.models import ModelConfig, load_checkpoint, stored_parameter_count
from segdemo.serving.engine import KerasNetwork, exported_network
from segdemo.serving.kept_photos import decoded_photo

FULL_RESOLUTION_PIXELS = 4_000_000  # beyond this, probabilities are resized to a grid this big first


@dataclass
class Segmentation:
    """Per-pixel result at the photo's resolution, with timings in milliseconds."""

    image: np.ndarray
    labels: np.ndarray
    confidence: np.ndarray
    probabilities: np.ndarray = None
    timings: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def class_shares(self, class_names):
        return class_shares(self.labels, class_names)


def class_shares(labels, class_names):
    """Each class's share of the pixels of a label map."""
    counts = np.bincount(labels.reshape(-1), minlength=len(class_names))
    return {name: float(count) / labels.size for name, count in zip(class_names, counts)}


@dataclass
class NetworkAnswer:
    """A photo's class probabilities at the network's size, from which labels at any size are drawn.

    The page shows a photo at most 800 px long and the mask file is made only when asked for, so
    a request draws labels at the size it shows; ``full_resolution`` gives the labels ``segment``
    returns, identical whenever they are asked for.
    """

    image: np.ndarray  # the photo as decoded: smaller than photo_size when decoded for showing
    probabilities: np.ndarray  # (height, width, classes) at the network's input size
    photo_size: tuple  # (height, width) of the photo itself
    notes: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)

    def labels_at(self, height, width):
        """(int32 labels, float32 confidence) drawn at ``height`` x ``width``."""
        return labels_and_confidence(self.probabilities, height, width)

    def probabilities_at(self, height, width):
        return labels_at(self.probabilities[None], tf.constant((height, width), tf.int32))[2].numpy()[0]

    def full_resolution(self):
        return full_resolution_labels(self.probabilities, *self.photo_size)


def labels_and_confidence(probabilities, height, width):
    """(int32 labels, float32 confidence) at ``height`` x ``width`` from one photo's (h, w, classes) probabilities.

    Each class's plane is resized on its own and the arg-max kept as a running maximum, all in
    OpenCV: a third of the CPU time of the same resize and arg-max in TensorFlow (``labels_at``,
    which serves batches), and OpenCV leaves Python's lock while it works, so the networks Compare
    runs side by side do not wait for each other here.  Ties go to the first class, as in arg-max.
    """
    planes = np.ascontiguousarray(np.moveaxis(np.asarray(probabilities, np.float32), -1, 0))
    # bilinear both ways, as TensorFlow's resize: the evaluation's labels (``labels_at``) are these labels
    size = (width, height)  # OpenCV's order
    resized = (plane if plane.shape == (height, width) else cv2.resize(plane, size, interpolation=cv2.INTER_LINEAR)
               for plane in planes)
    confidence = next(resized).copy()
    labels = np.zeros((height, width), np.uint8)  # our label sets have at most 32 classes
    for index, plane in enumerate(resized, start=1):
        higher = cv2.compare(plane, confidence, cv2.CMP_GT)  # where this class beats every one before it
        cv2.copyTo(np.full_like(labels, index), higher, labels)
        cv2.max(confidence, plane, dst=confidence)
    return labels.astype(np.int32), confidence


def full_resolution_grid(height, width):
    """The photo's size, or a grid of ``FULL_RESOLUTION_PIXELS`` with its shape."""
    scale = min(1.0, (FULL_RESOLUTION_PIXELS / (height * width)) ** 0.5)
    return (max(1, round(height * scale)), max(1, round(width * scale))) if scale < 1.0 else (height, width)


def full_resolution_labels(probabilities, height, width):
    """(labels, confidence) at the photo's own ``height`` x ``width``: what ``Segmenter.segment`` returns.

    Beyond ``FULL_RESOLUTION_PIXELS`` the probabilities are resized to a grid that big and the
    labels enlarged from there, so a 40-megapixel photo costs no more than a 4-megapixel one.
    """
    grid = full_resolution_grid(height, width)
    labels, confidence = labels_and_confidence(probabilities, *grid)
    if grid != (height, width):
        labels = resize(labels.astype(np.uint8), (height, width), nearest=True).astype(np.int32)
        confidence = resize(confidence, (height, width))
    return labels, confidence


@tf.function(input_signature=[tf.TensorSpec((None, None, None, None), tf.float32), tf.TensorSpec((2,), tf.int32)])
def labels_at(probabilities, size):
    """(labels, confidence, probabilities) at ``size``, all inside one graph shared by every model.

    Probabilities are resized bilinearly (any class count fits, unlike OpenCV), and the
    arg-max runs on TensorFlow's threads: in NumPy it cost more than the network.
    """
    same_size = tf.reduce_all(tf.equal(size, tf.shape(probabilities)[1:3]))
    probabilities = tf.cond(same_size, lambda: probabilities,
                            lambda: tf.image.resize(probabilities, size, method="bilinear"))
    labels = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    return labels, tf.reduce_max(probabilities, axis=-1), probabilities


class Segmenter:
    """Loads one checkpoint folder once and segments images with it.

    ``precision="auto"`` runs what ``python -m segdemo.serving.export`` chose for the checkpoint, else
    the Keras model in the CPU's best precision; a Keras policy name ("float32", the reference,
    or "mixed_bfloat16") runs Keras in that policy; ``network`` runs a given one instead.
    """

    def __init__(self, folder, precision="auto", network=None):
        self.folder = Path(folder)
        self.precision = choose_precision() if precision == "auto" else precision
        self.config = ModelConfig.load(self.folder)
        self.size = (self.config.height, self.config.width)
        self.load_notes = []
        if network is None and precision == "auto":
            network, note = exported_network(self.folder)
            self.load_notes += [note] if note else []
        # an exported network runs alone: building the Keras model beside it cost 0.7-1.6 s per
        # checkpoint at start-up, and its memory
        self.model = None if network else load_checkpoint(self.folder, self.precision)[0]
        self.network = network or KerasNetwork(self.model, self.precision)
        warm_up = np.zeros((1, *self.size, 3), np.float32)
        self.predict(warm_up)  # trace now, not on a user's click
        started = time.perf_counter()
        self.predict(warm_up)
        self.warm_milliseconds = 1000 * (time.perf_counter() - started)  # lets the Live tab pick the fastest model

    @property
    def engine(self):
        return self.network.name

    @property
    def name(self):
        return self.folder.name

    @functools.cached_property
    def parameter_count(self):
        return stored_parameter_count(self.folder)

    def predict(self, images, size=None):
        """(labels, confidence, probabilities) tensors at ``size`` for images at the input size."""
        probabilities = self.network(np.asarray(images, np.float32))
        return labels_at(probabilities, tf.constant(size or self.size, tf.int32))

    def answer(self, source, shown_side=None):
        """The network's probabilities for ``source`` (a path, bytes, PIL image, array or ``Photo``), with the decoded photo.

        With ``shown_side``, the photo is decoded no larger than needed to show it that long and
        to fill the network's input (``imaging.load_photo``).
        """
        started = time.perf_counter()
        photo = source if isinstance(source, Photo) else decoded_photo(source, shown_side, self.size)
        network_input = resize(photo.image, self.size)
        prepared = time.perf_counter()
        probabilities = np.asarray(self.network(network_input[None].astype(np.float32)))[0]
        finished = time.perf_counter()
        return NetworkAnswer(photo.image, probabilities, photo.size, photo.notes,
                             {"preprocess_ms": 1000 * (prepared - started), "network_ms": 1000 * (finished - prepared)})

    def segment(self, source, keep_probabilities=False):
        """Labels and confidence for ``source`` at its own resolution."""
        started = time.perf_counter()
        answer = self.answer(source)
        labels, confidence = answer.full_resolution()
        finished = time.perf_counter()
        timings = {**answer.timings, "postprocess_ms": 1000 * (finished - started) - sum(answer.timings.values()),
                   "total_ms": 1000 * (finished - started)}
        return Segmentation(
            image=answer.image,
            labels=labels,
            confidence=confidence,
            probabilities=answer.probabilities_at(*full_resolution_grid(*answer.photo_size)) if keep_probabilities else None,
            timings=timings,
            notes=answer.notes,
        )
