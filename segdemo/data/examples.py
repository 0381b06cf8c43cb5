"""The validation photos bundled with the app, with their ground truth for scoring uploads.

Each example is ``<id>.jpg`` plus ``<id>.<label set>.png`` whose grey level is the class
index + 1 (0 = unknown).  An upload is recognised as an example by the hash of its bytes,
so the Compare tab can score every model against the truth.
"""
import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from segdemo.data.view import file_digest
from segdemo.paths import ASSETS

EXAMPLES_ENV = "SEGDEMO_EXAMPLES"
BUNDLED = ASSETS / "examples"


def examples_dir():
    return Path(os.environ.get(EXAMPLES_ENV) or BUNDLED)


def list_examples():
    return sorted(str(path) for path in examples_dir().glob("*.jpg"))


@lru_cache(maxsize=4)
def _index(folder):
    return {file_digest(path): path for path in Path(folder).glob("*.jpg")}


def ground_truth_for(image_path, label_set):
    """The truth mask (int32, -1 unknown) when ``image_path`` is a bundled example, else None."""
    if not image_path or not Path(image_path).is_file():
        return None
    example = _index(str(examples_dir())).get(file_digest(image_path))
    truth = example and example.with_name(f"{example.stem}.{label_set}.png")
    if not truth or not truth.exists():
        return None
    return cv2.imread(str(truth), cv2.IMREAD_GRAYSCALE).astype(np.int32) - 1


def varied_ids(dataset, ids, count):
    """``count`` of ``ids`` chosen greedily so that together they show as many classes as possible.

    Each pick adds the photo with the most classes not yet shown (ties: more classes in
    all, then id order), so the gallery has water and mountains, not six streets.
    """
    subset = dataset.subset(ids)
    present = {i: set(np.unique(m[m >= 0]).tolist()) for i, m in zip(subset.ids, subset.masks)}
    chosen, shown = [], set()
    for _ in range(min(count, len(ids))):
        best = max((i for i in subset.ids if i not in chosen),
                   key=lambda i: (len(present[i] - shown), len(present[i]), -subset.ids.index(i)))
        chosen.append(best)
        shown |= present[best]
    return sorted(chosen)


def export_examples(dataset, ids, folder):
    """Write the photos and truth masks of ``ids`` from a loaded dataset into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    subset = dataset.subset(ids)
    for image_id, image, mask in zip(subset.ids, subset.images, subset.masks):
        cv2.imwrite(str(folder / f"{image_id}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 92])
        cv2.imwrite(str(folder / f"{image_id}.{dataset.label_set.name}.png"), (mask.astype(np.int16) + 1).astype(np.uint8))
    _index.cache_clear()
    return folder
