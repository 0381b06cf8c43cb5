"""Receptive fields from the Keras graph: which input pixels can change an output pixel at all.

Every layer of these networks treats rows and columns independently, so each axis is done on
its own.  For every output coordinate we carry an interval of coordinates in the layer being
visited and walk the graph backwards from the output: a convolution or pooling with kernel k,
stride s, dilation d and 'same' padding p maps output units [a, b] to input units
[a*s - p, b*s - p + (k-1)*d]; upsampling and resizing divide; padding shifts; element-wise layers
(batch norm, activations, add, concatenate) pass the interval on; where a layer feeds several
others the intervals are joined.  The result is the *theoretical* receptive field: outside it
the gradient of the output is exactly zero.  Intervals are not clipped to the image, so a
field larger than the photo shows its full size; ``box`` clips for drawing.
"""
from dataclasses import dataclass

import numpy as np

from segdemo.networks.layer_graph import parents


class UnsupportedLayer(ValueError):
    """A layer changes the spatial size in a way this walker does not know."""


def _config_pair(config, key, default=1):
    value = config.get(key, default)
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def _spatial(shape, axis):
    shape = shape[0] if isinstance(shape, list) else shape
    return int(shape[1 + axis])


def _same_padding(size_in, size_out, kernel, stride, dilation):
    """Rows (or columns) TensorFlow pads before the first one for 'same' padding."""
    return max((size_out - 1) * stride + (kernel - 1) * dilation + 1 - size_in, 0) // 2


def backward_interval(layer, low, high, axis):
    """Input-unit interval arrays of ``layer`` that output-unit intervals [low, high] read, on ``axis`` (0 rows, 1 columns)."""
    config = layer.get_config()
    kind = type(layer).__name__
    size_in, size_out = _spatial(layer.input_shape, axis), _spatial(layer.output_shape, axis)
    if "kernel_size" in config or "pool_size" in config:
        kernel = _config_pair(config, "kernel_size" if "kernel_size" in config else "pool_size")[axis]
        stride = _config_pair(config, "strides")[axis] or kernel
        dilation = _config_pair(config, "dilation_rate")[axis]
        pad = _same_padding(size_in, size_out, kernel, stride, dilation) if config.get("padding") == "same" else 0
        return low * stride - pad, high * stride - pad + (kernel - 1) * dilation
    if kind == "ZeroPadding2D":
        before = config["padding"][axis][0]
        return low - before, high - before
    if kind == "Cropping2D":
        before = config["cropping"][axis][0]
        return low + before, high + before
    if kind == "UpSampling2D":
        factor = _config_pair(config, "size")[axis]
        if config.get("interpolation", "nearest") == "nearest":
            return low // factor, high // factor
        # bilinear with half-pixel centres: output u samples input (u + 0.5) / factor - 0.5 and its upper neighbour
        first = np.floor((low + 0.5) / factor - 0.5).astype(np.int64)
        last = np.floor((high + 0.5) / factor - 0.5).astype(np.int64) + 1
        return np.clip(first, 0, size_in - 1), np.clip(last, 0, size_in - 1)
    if kind == "BilinearResize":  # DeepLabV3+'s TF1 resize: output u reads floor(u * in / out) and the next unit
        first = (low * size_in) // size_out
        return first, np.minimum((high * size_in) // size_out + 1, size_in - 1)
    if kind.startswith("Global"):
        return np.zeros_like(low), np.full_like(high, size_in - 1)
    if size_in == size_out:
        return low, high
    raise UnsupportedLayer(f"{layer.name} ({kind}) changes the size {size_in} -> {size_out} in a way the "
                           f"receptive-field walker does not know")


def _reverse_topological(network):
    """The network's layers, each after every layer that consumes its output."""
    order, seen = [], set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        for parent in parents(layer) if layer._inbound_nodes else []:
            visit(parent)
        order.append(layer)

    for output in network.outputs:
        visit(output._keras_history.layer)
    return order[::-1]


@dataclass
class ReceptiveField:
    """Per output row and column, the first and last input row/column that can affect it (unclipped)."""

    rows: tuple  # (first, last) arrays, one entry per output row
    columns: tuple
    height: int  # the input's size, for clipping
    width: int
    global_pooling: bool = False  # a layer pools a whole feature map into one value: every pixel sees the whole photo

    def box(self, row, column):
        """(top, left, bottom, right) of output pixel (row, column)'s field, clipped to the input, inclusive."""
        return (max(int(self.rows[0][row]), 0), max(int(self.columns[0][column]), 0),
                min(int(self.rows[1][row]), self.height - 1), min(int(self.columns[1][column]), self.width - 1))

    def size(self, row, column):
        """(height, width) of the theoretical field of (row, column), before clipping to the photo."""
        return (int(self.rows[1][row] - self.rows[0][row] + 1), int(self.columns[1][column] - self.columns[0][column] + 1))

    def covers_everything(self):
        """True when every output pixel can be changed by every input pixel (e.g. global pooling)."""
        return bool(np.all(self.rows[0] <= 0) and np.all(self.rows[1] >= self.height - 1)
                    and np.all(self.columns[0] <= 0) and np.all(self.columns[1] >= self.width - 1))

    def reach(self, hidden):
        """Boolean map of the output pixels whose field overlaps the True pixels of ``hidden`` (input-sized)."""
        hidden_rows = np.flatnonzero(hidden.any(axis=1))
        hidden_columns = np.flatnonzero(hidden.any(axis=0))
        if not len(hidden_rows):
            return np.zeros(hidden.shape, bool)
        # conservative for a non-rectangular mask: the mask's bounding box
        touches_rows = (self.rows[0] <= hidden_rows[-1]) & (self.rows[1] >= hidden_rows[0])
        touches_columns = (self.columns[0] <= hidden_columns[-1]) & (self.columns[1] >= hidden_columns[0])
        return touches_rows[:, None] & touches_columns[None, :]


def needed_intervals(network, axis):
    """{layer: (first, last) arrays}: per output coordinate on ``axis``, the units of each layer's output it reads
    (unclipped, joined over the layer's consumers)."""
    size = _spatial(network.output_shape, axis)
    coordinates = np.arange(size, dtype=np.int64)
    order = _reverse_topological(network)
    reads = {order[0]: (coordinates, coordinates.copy())}
    for layer in order:
        if layer not in reads or not layer._inbound_nodes or type(layer).__name__ == "InputLayer":
            continue
        low, high = backward_interval(layer, *reads[layer], axis)
        for parent in parents(layer):
            if parent in reads:
                old_low, old_high = reads[parent]
                reads[parent] = (np.minimum(old_low, low), np.maximum(old_high, high))
            else:
                reads[parent] = (low, high)
    return reads


def receptive_field(network):
    """The theoretical receptive field of every output pixel of a single-input, single-output Keras ``network``."""
    height, width = _spatial(network.input_shape, 0), _spatial(network.input_shape, 1)
    input_layer = network.inputs[0]._keras_history.layer
    rows, columns = (needed_intervals(network, axis)[input_layer] for axis in (0, 1))
    return ReceptiveField(rows=rows, columns=columns, height=height, width=width,
                          global_pooling=any(pools_everything(layer) for layer in network.layers))


def pools_everything(layer):
    """True for global pooling, or a pooling layer whose output is a single cell (PSPNet's 1x1 level)."""
    kind = type(layer).__name__
    if kind.startswith("Global"):
        return True
    return "pool_size" in layer.get_config() and _spatial(layer.output_shape, 0) == _spatial(layer.output_shape, 1) == 1
