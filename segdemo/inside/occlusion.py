"""Hide part of the photo and count how many labels change elsewhere: context, measured.

A hidden region is filled with the ImageNet mean colour, the grey the network's
normalisation maps to zero: "no information" rather than a black object it might recognise.
"""
import numpy as np

FILL = (124, 116, 104)  # ImageNet mean RGB
PRESETS = ("box", "sky", "centre", "left", "bottom")
# the fixed regions as (top, left, bottom, right) fractions of the height and width: the box the sliders show
BOXES = {"centre": (1 / 3, 1 / 3, 2 / 3, 2 / 3), "left": (0.0, 0.0, 1.0, 0.5), "bottom": (2 / 3, 0.0, 1.0, 1.0)}


class NothingToHide(ValueError):
    """The chosen region is empty (e.g. "cover the sky" on a photo with no sky)."""


def preset_mask(preset, shape, box=None, labels=None, sky_index=None):
    """Boolean (height, width) mask of the region to hide.

    ``box`` is (top, left, bottom, right) as fractions of the height and width; "sky" hides the
    pixels a model labelled sky (``labels``, ``sky_index``); "centre", "left" and "bottom" their
    ``BOXES``: the middle third on each axis, the left half, the lower third.
    """
    height, width = shape
    mask = np.zeros(shape, bool)
    if preset == "box" or preset in BOXES:
        top, left, bottom, right = BOXES.get(preset) or (box if box is not None else (0.0, 0.0, 0.0, 0.0))
        top, bottom = sorted((top, bottom))
        left, right = sorted((left, right))
        mask[round(top * height):round(bottom * height), round(left * width):round(right * width)] = True
    elif preset == "sky":
        if labels is not None and sky_index is not None:
            mask = np.asarray(labels) == sky_index
    else:
        raise ValueError(f"unknown region {preset!r}; choose one of {PRESETS}")
    if not mask.any():
        raise NothingToHide(preset)
    return mask


def hide(image, mask):
    """A copy of ``image`` (at the mask's size) with the masked pixels filled with ``FILL``."""
    hidden = np.array(image, copy=True)
    hidden[mask] = FILL
    return hidden


def changes_outside(before, after, mask):
    """(changed map outside the mask, count, share of the pixels outside the mask) between two label maps."""
    changed = (np.asarray(before) != np.asarray(after)) & ~mask
    outside = int((~mask).sum())
    count = int(changed.sum())
    return changed, count, count / outside if outside else 0.0
