"""``Segmenter``: a checkpoint turned into labels and confidence for any photo.

The photo is resized to the network's input size, run through a traced ``tf.function``
(a plain ``model.predict`` per call costs about 1.5x more on these CPUs), and the class
probabilities are resized back to the photo's own resolution before the arg-max, so the
outlines follow the photo rather than the network's coarser grid.
"""
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import segdemo  # noqa: F401
import tensorflow as tf

from segdemo.imaging import load_rgb, resize
from segdemo.models import load_checkpoint

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
        counts = np.bincount(self.labels.reshape(-1), minlength=len(class_names))
        return {name: float(count) / self.labels.size for name, count in zip(class_names, counts)}


class Segmenter:
    """Loads one checkpoint folder once and segments images with it."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.model, self.config = load_checkpoint(self.folder)
        self.size = (self.config.height, self.config.width)
        batch_spec = tf.TensorSpec((None, *self.size, 3), tf.float32)
        size_spec = tf.TensorSpec((2,), tf.int32)
        self._forward = tf.function(self._probabilities_at, input_signature=[batch_spec, size_spec])
        self._forward(tf.zeros((1, *self.size, 3)), tf.constant(self.size))  # trace now, not on a user's click

    def _probabilities_at(self, batch, size):
        """Network probabilities resized (bilinear) to ``size`` inside the graph: any class count fits."""
        probabilities = self.model(batch, training=False)
        return tf.image.resize(probabilities, size, method="bilinear")

    @property
    def name(self):
        return self.folder.name

    @property
    def parameter_count(self):
        return int(self.model.count_params())

    def probabilities(self, images, size=None):
        """Class probabilities (N, H, W, C) at ``size`` for images at the network's input size."""
        batch = tf.convert_to_tensor(np.asarray(images, np.float32))
        return self._forward(batch, tf.constant(size or self.size, tf.int32)).numpy()

    def segment(self, source, keep_probabilities=False):
        """Labels and confidence for ``source`` (a path, bytes, PIL image or array)."""
        started = time.perf_counter()
        image, notes = load_rgb(source)
        height, width = image.shape[:2]
        network_input = resize(image, self.size[1], self.size[0])
        prepared = time.perf_counter()
        scale = min(1.0, (FULL_RESOLUTION_PIXELS / (height * width)) ** 0.5)
        grid = (max(1, round(height * scale)), max(1, round(width * scale)))
        probabilities = self.probabilities(network_input[None], grid)[0]
        predicted = time.perf_counter()
        labels = np.argmax(probabilities, axis=-1).astype(np.int32)
        confidence = np.max(probabilities, axis=-1)
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
            probabilities=probabilities if keep_probabilities else None,
            timings=timings,
            notes=notes,
        )
