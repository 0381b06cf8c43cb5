"""Which intermediate layers tell each architecture's story, found by name in segmentation-models' graph.

Encoder stages: the deepest layer at each resolution before the decoder starts (stride 2, 4,
8, 16, 32 for MobileNetV2; fewer for PSPNet, whose encoder stops at stride 8).  Decoder
stages are named by role: U-Net's upsampled path next to the skip it is joined with, PSPNet's
four pooled grids, FPN's pyramid levels.
"""
import re
from dataclasses import dataclass

DECODER_PREFIXES = ("decoder_", "psp_", "fpn_", "segm_", "aggregation", "final_", "head_", "upsampling_stage",
                    "pyramid_dropout", "spatial_dropout", "linear")


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


def _names(network, pattern):
    return sorted((layer.name for layer in network.layers if re.fullmatch(pattern, layer.name)),
                  key=lambda name: [int(number) for number in re.findall(r"\d+", name)])


def decoder_stages(network, arch):
    """The decoder's layers worth showing for ``arch``, in the order the data flows."""
    stages = []
    if arch in ("unet", "linknet"):
        for upsampled in _names(network, r"decoder_stage\d+_upsampling"):
            step = re.search(r"\d+", upsampled).group()
            stages.append(_stage(network, upsampled, "upsampled", step))
            concat = f"decoder_stage{step}_concat" if arch == "unet" else f"decoder_stage{step}_add"
            joined = [layer for layer in network.layers if layer.name == concat]
            if joined:
                skips = [parent.name for parent in joined[0]._inbound_nodes[0].inbound_layers if parent.name != upsampled]
                stages += [_stage(network, skip, "skip", step) for skip in skips]
            outputs = _names(network, rf"decoder_stage{step}b_relu") or _names(network, rf"decoder_stage{step}\w*relu")
            stages += [_stage(network, name, "joined", step) for name in outputs[-1:]]
    elif arch == "pspnet":
        for pooled in _names(network, r"psp_level\d+_pooling"):
            stages.append(_stage(network, pooled, "pooled", re.search(r"\d+", pooled).group()))
        stages += [_stage(network, name, "decoder") for name in _names(network, r"aggregation_relu")]
    elif arch == "fpn":
        for level in reversed(_names(network, r"segm_stage\d+b_relu")):
            stages.append(_stage(network, level, "pyramid", re.search(r"\d+", level).group()))
        stages += [_stage(network, name, "decoder") for name in _names(network, r"final_stage_relu")]
    return stages


def network_stages(network, arch):
    """Encoder then decoder stages of a segmentation-models ``network``."""
    return encoder_stages(network) + decoder_stages(network, arch)
