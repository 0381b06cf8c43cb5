"""``Segmenter``: a checkpoint turned into labels and confidence for any photo.

The photo is resized to the network's input size and run through the network
``python -m segdemo.export`` chose for the checkpoint (see ``segdemo.engine``) rather than
``model.predict`` per call; ``python -m segdemo.bench`` measures the gain and how many
pixels keep their float32 label.  Class probabilities are resized back to the photo's own resolution before the
arg-max, so the outlines follow the photo rather than the network's coarser grid.
"""
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import tensorflow as tf

from segdemo.engine import KerasNetwork, exported_network
from segdemo.hardware import choose_precision
from segdemo.imaging import load_rgb, resize
from segdemo.models import load_checkpoint

FULL_RESOLUTION_PIXELS = 4_000_000  # beyond this, probabilities are resized to a grid this big first
# One network pass at a time per process: TensorFlow already spreads one pass over every
# core, and two at once only thrash; decoding and drawing of other requests go on meanwhile.
NETWORK_LOCK = threading.Lock()


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
        counts = np.bincount(self.labels.reshape(-1), minlength=len(class_names))
        return {name: float(count) / self.labels.size for name, count in zip(class_names, counts)}


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

    ``precision="auto"`` runs what ``python -m segdemo.export`` chose for the checkpoint, else
    the Keras model in the CPU's best precision; a Keras policy name ("float32", the reference,
    or "mixed_bfloat16") runs Keras in that policy; ``network`` runs a given one instead.
    """

    def __init__(self, folder, precision="auto", network=None):
        self.folder = Path(folder)
        self.precision = choose_precision() if precision == "auto" else precision
        self.model, self.config = load_checkpoint(self.folder, self.precision)
        self.size = (self.config.height, self.config.width)
        self.load_notes = []
        if network is None and precision == "auto":
            network, note = exported_network(self.folder)
            self.load_notes += [note] if note else []
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

    @property
    def parameter_count(self):
        return int(self.model.count_params())

    def predict(self, images, size=None):
        """(labels, confidence, probabilities) tensors at ``size`` for images at the input size."""
        probabilities = self.network(np.asarray(images, np.float32))
        return labels_at(probabilities, tf.constant(size or self.size, tf.int32))

    def segment(self, source, keep_probabilities=False):
        """Labels and confidence for ``source`` (a path, bytes, PIL image or array)."""
        started = time.perf_counter()
        image, notes = load_rgb(source)
        height, width = image.shape[:2]
        network_input = resize(image, self.size[1], self.size[0])
        prepared = time.perf_counter()
        scale = min(1.0, (FULL_RESOLUTION_PIXELS / (height * width)) ** 0.5)
        grid = (max(1, round(height * scale)), max(1, round(width * scale)))
        with NETWORK_LOCK:
            labels, confidence, probabilities = self.predict(network_input[None], grid)
            labels, confidence = labels.numpy()[0], confidence.numpy()[0]
        predicted = time.perf_counter()
        if scale < 1.0:
            labels = resize(labels.astype(np.uint8), width, height, nearest=True).astype(np.int32)
            confidence = resize(confidence, width, height)
        finished = time.perf_counter()
        timings = {
            "preprocess_ms": 1000 * (prepared - started),
            "model_and_resize_ms": 1000 * (predicted - prepared),
            "postprocess_ms": 1000 * (finished - predicted),
            "total_ms": 1000 * (finished - started),
        }
        return Segmentation(
            image=image,
            labels=labels,
            confidence=confidence,
            probabilities=probabilities.numpy()[0] if keep_probabilities else None,
            timings=timings,
            notes=notes,
        )
