"""Load ImageNet MobileNetV2 encoder weights from TF-slim ``.npy`` arrays.

``../shared/weights/mobilenet_v2_1.0_224_slim_npy`` holds the original TF-slim tensors,
one file per tensor (``expanded_conv_3_expand_weights.npy`` ...).  Keras' MobileNetV2,
which segmentation-models uses as its ``mobilenetv2`` encoder, names the same layers
differently (``block_3_expand``).  This module maps one naming onto the other and refuses
to load anything partial: every encoder layer in the model must get weights of the right shape, and
every array must belong to an encoder layer (the classifier's bias excepted, as the encoder
has no top; PSPNet keeps only the first blocks, so arrays of the later ones go unused there).
"""
import re
from pathlib import Path

import numpy as np
import segmentation_models as sm
from segmentation_models import Backbones

from segdemo.paths import SHARED

SHARED_WEIGHTS = SHARED / "weights" / "mobilenet_v2_1.0_224_slim_npy"
CLASSIFIER_ONLY = {"Logits_Conv2d_1c_1x1_biases"}
BN_SUFFIXES = ("BatchNorm_gamma", "BatchNorm_beta", "BatchNorm_moving_mean", "BatchNorm_moving_variance")
SUPPORTED_BACKBONES = {"mobilenetv2"}


class PretrainedWeightsError(RuntimeError):
    """The arrays do not cover the encoder exactly."""


def slim_prefix(keras_layer):
    """(TF-slim tensor prefix, is batch norm) for a Keras MobileNetV2 layer name, or None."""
    fixed = {"Conv1": ("Conv", False), "bn_Conv1": ("Conv", True), "Conv_1": ("Conv_1", False), "Conv_1_bn": ("Conv_1", True)}
    if keras_layer in fixed:
        return fixed[keras_layer]
    match = re.fullmatch(r"(expanded_conv|block_(\d+))_(expand|depthwise|project)(_BN)?", keras_layer)
    if not match:
        return None
    block = "expanded_conv" if match.group(2) is None else f"expanded_conv_{match.group(2)}"
    return f"{block}_{match.group(3)}", match.group(4) is not None


def is_mobilenetv2_layer(keras_layer):
    """Whether a layer of a segmentation-models network is a weighted layer of its MobileNetV2 encoder."""
    return slim_prefix(keras_layer) is not None


def slim_names(keras_layer):
    """The slim tensor names that fill one Keras layer, in the order of its weights."""
    if slim_prefix(keras_layer) is None:
        raise PretrainedWeightsError(f"encoder layer {keras_layer} has no TF-slim counterpart")
    prefix, is_bn = slim_prefix(keras_layer)
    if is_bn:
        return [f"{prefix}_{suffix}" for suffix in BN_SUFFIXES]
    kernel = "depthwise_weights" if prefix.endswith("depthwise") else "weights"
    return [f"{prefix}_{kernel}"]


def encoder_layer_names(backbone):
    """Names of the weighted layers of a fresh no-top encoder, as Keras builds it."""
    build = sm.inject_global_submodules(Backbones.get_backbone)
    encoder = build(backbone, input_shape=(None, None, 3), weights=None, include_top=False)
    return [layer.name for layer in encoder.layers if layer.weights]


def read_arrays(folder):
    """{array name: path} of the ``.npy`` files in ``folder``; refuses a missing or empty folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PretrainedWeightsError(f"encoder weights folder {folder} does not exist")
    arrays = {path.stem: path for path in folder.glob("*.npy")}
    if not arrays:
        raise PretrainedWeightsError(f"{folder} holds no .npy arrays")
    return arrays


def load_encoder_weights(model, backbone, folder):
    """Copy the slim arrays in ``folder`` into the encoder layers of ``model``."""
    if backbone not in SUPPORTED_BACKBONES:
        raise PretrainedWeightsError(f"local encoder weights exist only for {sorted(SUPPORTED_BACKBONES)}, not {backbone}")
    arrays = read_arrays(folder)
    encoder_layers = encoder_layer_names(backbone)
    unknown = set(arrays) - {t for name in encoder_layers for t in slim_names(name)} - CLASSIFIER_ONLY
    if unknown:
        raise PretrainedWeightsError(f"arrays matched no encoder layer: {sorted(unknown)[:5]} ({len(unknown)} in all)")
    present = {layer.name for layer in model.layers}
    used = set()
    for name in encoder_layers:
        if name not in present:
            continue  # PSPNet cuts the encoder short; its deeper layers are simply not there
        layer = model.get_layer(name)
        tensors, weights = slim_names(name), layer.get_weights()
        if len(tensors) != len(weights):
            raise PretrainedWeightsError(f"layer {name} has {len(weights)} weights, TF-slim gives {len(tensors)}")
        values = []
        for tensor, weight in zip(tensors, weights):
            if tensor not in arrays:
                raise PretrainedWeightsError(f"{folder} lacks {tensor}.npy for layer {name}")
            value = np.load(arrays[tensor])
            if value.shape != weight.shape:
                raise PretrainedWeightsError(f"{tensor}.npy has shape {value.shape}, layer {name} needs {weight.shape}")
            values.append(value.astype(weight.dtype))
            used.add(tensor)
        layer.set_weights(values)
    if not used:
        raise PretrainedWeightsError(f"{model.name} has none of the {backbone} encoder layers")
    return len(used)


def sample_photos(size=224):
    """Four real photos shipped with scikit-image (a dependency of segmentation-models)."""
    import cv2
    from skimage import data as photos

    return np.stack([cv2.resize(np.asarray(image)[..., :3], (size, size))
                     for image in (photos.astronaut(), photos.coffee(), photos.chelsea(), photos.rocket())]).astype(np.float32)
