"""How far a pixel's decision reaches: statistics of its gradient map.

Influence here is the gradient of the pixel's class logit (the score before the softmax)
with respect to each input pixel, its magnitude summed over the three colour channels.  A
gradient rather than occlusion: one backward pass gives the whole map (occlusion needs one
forward pass per hidden patch, hundreds per click), and its support is exactly the
theoretical receptive field, so what it shows can be checked.  The logit rather than the
probability, because the softmax would mix in every other class's score.
"""
import numpy as np

LOCAL_WINDOW = 65  # pixels of the network input (384 wide): a sixth of the photo's width
EFFECTIVE_SHARE = 0.9  # the effective receptive field holds this share of the influence


def influence_map(gradient):
    """|gradient| summed over colour channels: (height, width) >= 0."""
    return np.abs(np.asarray(gradient, np.float64)).sum(axis=-1)


def window_box(row, column, shape, side=LOCAL_WINDOW):
    """(top, left, bottom, right), inclusive, of the ``side`` x ``side`` square around (row, column), clipped."""
    half = side // 2
    return (max(row - half, 0), max(column - half, 0), min(row + half, shape[0] - 1), min(column + half, shape[1] - 1))


def share_outside(influence, box):
    """Share of the total influence that comes from outside ``box`` (top, left, bottom, right, inclusive)."""
    total = influence.sum()
    if total <= 0:
        return 0.0
    top, left, bottom, right = box
    return float(1.0 - influence[top:bottom + 1, left:right + 1].sum() / total)


def effective_radius(influence, row, column, share=EFFECTIVE_SHARE):
    """Smallest distance from (row, column), in pixels, within which ``share`` of the influence lies.

    The influence is summed in rings of equal squared distance (whole numbers), which orders the
    pixels as sorting them by distance would, in a tenth of the time of the sort.
    """
    total = influence.sum()
    if total <= 0:
        return 0.0
    rows, columns = np.ogrid[:influence.shape[0], :influence.shape[1]]
    squared = ((rows - row) ** 2 + (columns - column) ** 2).ravel()
    reached = np.cumsum(np.bincount(squared, weights=np.ravel(influence))) / total
    return float(np.sqrt(np.searchsorted(reached, share - 1e-12)))


def farthest_reach(influence, row, column):
    """Distance in pixels to the farthest input pixel with any influence (0 when none has)."""
    rows, columns = np.nonzero(influence)
    if not len(rows):
        return 0.0
    return float(np.hypot(rows - row, columns - column).max())
