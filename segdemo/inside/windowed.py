"""One output pixel's logits and their gradient, with each layer computed only where that pixel can see.

A pixel's logits depend on every input pixel through the encoder, whose field covers the photo,
but on only a small window of each decoder layer: U-Net's full-resolution stages, FPN's pyramid
at a quarter of the input, nine tenths of the work of a whole pass.  So the layers that feed the
pixel from a window (``segdemo.inside.receptive.needed_intervals``: the units of each layer the
pixel reads) run on that window, the others on the whole photo.  Every value the pixel reads is
the one the whole pass computes (a window's border, where its zero padding differs from the
photo, is outside what the next layer reads), so the logits and the gradient are the whole
pass's, up to the order of float sums, and the gradient is still exactly zero outside the field.
"""
import numpy as np
import tensorflow as tf

from segdemo.inside.receptive import _reverse_topological, _spatial, backward_interval, needed_intervals
from segdemo.networks.layer_graph import consumers, parents


def _upsampling(layer):
    """(rows, columns) factor by which a layer enlarges its input: (1, 1) for layers that keep its size."""
    if type(layer).__name__ == "UpSampling2D":
        size = layer.get_config()["size"]
        return tuple(size) if isinstance(size, (list, tuple)) else (size, size)
    return (1, 1)


def _keeps_positions(layer):
    """True when output unit u comes from input units around u (same size), or around u / factor (upsampling)."""
    shapes = [layer.output_shape] + [parent.output_shape for parent in parents(layer)]
    factor = _upsampling(layer)
    return all(len(shape[0] if isinstance(shape, list) else shape) == 4 for shape in shapes) and all(
        _spatial(layer.output_shape, axis) == factor[axis] * _spatial(parent.output_shape, axis)
        for parent in parents(layer) for axis in (0, 1))


def _clipped(intervals, size):
    return np.clip(intervals[0], 0, size - 1), np.clip(intervals[1], 0, size - 1)


def _cut(value, top, bottom, left, right):
    """Rows top..bottom and columns left..right (inclusive) of a (1, height, width, channels) tensor.

    ``tf.slice``, not Python slicing: its gradient is a ``Pad``, a strided slice's a ``StridedSliceGrad``,
    which took 9 of U-Net's 78 ms of operations a click (TensorFlow's profiler).
    """
    return tf.slice(value, tf.stack([0, top, left, 0]), tf.stack([-1, bottom - top + 1, right - left + 1, -1]))


class WindowedNetwork:
    """``gradient(rgb, row, column)`` of a single-input, single-output Keras ``network`` fed ``normalise(rgb)``,
    computing each decoder layer on the window the pixel reads."""

    def __init__(self, network, normalise):
        self.network, self.normalise = network, normalise
        needed = [needed_intervals(network, axis) for axis in (0, 1)]
        reverse = _reverse_topological(network)
        taken = consumers(reverse)
        local = set()
        for layer in reverse:  # consumers first: a layer is windowed only when all its consumers are
            sizes = [_spatial(layer.output_shape, axis) for axis in (0, 1)]
            narrow = any(int((np.minimum(needed[axis][layer][1], sizes[axis] - 1)
                              - np.maximum(needed[axis][layer][0], 0)).max()) + 1 < sizes[axis] for axis in (0, 1))
            if (type(layer).__name__ != "InputLayer" and narrow and _keeps_positions(layer)
                    and all(consumer in local for consumer in taken.get(layer, []))):
                local.add(layer)
        self.local = [layer for layer in reversed(reverse) if layer in local]
        if not self.local or self.local[-1] is not reverse[0]:
            raise ValueError(f"{network.name}: its output is not computed from windows")
        self.boundary = list(dict.fromkeys(parent for layer in self.local for parent in parents(layer)
                                           if parent not in local))
        self._windows = [self._layer_windows(layer, needed) for layer in self.local]
        whole = tf.keras.Model(network.input, [parent.output for parent in self.boundary])

        @tf.function(input_signature=[tf.TensorSpec(network.input_shape, tf.float32), tf.TensorSpec((None, 8), tf.int32),
                                      tf.TensorSpec((), tf.int32)])
        def gradient(rgb, windows, class_index):
            with tf.GradientTape() as tape:
                tape.watch(rgb)
                logits = self._logits(whole(normalise(rgb), training=False), windows)
                chosen = tf.where(class_index < 0, tf.argmax(logits, output_type=tf.int32), class_index)
                score = logits[chosen]
            return tape.gradient(score, rgb)[0], logits

        self._gradient = gradient

    def _layer_windows(self, layer, needed):
        """Per output row and column: the window of the layer's output the pixel reads, and of its input that gives it."""
        per_axis = []
        for axis in (0, 1):
            window = _clipped(needed[axis][layer], _spatial(layer.output_shape, axis))
            source = _clipped(backward_interval(layer, *window, axis), _spatial(parents(layer)[0].output_shape, axis))
            per_axis.append((window, source))
        (rows, row_sources), (columns, column_sources) = per_axis
        return rows, columns, row_sources, column_sources

    def windows(self, row, column):
        """The int32 (layers, 8) table of one pixel: each windowed layer's output rows, columns, then its input's."""
        return np.array([[rows[0][row], rows[1][row], columns[0][column], columns[1][column],
                          row_sources[0][row], row_sources[1][row], column_sources[0][column], column_sources[1][column]]
                         for rows, columns, row_sources, column_sources in self._windows], np.int32)

    def _logits(self, whole_outputs, windows):
        """The pixel's logits: windowed layers in order, each fed its parents' values cut to its input window."""
        whole_outputs = whole_outputs if isinstance(whole_outputs, (list, tuple)) else [whole_outputs]
        values = {layer: (value, 0, 0) for layer, value in zip(self.boundary, whole_outputs)}  # (tensor, first row, first column)
        for index, layer in enumerate(self.local):
            top, bottom, left, right, source_top, source_bottom, source_left, source_right = tf.unstack(windows[index])
            parts = [_cut(value, source_top - first_row, source_bottom - first_row,
                          source_left - first_column, source_right - first_column)
                     for value, first_row, first_column in (values[parent] for parent in parents(layer))]
            output = layer(parts if len(parts) > 1 else parts[0], training=False)
            row_factor, column_factor = _upsampling(layer)
            first_row, first_column = row_factor * source_top, column_factor * source_left
            values[layer] = (_cut(output, top - first_row, bottom - first_row, left - first_column, right - first_column),
                             top, left)
        return values[self.local[-1]][0][0, 0, 0]

    def gradient(self, rgb, row, column, class_index=-1):
        """(d logit[row, column, class] / d input pixel as (height, width, 3), the pixel's logits) as tensors;
        ``class_index`` -1 takes the class the pixel is given."""
        return self._gradient(rgb, tf.constant(self.windows(row, column)), tf.constant(class_index, tf.int32))
