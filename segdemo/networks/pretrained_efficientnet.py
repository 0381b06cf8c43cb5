"""Load ImageNet EfficientNet-B0 weights whose batch normalisation was folded into the convolutions.

``../shared/weights/efficientnet_b0_imagenet_bnfolded_npy`` holds one ``<layer>_kernel.npy``
and ``<layer>_bias.npy`` per convolution, named after the Keras layers of segmentation-models'
``efficientnetb0`` encoder.  The convolutions that Keras follows with a BatchNormalization
layer come with BN already folded in: kernel * gamma / sqrt(var + eps) and a bias
beta - mean * gamma / sqrt(var + eps); no BN arrays exist (see ``PROVENANCE.txt``).

Keras' convolutions there have no bias, so the folded bias must live in the BN layer.  The
treatment chosen here keeps the pretrained network exact *and* trainable: each BN layer gets
as moving mean ``m`` and variance ``v`` the statistics of its convolution's output (without
the bias) measured over real photos, ``gamma = sqrt(v + eps)`` and ``beta = bias + m``.
In inference BN then computes ``(x - m) / sqrt(v + eps) * sqrt(v + eps) + bias + m = x + bias``,
the folded network exactly; in training, batch statistics start next to the moving ones and
the normalised activations keep their ImageNet scale, so fine-tuning starts where ImageNet ended.
(The plain alternative, mean 0 / variance 1 / gamma 1 / beta = bias, is exact in inference too,
but the first training step would rescale every channel by its batch statistics.)
"""
from pathlib import Path

import numpy as np
import tensorflow as tf

from segdemo.networks.pretrained import PretrainedWeightsError, read_arrays
from segdemo.paths import SHARED

SHARED_WEIGHTS = SHARED / "weights" / "efficientnet_b0_imagenet_bnfolded_npy"
BATCHES_OF = 8


def batchnorm_of(conv_name):
    """The BN layer Keras puts after a folded convolution, or None for the SE convolutions."""
    if conv_name == "stem_conv":
        return "stem_bn"
    if conv_name == "top_conv":
        return "top_bn"
    for conv_suffix, bn_suffix in (("_expand_conv", "_expand_bn"), ("_dwconv", "_bn"), ("_project_conv", "_project_bn")):
        if conv_name.endswith(conv_suffix):
            return conv_name[: -len(conv_suffix)] + bn_suffix
    return None


def _weighted_layers(model):
    """Layers of ``model`` (one level of nesting searched) that hold weights, by name."""
    layers = {}
    for layer in model.layers:
        if isinstance(layer, tf.keras.Model):
            layers.update(_weighted_layers(layer))
        elif layer.weights:
            layers[layer.name] = layer
    return layers


def _check_shape(array, weight, name):
    if array.shape != tuple(weight.shape):
        raise PretrainedWeightsError(f"{name}.npy has shape {array.shape}, the layer needs {tuple(weight.shape)}")
    return array.astype(weight.dtype.as_numpy_dtype)


def _conv_names(arrays):
    return sorted({name[: -len("_kernel")] for name in arrays if name.endswith("_kernel")})


def _set_convolutions(layers, arrays):
    """Kernels (and SE biases) into their layers; returns {bn layer: folded bias} still to place."""
    pending = {}
    for conv in _conv_names(arrays):
        if conv not in layers:
            continue  # no classifier in a no-top encoder; PSPNet cuts the encoder short
        layer = layers[conv]
        bias_name = f"{conv}_bias"
        if bias_name not in arrays:
            raise PretrainedWeightsError(f"{conv}_kernel.npy has no {bias_name}.npy beside it")
        kernel, bias = np.load(arrays[f"{conv}_kernel"]), np.load(arrays[bias_name])
        weights = layer.weights
        bn = batchnorm_of(conv)
        if bn is None:  # SE convolutions and the classifier carry their own bias
            if len(weights) != 2:
                raise PretrainedWeightsError(f"layer {conv} has {len(weights)} weights, the arrays give a kernel and a bias")
            layer.set_weights([_check_shape(kernel, weights[0], f"{conv}_kernel"), _check_shape(bias, weights[1], bias_name)])
            continue
        if len(weights) != 1:
            raise PretrainedWeightsError(f"layer {conv} has {len(weights)} weights; a folded convolution expects no bias")
        if bn not in layers:
            raise PretrainedWeightsError(f"layer {conv} is not followed by the batch norm {bn} its bias belongs to")
        layer.set_weights([_check_shape(kernel, weights[0], f"{conv}_kernel")])
        pending[bn] = _check_shape(bias, layers[bn].weights[1], bias_name)
    return pending


def _channel_statistics(model_input, bn_layers, images):
    """Per-channel mean and variance of every BN layer's input over ``images`` (float64 sums)."""
    probe = tf.keras.Model(model_input, [layer.input for layer in bn_layers])
    totals = [np.zeros((3, layer.weights[0].shape[0])) for layer in bn_layers]
    for start in range(0, len(images), BATCHES_OF):
        outputs = probe(images[start:start + BATCHES_OF], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for total, output in zip(totals, outputs):
            values = np.asarray(tf.cast(output, tf.float32), np.float64).reshape(-1, total.shape[1])
            total += [np.full(total.shape[1], len(values)), values.sum(0), (values ** 2).sum(0)]
    statistics = []
    for count, total, squares in totals:
        mean = total / count
        statistics.append((mean, np.maximum(squares / count - mean ** 2, 0.0)))
    return statistics


def load_encoder_weights(model, folder, calibration_images):
    """Copy the folded arrays in ``folder`` into the EfficientNet-B0 layers of ``model``.

    ``calibration_images`` (already normalised, at the model's input size) set each BN layer's
    statistics as the module docstring explains.  Returns the number of arrays used.
    """
    arrays = read_arrays(folder)
    unknown = [name for name in arrays if not name.endswith(("_kernel", "_bias"))
               or (name.endswith("_bias") and f"{name[:-5]}_kernel" not in arrays)]
    if unknown:
        raise PretrainedWeightsError(f"arrays matched no convolution: {sorted(unknown)[:5]} ({len(unknown)} in all)")
    layers = _weighted_layers(model)
    conv_layers = [name for name, layer in layers.items()
                   if isinstance(layer, (tf.keras.layers.Conv2D, tf.keras.layers.DepthwiseConv2D))
                   and (batchnorm_of(name) or "_se_" in name)]
    missing = [name for name in conv_layers if f"{name}_kernel" not in arrays]
    if missing:
        raise PretrainedWeightsError(f"{Path(folder)} lacks {missing[0]}_kernel.npy ({len(missing)} encoder layers without arrays)")
    pending = _set_convolutions(layers, arrays)
    if not pending:
        raise PretrainedWeightsError(f"{model.name} has none of the efficientnetb0 encoder layers")
    bn_layers = [layers[name] for name in pending]
    for layer in bn_layers:  # first the plain exact form, so the probe sees the folded network
        gamma = layer.get_weights()[0]
        layer.set_weights([np.ones_like(gamma), pending[layer.name], np.zeros_like(gamma), np.full_like(gamma, 1 - layer.epsilon)])
    images = np.asarray(calibration_images, np.float32)
    if images.ndim != 4 or len(images) == 0:
        raise PretrainedWeightsError("EfficientNet's folded batch norms need calibration photos (N, H, W, 3)")
    for layer, (mean, variance) in zip(bn_layers, _channel_statistics(model.input, bn_layers, images)):
        dtype = layer.weights[0].dtype.as_numpy_dtype
        layer.set_weights([np.sqrt(variance + layer.epsilon).astype(dtype), (pending[layer.name] + mean).astype(dtype),
                           mean.astype(dtype), variance.astype(dtype)])
    return sum(1 for name in arrays if name[: name.rfind("_")] in layers)
