"""Which intermediate layers tell each architecture's story, found by name in its Keras graph.

Encoder stages: the deepest layer at each resolution before the decoder starts (stride 2, 4,
8, 16, 32 for MobileNetV2; fewer for PSPNet, whose encoder stops at stride 8).  Decoder
stages are named by role in each architecture's spec (``networks.architectures``): U-Net's
upsampled path next to the skip it is joined with, PSPNet's four pooled grids, FPN's pyramid
levels, DeepLabV3+'s image pooling and 1x1 branches.
"""
from dataclasses import dataclass

from segdemo.networks.architectures import get_architecture

DECODER_PREFIXES = ("decoder_", "psp_", "fpn_", "segm_", "aggregation", "final_", "head_", "upsampling_stage",
                    "pyramid_dropout", "spatial_dropout", "linear",
                    "image_pooling", "aspp", "concat_projection", "feature_projection", "logits_")


@dataclass(frozen=True)
class Stage:
    """One layer to show: ``role`` keys its explanation (encoder, upsampled, skip, joined, pooled, pyramid, decoder)."""

    layer: str
    role: str
    stride: int
    shape: tuple  # (height, width, channels)
    step: str = ""  # e.g. the U-Net decoder stage or the PSPNet grid size it belongs to


def _is_decoder(name):
    return name.startswith(DECODER_PREFIXES)


def _shape(layer):
    shape = layer.output_shape
    shape = shape[0] if isinstance(shape, list) else shape
    return tuple(int(v) for v in shape[1:4])


def encoder_stages(network):
    """The last encoder layer at each resolution, shallow to deep (the encoder's feature map per stride)."""
    height = int(network.input_shape[1])
    last = {}
    for layer in network.layers:
        if _is_decoder(layer.name) or type(layer).__name__ == "InputLayer" or len(_shape(layer)) < 3:
            continue
        size = _shape(layer)[0]
        if size < height and height % size == 0:
            last[size] = layer
    return [Stage(layer.name, "encoder", height // size, _shape(layer)) for size, layer in sorted(last.items(), reverse=True)]


def _stage(network, name, role, step=""):
    layer = network.get_layer(name)
    shape = _shape(layer)
    return Stage(name, role, int(network.input_shape[1]) // shape[0], shape, step)


def decoder_stages(network, arch):
    """The decoder's layers worth showing for ``arch`` (its spec names them), in the order the data flows."""
    return [_stage(network, name, role, step) for name, role, step in get_architecture(arch).decoder_stages(network)]


def network_stages(network, arch):
    """Encoder then decoder stages of a segmentation-models ``network``."""
    return encoder_stages(network) + decoder_stages(network, arch)
