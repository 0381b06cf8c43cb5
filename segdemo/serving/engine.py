"""The network that computes a checkpoint's class probabilities: Keras, or an exported LiteRT file.

``python -m segdemo.serving.export`` converts a checkpoint to LiteRT (float32, and int8 weights with
dynamic-range quantisation), scores each way against the float32 Keras model on the real
validation photos, and records in ``engine.json`` the fastest one whose labels stay equal on
>= 99% of pixels with mIoU within 0.005.  The app runs that one.  A missing, stale (weights
changed since) or unreadable export falls back to Keras, and the reason is kept as a note.
"""
import json
import queue
from pathlib import Path

import numpy as np
import tensorflow as tf

from segdemo.networks import shards
from segdemo.networks.checkpoint import ENGINE_FILE, NETWORK_FILE
from segdemo.networks.hardware import available_cores
from segdemo.networks.models import shown, weights_digest
from segdemo.serving.threads import pass_turn

KERAS = "keras"


class KerasNetwork:
    """The Keras model traced once with ``tf.function``: no ``model.predict`` overhead per call.

    Where TensorFlow spreads a pass over every core (its default), one pass at a time: two at once
    thrash.  Where each pass has one thread (the served app: ``segdemo.serving.threads``),
    requests at once run side by side, as LiteRT's do.
    """

    def __init__(self, model, precision):
        self.name = f"Keras {precision}"
        height, width = model.input_shape[1:3]
        spec = tf.TensorSpec((None, height, width, 3), tf.float32)
        self._forward = tf.function(lambda batch: tf.cast(model(batch, training=False), tf.float32),
                                    input_signature=[spec])

    def __call__(self, batch):
        with pass_turn():
            return self._forward(tf.convert_to_tensor(batch, tf.float32))


class LiteNetwork:
    """An exported network run by LiteRT (XNNPACK): one single-thread interpreter per usable core.

    Requests at once each take an interpreter of their own, so a class's photos go through side by
    side.  One interpreter spreading each pass over both cores, taking turns, answered fewer images
    per second under load: its threads spin while they wait for each other.  The outputs are
    bitwise the same either way.  An interpreter holds one input buffer, so a batch runs image by
    image.
    """

    def __init__(self, content: bytes, name, copies=None):
        from ai_edge_litert.interpreter import Interpreter

        self.name = name
        self._idle = queue.SimpleQueue()
        for _ in range(copies or available_cores()):
            interpreter = Interpreter(model_content=content, num_threads=1)
            interpreter.allocate_tensors()
            self._idle.put(interpreter)
        self._input = interpreter.get_input_details()[0]["index"]
        self._output = interpreter.get_output_details()[0]["index"]

    def __call__(self, batch):
        interpreter = self._idle.get()
        try:
            outputs = []
            for image in np.asarray(batch, np.float32):
                interpreter.set_tensor(self._input, image[None])
                interpreter.invoke()
                outputs.append(interpreter.get_tensor(self._output)[0])
        finally:
            self._idle.put(interpreter)
        return tf.convert_to_tensor(np.stack(outputs))


def read_choice(folder):
    """The folder's ``engine.json`` as a dict, or None when there is none."""
    path = Path(folder, ENGINE_FILE)
    return json.loads(path.read_text()) if path.exists() else None


def exported_network(folder):
    """(LiteNetwork or None, note): the export ``engine.json`` chose, when it is current and readable."""
    try:
        choice = read_choice(folder)
    except (OSError, json.JSONDecodeError) as error:
        return None, f"{shown(Path(folder, ENGINE_FILE))} is unreadable ({type(error).__name__}); running Keras"
    if choice is None or choice["engine"] == KERAS:
        return None, None
    if choice["weights_sha256"] != weights_digest(folder):
        return None, (f"{shown(Path(folder, NETWORK_FILE))} was exported from other weights; running Keras "
                      f"(re-export: python -m segdemo.serving.export {folder})")
    try:
        return LiteNetwork(shards.read(Path(folder, NETWORK_FILE)), choice["title"]), None
    except ImportError:
        return None, "LiteRT is not installed here (pip install ai-edge-litert); running Keras"
    except (FileNotFoundError, shards.ShardError, ValueError, RuntimeError) as error:
        return None, f"{shown(Path(folder, NETWORK_FILE))} cannot be run ({error}); running Keras"
