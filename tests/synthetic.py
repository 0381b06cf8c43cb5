"""A tiny dataset in Stanford Background's exact file layout, for tests that need some data.

Each scene is sky over grass with a road band and a red "foreground object" box at a
random place, with a few unknown (-1) pixels, so a small model can learn it in seconds.
"""
from pathlib import Path

import cv2
import numpy as np

SKY, TREE, ROAD, GRASS, FOREGROUND = 0, 1, 2, 3, 7
COLOURS = {SKY: (90, 150, 230), TREE: (30, 100, 30), ROAD: (90, 90, 90), GRASS: (60, 200, 60), FOREGROUND: (220, 30, 30)}
SURFACE_OF = {SKY: 0, TREE: 2, ROAD: 1, GRASS: 1, FOREGROUND: 2}


def scene(rng, height, width):
    labels = np.full((height, width), SKY, np.int32)
    horizon = rng.integers(height // 3, height // 2)
    labels[horizon:] = GRASS
    labels[horizon + (height - horizon) // 2 : horizon + (height - horizon) // 2 + height // 8] = ROAD
    labels[horizon - height // 10 : horizon, : width // 5] = TREE
    top, left = rng.integers(height // 4, height // 2), rng.integers(0, width // 2)
    labels[top : top + height // 4, left : left + width // 4] = FOREGROUND
    image = np.zeros((height, width, 3), np.uint8)
    for label, colour in COLOURS.items():
        image[labels == label] = colour
    noise = rng.integers(-12, 13, image.shape)
    image = np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)
    labels[0, :3] = -1  # unknown pixels, as in the real labels
    return image, labels


def write_matrix(path, matrix):
    path.write_text("\n".join(" ".join(str(v) for v in row) for row in matrix) + "\n")


def make_dataset(root, count=12, height=60, width=80, seed=0):
    """Write ``count`` scenes under ``root`` (images/, labels/, horizons.txt); return ``root``."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "labels").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    horizons = []
    for index in range(count):
        image_id = f"{1000 + index:07d}"
        h, w = height - (index % 3) * 4, width  # a few sizes, as in the real data
        image, regions = scene(rng, h, w)
        cv2.imwrite(str(root / "images" / f"{image_id}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 100])
        surfaces = np.vectorize(lambda v: SURFACE_OF.get(v, -1))(regions)
        write_matrix(root / "labels" / f"{image_id}.regions.txt", regions)
        write_matrix(root / "labels" / f"{image_id}.surfaces.txt", surfaces)
        write_matrix(root / "labels" / f"{image_id}.layers.txt", np.where(regions < 0, -1, regions + 1))
        horizons.append(f"{image_id} {w} {h} {h / 2:.1f}")
    (root / "horizons.txt").write_text("\n".join(horizons) + "\n")
    return root
