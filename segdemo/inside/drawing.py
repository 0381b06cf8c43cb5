"""The pictures of the Inside views, drawn with OpenCV at the network's input size."""
import cv2
import numpy as np

from segdemo.imaging import faded, heatmap

FIELD_COLOUR = (255, 255, 255)  # theoretical receptive field
WINDOW_COLOUR = (0, 220, 255)  # local window
RADIUS_COLOUR = (255, 170, 0)  # effective receptive field
POINT_COLOUR = (255, 40, 40)
CHANGED_COLOUR = (230, 30, 40)
TILE = (144, 192)  # (height, width) of one picture in a feature grid
GAP = 4


def display_influence(influence):
    """Influence scaled to [0, 1] for the eye: lightly blurred, the brightest 0.5% saturated, square root
    so the faint far-away part stays visible."""
    smooth = cv2.GaussianBlur(np.asarray(influence, np.float32), (0, 0), 1.5)
    top = np.percentile(smooth, 99.5)
    return np.sqrt(np.clip(smooth / top, 0, 1)) if top > 0 else smooth


def mark_point(picture, row, column):
    cv2.drawMarker(picture, (int(column), int(row)), POINT_COLOUR, cv2.MARKER_CROSS, 15, 2)
    return picture


def influence_picture(image, influence, field_box, window, point, radius):
    """Photo with the influence as colour, the field (white), local window (cyan), 90% circle (orange), the pixel (red)."""
    strength = display_influence(influence)[..., None]
    picture = (faded(image) * (1 - strength) + heatmap(strength[..., 0]) * strength).astype(np.uint8)
    top, left, bottom, right = field_box
    cv2.rectangle(picture, (left, top), (right, bottom), FIELD_COLOUR, 2)
    top, left, bottom, right = window
    cv2.rectangle(picture, (left, top), (right, bottom), WINDOW_COLOUR, 1)
    cv2.circle(picture, (int(point[1]), int(point[0])), max(int(round(radius)), 1), RADIUS_COLOUR, 2)
    return mark_point(picture, *point)


def probability_picture(probability):
    """One class's probability, 0 dark to 1 bright."""
    return heatmap(probability, 0.0, 1.0)


def entropy(probabilities):
    """Per-pixel entropy divided by its maximum log(C): 0 = certain, 1 = all classes equally likely."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)
    return (-(p * np.log(p)).sum(-1) / np.log(p.shape[-1])).astype(np.float32)


def most_active_channels(feature, count=3):
    """Indices of the ``count`` channels with the largest mean activation, largest first."""
    return [int(c) for c in np.argsort(-feature.reshape(-1, feature.shape[-1]).mean(0), kind="stable")[:count]]


def channel_grid(image, feature, channels):
    """The photo and up to three channels in a 2x2 grid of the photo's shape, each channel scaled to its own
    range and enlarged without smoothing, so a coarse map shows its coarse cells."""
    height, width = TILE
    tiles = [cv2.resize(np.asarray(image, np.uint8), (width, height), interpolation=cv2.INTER_AREA)]
    for channel in channels[:3]:
        values = feature[..., channel]
        low, high = float(values.min()), float(values.max())
        tiles.append(cv2.resize(heatmap(values, low, high if high > low else low + 1), (width, height),
                                interpolation=cv2.INTER_NEAREST))
    tiles += [np.full((height, width, 3), 255, np.uint8)] * (4 - len(tiles))
    gap = np.full((height, GAP, 3), 255, np.uint8)
    rows = [np.concatenate([tiles[i], gap, tiles[i + 1]], axis=1) for i in (0, 2)]
    return np.concatenate([rows[0], np.full((GAP, rows[0].shape[1], 3), 255, np.uint8), rows[1]], axis=0)


def pooled_grid_picture(image, pooled, channel, low, high):
    """PSPNet's pooled grid over the photo: each cell tinted by one channel's pooled value on the scale
    [low, high] shared by the four grids (so the 1x1 cell reads as the average of the finer ones), lines white."""
    height, width = image.shape[:2]
    rows, columns = pooled.shape[:2]
    cells = heatmap(pooled[..., channel], low, high if high > low else low + 1)
    tint = cv2.resize(cells, (width, height), interpolation=cv2.INTER_NEAREST)
    picture = cv2.addWeighted(np.asarray(image, np.uint8), 0.45, tint, 0.55, 0.0)
    for r in range(1, rows):
        cv2.line(picture, (0, r * height // rows), (width, r * height // rows), (255, 255, 255), 2)
    for c in range(1, columns):
        cv2.line(picture, (c * width // columns, 0), (c * width // columns, height), (255, 255, 255), 2)
    return picture


def changes_picture(hidden_image, mask, changed):
    """The photo as the network saw it (region greyed out, outlined), changed labels outside it in red."""
    picture = faded(hidden_image)
    picture[changed] = CHANGED_COLOUR
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(picture, contours, -1, (0, 0, 0), 2)
    return picture
