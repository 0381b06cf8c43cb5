"""Build U-Net, PSPNet, FPN, Linknet and DeepLabV3+, and save or rebuild them from a checkpoint folder.

A checkpoint folder holds ``config.json`` (everything needed to rebuild the network:
architecture, backbone, label set, class names and colours, input size, pixel
normalisation) and ``weights.npz`` (every weight in model order, float16 by default to
halve the size; rebuilding casts them back; stored in parts when over 9 MB, see ``shards``).  The network takes RGB pixels in [0, 255];
the backbone's ImageNet normalisation is a layer inside it, so no caller can forget it.
"""
import hashlib
import io
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import segmentation_models as sm
import tensorflow as tf

from segdemo.data.labels import get_label_set
from segdemo.imaging import resize
from segdemo.networks import deeplab, pretrained, pretrained_deeplab, pretrained_efficientnet, shards
from segdemo.networks.architectures import ARCH_TITLES, get_architecture
from segdemo.networks.checkpoint import CONFIG_FILE, WEIGHTS_FILE

BACKBONE_TITLES = {"mobilenetv2": "MobileNetV2", "efficientnetb0": "EfficientNet-B0", "resnet34": "ResNet34", "resnet18": "ResNet18", "resnet50": "ResNet50"}


class CheckpointError(RuntimeError):
    """A checkpoint folder is missing a file or does not match the network it describes."""


def shown(path):
    """``checkpoint/file``: enough to find the problem, without the server's folders."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}"


def required_multiple(arch, psp_downsample=8):
    """What height and width must be divisible by (PSPNet pools into 1, 2, 3 and 6 bins; DeepLabV3+ halves
    the input 4 times, the others 5 times)."""
    return get_architecture(arch).input_multiple(SimpleNamespace(psp_downsample=psp_downsample))


def check_input_size(arch, height, width, psp_downsample=8):
    multiple = required_multiple(arch, psp_downsample)
    if height % multiple or width % multiple:
        raise ValueError(
            f"{ARCH_TITLES.get(arch, arch)} needs height and width divisible by {multiple}, "
            f"got {height}x{width}; 288x384 works for every architecture"
        )


def probe_normalisation(backbone):
    """Describe segmentation-models' preprocessing for ``backbone`` as channel order, mean, std.

    The preprocessing functions are affine per channel (possibly RGB->BGR), so feeding a
    black pixel and one pure channel at a time recovers them exactly.
    """
    preprocess = sm.get_preprocessing(backbone)

    def apply(pixel):
        return np.asarray(preprocess(np.array(pixel, np.float64).reshape(1, 1, 1, 3)), np.float64)[0, 0, 0]

    offset = apply([0.0, 0.0, 0.0])
    gains = np.stack([apply(np.eye(3)[c] * 255.0) - offset for c in range(3)], axis=1) / 255.0
    order = [int(np.argmax(np.abs(row))) for row in gains]
    scale = np.array([gains[k, order[k]] for k in range(3)])
    if np.count_nonzero(np.abs(gains) > 1e-9) != 3 or sorted(order) != [0, 1, 2]:
        raise ValueError(f"preprocessing of {backbone} is not a per-channel affine map")
    return {"channel_order": order, "mean": (-offset / scale + 0.0).tolist(), "std": (1.0 / scale).tolist()}


class PixelNormalisation(tf.keras.layers.Layer):
    """Reorders channels and applies (x - mean) / std, the backbone's ImageNet preprocessing."""

    def __init__(self, channel_order, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.channel_order = list(channel_order)
        self.mean = [float(m) for m in mean]
        self.std = [float(s) for s in std]

    def call(self, inputs):
        inputs = tf.gather(inputs, self.channel_order, axis=-1)
        mean = tf.constant(self.mean, dtype=inputs.dtype)
        std = tf.constant(self.std, dtype=inputs.dtype)
        return (inputs - mean) / std

    def get_config(self):
        return {**super().get_config(), "channel_order": self.channel_order, "mean": self.mean, "std": self.std}


@dataclass
class ModelConfig:
    """Everything needed to rebuild a trained network exactly."""

    arch: str
    backbone: str
    label_set: str
    height: int = 288
    width: int = 384
    psp_downsample: int = 8
    pyramid_filters: int = 256  # FPN only: channels of its pyramid (segmentation-models' default 256)
    output_stride: int = 16  # DeepLabV3+ only: how much smaller than the input its deepest map is (8, 16 or 32)
    encoder_weights: str = "none"
    classes: list = field(default_factory=list)
    colours: list = field(default_factory=list)
    normalisation: dict = field(default_factory=dict)

    def __post_init__(self):
        get_architecture(self.arch)
        if self.backbone not in sm.Backbones.models_names():
            raise ValueError(f"unknown backbone {self.backbone!r}; see segmentation_models.Backbones.models_names()")
        check_input_size(self.arch, self.height, self.width, self.psp_downsample)
        if self.output_stride != deeplab.OUTPUT_STRIDE and self.arch != "deeplabv3plus":
            raise ValueError(f"an output stride of {self.output_stride} is for DeepLabV3+ only; {self.arch} has its own")
        deeplab.blocks(self.output_stride)  # raises unless DeepLabV3+ can be built at it
        label_set = get_label_set(self.label_set)
        self.classes = self.classes or list(label_set.classes)
        self.colours = self.colours or [list(c) for c in label_set.colours]
        self.normalisation = self.normalisation or probe_normalisation(self.backbone)

    @property
    def title(self):
        return f"{ARCH_TITLES[self.arch]} ({BACKBONE_TITLES.get(self.backbone, self.backbone)})"

    def save(self, folder):
        Path(folder, CONFIG_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder):
        path = Path(folder, CONFIG_FILE)
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise CheckpointError(f"{shown(path)} is missing") from None
        except (json.JSONDecodeError, TypeError, ValueError) as error:
            raise CheckpointError(f"{shown(path)} is not a valid model config: {error}") from None


def build_model(config: ModelConfig, encoder_weights=None, calibration_photos=None):
    """The network for ``config``: RGB [0, 255] in, float32 class probabilities out.

    ``encoder_weights`` is None (random init), ``"imagenet"`` (segmentation-models
    downloads them) or a local folder (see ``segdemo.networks.pretrained`` and
    ``segdemo.networks.pretrained_efficientnet``; the latter sets its batch norms from
    ``calibration_photos``, RGB [0, 255] of any size).
    """
    architecture = get_architecture(config.arch)
    online = encoder_weights if encoder_weights == "imagenet" else None
    decoder = architecture.build(
        config.backbone,
        input_shape=(config.height, config.width, 3),
        classes=len(config.classes),
        activation="linear",
        encoder_weights=online,
        **architecture.options(config),
    )
    normalise = PixelNormalisation(**config.normalisation, name="normalise")
    if encoder_weights not in (None, "none", "imagenet"):
        load_local_encoder(decoder, config, encoder_weights, normalise, calibration_photos)
    inputs = tf.keras.Input((config.height, config.width, 3), name="rgb")
    logits = decoder(normalise(inputs))
    probabilities = tf.keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return tf.keras.Model(inputs, probabilities, name=f"{config.arch}_{config.backbone}")


def load_local_encoder(network, config, folder, normalise, calibration_photos):
    """Local pretrained weights into ``network``, by the loader its architecture and backbone need."""
    if config.arch == "deeplabv3plus":
        return pretrained_deeplab.load_weights(network, calibration_images(config, normalise, calibration_photos),
                                              config.classes, folder)
    if pretrained_deeplab.is_ade20k(folder):  # the ADE20K network's MobileNetV2 as another decoder's encoder
        return pretrained_deeplab.load_encoder(network, calibration_images(config, normalise, calibration_photos), folder)
    if config.backbone != "efficientnetb0":
        return pretrained.load_encoder_weights(network, config.backbone, folder)
    return pretrained_efficientnet.load_encoder_weights(network, folder,
                                                        calibration_images(config, normalise, calibration_photos))


def calibration_images(config, normalise, photos=None):
    """Photos (scikit-image's four unless given) at the network's input size, normalised: they set
    the batch norms of weights whose batch norm was folded (``folded_batchnorm``)."""
    photos = pretrained.sample_photos() if photos is None else photos
    resized = np.stack([resize(np.asarray(p, np.float32), (config.height, config.width)) for p in photos])
    return normalise(resized).numpy()


def set_batchnorm_momentum(model, momentum):
    """Give every BatchNormalization layer of ``model`` (nested ones too) this momentum.

    Keras' MobileNetV2 ships momentum 0.999: its moving statistics forget ImageNet over
    thousands of steps, while fine-tuning on 572 photos moves the weights within a few
    hundred, so validation (which uses the moving statistics) would score stale ones.
    """
    for layer in model.submodules:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            layer.momentum = momentum


def segmentation_network(model):
    """The segmentation-models network wrapped inside ``model`` (where the encoder layers live)."""
    return next(layer for layer in model.layers if isinstance(layer, tf.keras.Model))


def save_weights(model, folder, dtype=np.float16):
    """Every weight of ``model`` in order; float weights stored as ``dtype``.

    Written through ``segdemo.networks.shards``, so no file exceeds Hugging Face's 10 MB push limit.
    """
    return save_arrays(model.get_weights(), folder, dtype)


def save_arrays(weights, folder, dtype=np.float16):
    """``weights`` (a network's arrays in its order, e.g. an average of several) stored as ``save_weights`` stores them."""
    arrays = {f"w{i:04d}": w.astype(dtype) if w.dtype.kind == "f" else w for i, w in enumerate(weights)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return shards.write(Path(folder, WEIGHTS_FILE), buffer.getvalue())


def stored_weights(folder):
    """A checkpoint's weight arrays in the network's order, or a CheckpointError saying what is wrong with the file."""
    path = Path(folder, WEIGHTS_FILE)
    try:
        with np.load(io.BytesIO(shards.read(path))) as stored:
            return [stored[f"w{i:04d}"] for i in range(len(stored.files))]
    except FileNotFoundError:
        raise CheckpointError(f"{shown(path)} is missing") from None
    except shards.ShardError as error:
        raise CheckpointError(f"{path.parent.name}: {error}") from None
    except Exception as error:  # a truncated or foreign file: zipfile, pickle or value errors
        raise CheckpointError(f"{shown(path)} cannot be read: not a weights archive, or truncated "
                              f"({type(error).__name__})") from None


def stored_parameter_count(folder):
    """Keras's ``count_params`` of a checkpoint's network, from its stored weights: an exported
    network runs without the Keras model being built at all."""
    return sum(int(array.size) for array in stored_weights(folder))


def load_weights(model, folder):
    path = Path(folder, WEIGHTS_FILE)
    arrays = stored_weights(folder)
    expected = model.get_weights()
    if len(arrays) != len(expected) or any(a.shape != e.shape for a, e in zip(arrays, expected)):
        raise CheckpointError(f"{shown(path)} does not match the network its config describes")
    model.set_weights([a.astype(e.dtype) for a, e in zip(arrays, expected)])


def weights_digest(folder):
    """SHA-256 of a checkpoint's stored weights: ties an exported network to the weights it came from."""
    try:
        return hashlib.sha256(shards.read(Path(folder, WEIGHTS_FILE))).hexdigest()
    except (FileNotFoundError, shards.ShardError):
        return None


def load_checkpoint(folder, precision="float32", size=None):
    """(model, config) rebuilt from a checkpoint folder, computing in ``precision``.

    ``precision`` is a Keras policy name; "mixed_bfloat16" keeps float32 weights but runs
    the layers in bfloat16, which CPUs with native bf16 instructions do faster.  ``size``
    (height, width) builds the same network for another input size: the weights of a
    convolutional network do not depend on it.
    """
    config = ModelConfig.load(folder)
    if size is not None:
        config = replace(config, height=size[0], width=size[1])
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(precision)
    try:
        model = build_model(config)
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)
    load_weights(model, folder)
    return model, config
