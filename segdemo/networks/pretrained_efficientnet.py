"""Load ImageNet EfficientNet-B0 weights whose batch normalisation was folded into the convolutions.

``../shared/weights/efficientnet_b0_imagenet_bnfolded_npy`` holds one ``<layer>_kernel.npy``
and ``<layer>_bias.npy`` per convolution, named after the Keras layers of segmentation-models'
``efficientnetb0`` encoder.  The convolutions that Keras follows with a BatchNormalization
layer come with BN already folded in: kernel * gamma / sqrt(var + eps) and a bias
beta - mean * gamma / sqrt(var + eps); no BN arrays exist (see ``PROVENANCE.txt``).

Keras' convolutions there have no bias, so the folded bias goes into the BN layer after each, set
from real photos as ``folded_batchnorm`` explains: exact in inference, sane in training.
"""
from pathlib import Path

import numpy as np
import tensorflow as tf

from segdemo.networks import folded_batchnorm
from segdemo.networks.pretrained import PretrainedWeightsError, read_arrays
from segdemo.paths import SHARED

SHARED_WEIGHTS = SHARED / "weights" / "efficientnet_b0_imagenet_bnfolded_npy"


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
    images = np.asarray(calibration_images, np.float32)
    if images.ndim != 4 or len(images) == 0:
        raise PretrainedWeightsError("EfficientNet's folded batch norms need calibration photos (N, H, W, 3)")
    folded_batchnorm.unfold(model.input, {layers[name]: bias for name, bias in pending.items()}, images)
    return sum(1 for name in arrays if name[: name.rfind("_")] in layers)
