"""Every architecture the project builds, with its facts in one spec: an architecture enters here.

A spec names its builder (segmentation-models' signature: backbone, input shape, classes,
activation, encoder weights, then its own options), its title, the input multiple it needs, how
coarse its label map is before the last upsampling, the decoder layers *Inside the network*
shows, and whether the Train tab offers it.  The order of ``ARCHITECTURES`` is the order every
list shows them in.  U-Net, PSPNet, FPN and Linknet come from segmentation-models (their decoder
stages are read here); DeepLabV3+ is the project's own: ``deeplab`` holds its builder, its input
multiple, strides and the layers Inside shows.
"""
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import segmentation_models as sm

from segdemo.networks import deeplab, pretrained
from segdemo.networks.ade20k_network import BUNDLED_FOLDER as ADE20K_FOLDER
from segdemo.networks.layer_graph import parents


@dataclass(frozen=True)
class Architecture:
    id: str
    title: str
    build: Callable
    input_multiple: Callable  # config -> what height and width must be divisible by
    label_stride: Callable  # config -> how many times smaller than the input its label map is before the last upsampling
    decoder_stages: Callable  # network -> [(layer name, role, step)], in the order the data flows
    options: Callable = lambda config: {}  # config -> the builder's own keyword arguments
    in_class: bool = True  # offered by the Train tab
    pretrained_start: Path = pretrained.SHARED_WEIGHTS  # --encoder-weights of a pretrained run (ImageNet MobileNetV2)
    recipe: tuple = ()  # the training arguments of the project's recipe for it, beyond the common ones
    is_encoder_layer: Callable = pretrained.is_mobilenetv2_layer  # layer name -> part of the encoder (--freeze-encoder)


def names_matching(network, pattern):
    """Layer names of ``network`` matching ``pattern``, in the numeric order of the digits they hold."""
    return sorted((layer.name for layer in network.layers if re.fullmatch(pattern, layer.name)),
                  key=lambda name: [int(number) for number in re.findall(r"\d+", name)])


def step_of(name):
    return re.search(r"\d+", name).group()


def skip_stages(join):
    """U-Net's and Linknet's decoder: each upsampled map, the encoder skip it is joined with, the joined result."""
    def stages(network):
        found = []
        for upsampled in names_matching(network, r"decoder_stage\d+_upsampling"):
            step = step_of(upsampled)
            found.append((upsampled, "upsampled", step))
            joined = [layer for layer in network.layers if layer.name == f"decoder_stage{step}_{join}"]
            if joined:
                found += [(parent.name, "skip", step) for parent in parents(joined[0])
                          if parent.name != upsampled]
            outputs = names_matching(network, rf"decoder_stage{step}b_relu") or names_matching(network, rf"decoder_stage{step}\w*relu")
            found += [(name, "joined", step) for name in outputs[-1:]]
        return found
    return stages


def pyramid_pooling_stages(network):
    """PSPNet: the four pooled grids (1, 2, 3, 6 bins), then their aggregation."""
    pooled = [(name, "pooled", step_of(name)) for name in names_matching(network, r"psp_level\d+_pooling")]
    return pooled + [(name, "decoder", "") for name in names_matching(network, r"aggregation_relu")]


def feature_pyramid_stages(network):
    """FPN: the pyramid levels from coarse to fine, then the merged head."""
    levels = [(name, "pyramid", step_of(name)) for name in reversed(names_matching(network, r"segm_stage\d+b_relu"))]
    return levels + [(name, "decoder", "") for name in names_matching(network, r"final_stage_relu")]


UNET = Architecture("unet", "U-Net", sm.Unet, lambda config: 32, lambda config: 1, skip_stages("concat"))
PSPNET = Architecture("pspnet", "PSPNet", sm.PSPNet, lambda config: 6 * config.psp_downsample,
                      lambda config: config.psp_downsample, pyramid_pooling_stages,
                      options=lambda config: {"downsample_factor": config.psp_downsample})
FPN = Architecture("fpn", "FPN", sm.FPN, lambda config: 32, lambda config: 4, feature_pyramid_stages,
                   options=lambda config: {"pyramid_block_filters": config.pyramid_filters},
                   recipe=("--fpn-filters", "128"))  # 2.8x less compute than 256 channels (README)
# from a whole segmentation network (ADE20K), not an ImageNet encoder: half the peak learning rate, and the
# encoder frozen (it keeps what ADE20K taught it of mountains: 0.765 mIoU against 0.729 trained whole, README)
DEEPLABV3PLUS = Architecture("deeplabv3plus", "DeepLabV3+", deeplab.DeepLabV3Plus, lambda config: deeplab.INPUT_MULTIPLE,
                             lambda config: deeplab.DECODER_STRIDE, deeplab.decoder_stages,
                             options=lambda config: {"output_stride": config.output_stride},
                             pretrained_start=ADE20K_FOLDER, recipe=("--lr", "5e-4", "--freeze-encoder"),
                             is_encoder_layer=deeplab.is_encoder_layer)
LINKNET = Architecture("linknet", "Linknet", sm.Linknet, lambda config: 32, lambda config: 1, skip_stages("add"),
                       in_class=False)

ARCHITECTURES = {spec.id: spec for spec in (UNET, PSPNET, FPN, DEEPLABV3PLUS, LINKNET)}
ARCH_TITLES = {spec.id: spec.title for spec in ARCHITECTURES.values()}


def get_architecture(arch):
    try:
        return ARCHITECTURES[arch]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {sorted(ARCHITECTURES)}") from None
