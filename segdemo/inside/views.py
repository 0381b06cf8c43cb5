"""The four Inside views computed for one model and one photo: numbers plus pictures, no text.

Points and boxes are given as fractions of the photo's height and width, so one click means
the same place for every model whatever its input size.
"""
import time
from dataclasses import dataclass

import numpy as np

from segdemo.imaging import resize
from segdemo.inside import drawing, influence, occlusion
from segdemo.inside.probe import softmax


def to_grid(fraction, size):
    """A fraction of a side (0..1) as a row or column index of a grid ``size`` long."""
    return int(min(max(int(fraction * size), 0), size - 1))


@dataclass
class PixelReport:
    """What decided one pixel: its probabilities and where the gradient of its logit comes from."""

    point: tuple  # (row, column) at the network's input size
    label: int
    probabilities: np.ndarray
    picture: np.ndarray
    field_size: tuple  # theoretical (height, width) before clipping to the photo
    field_exceeds_photo: bool
    global_pooling: bool  # the network pools the whole feature map: every pixel sees the whole photo
    share_outside_window: float
    effective_radius: float  # pixels holding influence.EFFECTIVE_SHARE of the influence
    farthest_reach: float
    input_width: int
    milliseconds: float


def explain_pixel(probe, photo, row_fraction, column_fraction):
    """Predicted class, probabilities and influence map of the pixel at the given fractions of the photo."""
    started = time.perf_counter()
    height, width = probe.size
    row, column = to_grid(row_fraction, height), to_grid(column_fraction, width)
    image = probe.network_input(photo)  # once: shrinking a photo costs as much as the statistics below
    gradient, logits = probe.gradient(image, row, column)
    probabilities = softmax(logits)
    label = int(probabilities.argmax())
    strength = influence.influence_map(gradient)
    box = probe.field.box(row, column)
    window = influence.window_box(row, column, strength.shape)
    radius = influence.effective_radius(strength, row, column)
    picture = drawing.influence_picture(image, strength, box, window, (row, column), radius)
    size = probe.field.size(row, column)
    return PixelReport((row, column), label, probabilities, picture, size,
                       size[0] > height or size[1] > width, probe.field.global_pooling,
                       influence.share_outside(strength, window), radius,
                       influence.farthest_reach(strength, row, column), width,
                       1000 * (time.perf_counter() - started))


@dataclass
class ProbabilityReport:
    pictures: list  # one per class, in class order
    entropy_picture: np.ndarray
    mean_entropy: float
    uncertain_share: float  # pixels whose entropy is over half its maximum
    milliseconds: float


def class_probabilities(probe, photo):
    """A heatmap per class and the entropy map (0 certain .. 1 all classes equally likely)."""
    started = time.perf_counter()
    look = probe.look(photo)
    spread = drawing.entropy(look.probabilities)
    pictures = [drawing.probability_picture(look.probabilities[..., c]) for c in range(look.probabilities.shape[-1])]
    return ProbabilityReport(pictures, drawing.heatmap(spread, 0.0, 1.0), float(spread.mean()), float(np.mean(spread > 0.5)),
                             1000 * (time.perf_counter() - started))


@dataclass
class StageView:
    stage: object  # segdemo.inside.stages.Stage
    picture: np.ndarray
    channels: list


def feature_maps(probe, photo, count=3):
    """For every stage, its ``count`` most active channels (PSPNet's pooled grids drawn over the photo); and milliseconds."""
    started = time.perf_counter()
    look = probe.look(photo)
    grids = [look.features[stage.layer] for stage in probe.stages if stage.role == "pooled"]
    if grids:  # one channel on one scale for all of PSPNet's grids, chosen on the finest
        pooled_channel = drawing.most_active_channels(grids[-1], 1)[0]
        low = min(float(grid[..., pooled_channel].min()) for grid in grids)
        high = max(float(grid[..., pooled_channel].max()) for grid in grids)
    views = []
    for stage in probe.stages:
        feature = look.features[stage.layer]
        channels = drawing.most_active_channels(feature, count)
        if stage.role == "pooled":
            channels = [pooled_channel]
            picture = drawing.pooled_grid_picture(look.image, feature, pooled_channel, low, high)
        else:
            picture = drawing.channel_grid(look.image, feature, channels)
        views.append(StageView(stage, picture, channels))
    return views, 1000 * (time.perf_counter() - started)


@dataclass
class OcclusionReport:
    picture: np.ndarray
    changed: int  # pixels outside the hidden region whose label changed
    changed_share: float
    changed_beyond_reach: int  # of those, outside the receptive field of every hidden pixel (should be 0)
    reach_share: float  # share of the pixels outside the region that the region can reach at all
    milliseconds: float


def sky_of(probe, photo, labels=None):
    """(``probe``'s labels of the photo, or ``labels`` when they are known already; its sky index): the sky
    every model then hides."""
    if labels is None:
        labels = probe.predict(probe.network_input(photo)).argmax(-1)
    classes = probe.config.classes
    return labels, classes.index("sky") if "sky" in classes else None


def hide_region(probe, photo, preset, box=None, sky=None, labels_of=None, before=None):
    """Hide a region (see ``occlusion.preset_mask``) and compare the labels before and after.

    "sky" hides the pixels ``sky`` (``sky_of`` another probe; default this one's) labels sky, so every
    model loses the same pixels. ``labels_of`` (an image at the input size -> its labels) runs the
    network on the hidden photo, and on the photo itself unless its labels are given (``before``, from
    the same engine); default the probe's float32 Keras pass.
    """
    started = time.perf_counter()
    # labels only: a look's feature maps would cost more to copy out than the two passes
    labels_of = labels_of or (lambda image: probe.predict(image).argmax(-1))
    image = probe.network_input(photo)
    before = labels_of(image) if before is None else before
    sky_labels, sky_index = None, None
    if preset == "sky":
        sky_labels, sky_index = sky or sky_of(probe, image, before)
        if sky_labels.shape != before.shape:
            sky_labels = resize(sky_labels.astype(np.uint8), probe.size, nearest=True)
    mask = occlusion.preset_mask(preset, before.shape, box, sky_labels, sky_index)
    hidden = occlusion.hide(image, mask)
    after = labels_of(hidden)
    changed, count, share = occlusion.changes_outside(before, after, mask)
    reach = probe.field.reach(mask)
    outside = ~mask
    return OcclusionReport(drawing.changes_picture(hidden, mask, changed), count, share, int((changed & ~reach).sum()),
                           float((reach & outside).sum() / max(outside.sum(), 1)), 1000 * (time.perf_counter() - started))
