"""One checkpoint's float32 Keras model opened up: logits, chosen feature maps and one pixel's gradient.

The app runs exported LiteRT networks for speed, but those give neither gradients nor
intermediate layers, so the views of this package rebuild the checkpoint in float32 Keras.
Each probe traces its two functions when it is built; the forward pass is kept per photo (a
few photos per model), so the probability and feature views of one photo share one pass (hiding
a region asks for labels only: copying every feature map out costs more than the pass), and a gradient is computed for one pixel only, its decoder on the windows that pixel
reads (``segdemo.inside.windowed``: a third to a fifth of the work of a whole pass).
"""
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from segdemo.imaging import resize
from segdemo.inside.receptive import receptive_field
from segdemo.inside.stages import network_stages
from segdemo.inside.windowed import WindowedNetwork
from segdemo.networks.folded_batchnorm import fold_into_convolutions
from segdemo.networks.models import load_checkpoint, segmentation_network
from segdemo.serving.threads import pass_turn

LOOKS_KEPT = 4  # forward passes remembered per model (one per recent photo)

@dataclass
class Look:
    """One forward pass at the network's input size: the photo as the network sees it and what it computed."""

    image: np.ndarray  # uint8 RGB, resized to the input size
    logits: np.ndarray  # (height, width, classes), the input to the final softmax
    probabilities: np.ndarray
    features: dict  # layer name -> (h, w, channels) float32

    @property
    def labels(self):
        return self.probabilities.argmax(-1)


def softmax(logits):
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


class NetworkProbe:
    """A float32 Keras model with handles on its logits and on the layers ``stages`` picks."""

    def __init__(self, model, config):
        self.config = config
        self.size = (config.height, config.width)
        # BN folded into the convolutions: the same values, a third less of a click's work (README, Inside)
        network = fold_into_convolutions(segmentation_network(model))
        normalise = model.get_layer("normalise")
        self.field = receptive_field(network)
        self.stages = network_stages(network, config.arch)
        layer_names = list(dict.fromkeys(stage.layer for stage in self.stages))
        opened = tf.keras.Model(network.input, [network.get_layer(n).output for n in layer_names] + [network.output])
        spec = tf.TensorSpec((1, *self.size, 3), tf.float32)

        @tf.function(input_signature=[spec])
        def forward(rgb):
            outputs = opened(normalise(rgb), training=False)
            return dict(zip(layer_names, outputs[:-1])), outputs[-1]

        self._forward, self._windowed = forward, WindowedNetwork(network, normalise)
        self._looks = OrderedDict()
        self._lock = threading.Lock()
        blank = np.zeros((*self.size, 3), np.uint8)
        self.predict(blank)  # trace both now, not on a student's first click
        self.gradient(blank, 0, 0)

    def network_input(self, photo):
        """``photo`` (uint8 RGB, any size) resized to the network's input, as the Segmenter does (as it is when
        it has that size already)."""
        if np.shape(photo)[:2] == self.size:
            return np.asarray(photo, np.uint8)
        return resize(np.asarray(photo, np.uint8), self.size)

    def look(self, photo):
        """The forward pass for ``photo``, computed once per photo and kept for the next views."""
        image = self.network_input(photo)
        key = hashlib.sha1(image.tobytes()).hexdigest()
        with self._lock:
            if key in self._looks:
                self._looks.move_to_end(key)
                return self._looks[key]
        with pass_turn():
            features, logits = self._forward(tf.constant(image[None], tf.float32))
        logits = logits.numpy()[0].astype(np.float32)
        look = Look(image, logits, softmax(logits), {name: value.numpy()[0] for name, value in features.items()})
        with self._lock:
            self._looks[key] = look
            while len(self._looks) > LOOKS_KEPT:
                self._looks.popitem(last=False)
        return look

    def predict(self, image):
        """Class probabilities of an image already at the input size (e.g. with a region hidden)."""
        with pass_turn():
            _, logits = self._forward(tf.constant(np.asarray(image, np.float32)[None]))
        return softmax(logits.numpy()[0])

    def gradient(self, photo, row, column, class_index=-1):
        """(d logit[row, column, class] / d input pixel as (height, width, 3), the pixel's logits).

        One forward and one backward pass, the decoder's on windows; ``class_index`` -1 takes the class
        the pixel is given.
        """
        image = self.network_input(photo)
        with pass_turn():
            gradient, logits = self._windowed.gradient(tf.constant(image[None], tf.float32), row, column, class_index)
        return gradient.numpy(), logits.numpy()


_PROBES = {}
_PROBES_LOCK = threading.Lock()


def probe_for(folder):
    """The probe of a checkpoint folder, built on first use and kept for the process (float32 Keras)."""
    key = str(Path(folder).resolve())
    with _PROBES_LOCK:
        if key not in _PROBES:
            _PROBES[key] = NetworkProbe(*load_checkpoint(folder, "float32"))
        return _PROBES[key]
