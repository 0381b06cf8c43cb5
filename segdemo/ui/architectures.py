"""Architectures tab: how the classic segmentation networks differ, tied to the runnable models."""
import gradio as gr

from segdemo.ui.common import model_label

OVERVIEW = """
All of these are **encoder-decoder** networks: an image classifier (the *encoder* or *backbone*,
here MobileNetV2 or a ResNet) shrinks the photo into coarse, meaningful features; the *decoder*
turns them back into a full-resolution label map. They differ in how the decoder recovers detail.

| network | year | idea | strength | weakness |
|---|---|---|---|---|
| **FCN** (Long et al.) | 2015 | replace a classifier's dense layers with 1x1 convolutions; upsample, adding skip scores from earlier layers | first end-to-end segmenter | coarse, blobby edges |
| **SegNet** (Badrinarayanan et al.) | 2015 | the decoder reuses the encoder's max-pooling *indices* to place features back | light memory | still blurry boundaries |
| **U-Net** (Ronneberger et al.) | 2015 | symmetric decoder; at every scale it *concatenates* the encoder's feature map (skip connections) | sharp outlines, small objects | little global context |
| **PSPNet** (Zhao et al.) | 2017 | *pyramid pooling*: pool the feature map into 1x1, 2x2, 3x3, 6x6 grids and add all to every pixel | scene-level context (sky above, road below) | coarse output (upsampled 8x), so thin edges suffer |
| **DeepLab v3+** (Chen et al.) | 2018 | *atrous* (dilated) convolutions at several rates, plus a small decoder | context and detail | heavier; not in segmentation-models 1.0.1, so not runnable here |
| **FPN** (Lin et al.) | 2017 | a *feature pyramid*: top-down path that adds coarse semantics to finer maps, predicting from all scales | objects of every size | decoder output at 1/4 resolution |

**What to look for in the Compare tab:** U-Net keeps thin structures (poles, tree edges) and small
objects; PSPNet is confident about large regions and their layout but rounds corners; FPN usually
sits between them. The disagreement map shows exactly those boundary pixels.
"""


def build(registry):
    gr.Markdown(OVERVIEW)
    runnable = [model_label(registry.entries[name]) for name in registry.available()]
    gr.Markdown("**Runnable here:** " + ("; ".join(runnable) if runnable else "no trained model yet."))
